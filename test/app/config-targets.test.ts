import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { allTargets, productTargets, routeApproval, targetsFor } from '../../app/core/products.ts';
import { placeLabels } from '../../app/core/release-target.ts';
import { parseApprovalNotification } from '../../app/inbound/approval-notifications.ts';
import { readSettings, SettingsError } from '../../infra/config.ts';

/** Products in other accounts and regions (issue #15): accepted, refused naming product and field, and routed. */

const minimal = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', APPROVALS_CHANNEL: 'C0APPROVALS' };
const SHOP = {
  account: '111122223333',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::111122223333:role/GreenlightAccess',
};
/** Shop in SHOP's place, its prod env in account 444455556666 (us-west-2). */
const SHOP_WITH_PROD_ELSEWHERE = {
  ...SHOP,
  envs: {
    qa: { stage: 'StagingDEV' },
    prod: {
      stage: 'StagingQA',
      account: '444455556666',
      region: 'us-west-2',
      roleArn: 'arn:aws:iam::444455556666:role/GreenlightAccess',
    },
  },
};
const startWith = (products: unknown, env: Record<string, string> = { GREENLIGHT_EXTERNAL_ID: 'greenlight-ext' }) =>
  loadConfig({ ...minimal, ...env, PRODUCTS: JSON.stringify(products) });

describe('account, region and roleArn in PRODUCTS', () => {
  it("accepts the issue's example, and the external id", () => {
    // Act
    const config = startWith({ shop: SHOP });
    // Assess
    expect(config.products.shop).toEqual(SHOP);
    expect(config.externalId).toBe('greenlight-ext');
  });

  it('takes an env of its own in another account and region', () => {
    // Act
    const config = startWith({ shop: SHOP_WITH_PROD_ELSEWHERE });
    // Assess
    expect(targetsFor('shop', 'qa', config.products)).toEqual([SHOP]);
    expect(targetsFor('shop', 'prod', config.products)).toEqual([
      expect.objectContaining({ account: '444455556666', region: 'us-west-2' }),
    ]);
  });

  it.each([
    [
      'an account that is not 12 digits',
      { ...SHOP, account: '1111' },
      'product "shop" account: expected a 12-digit AWS account id',
    ],
    [
      'a region that is not one',
      { ...SHOP, region: 'Ireland' },
      'product "shop" region: expected an AWS region such as "eu-west-1"',
    ],
    ['no role', { account: SHOP.account, region: SHOP.region }, 'product "shop" roleArn: expected the ARN of the role'],
    [
      'a role in another account',
      { ...SHOP, roleArn: 'arn:aws:iam::999999999999:role/GreenlightAccess' },
      'product "shop" roleArn: the role is in account 999999999999, not in the product\'s account 111122223333',
    ],
    [
      'an env with half a target',
      { envs: { prod: { stage: 'StagingQA', account: SHOP.account } } },
      'product "shop" env "prod" region: expected an AWS region',
    ],
    ['a number for an account', { ...SHOP, account: 111122223333 }, 'shop.account:'],
  ])('refuses %s, naming the product and the field', (_case, shop, message) => {
    // Act / Assess
    expect(() => startWith({ shop })).toThrow(ConfigError);
    expect(() => startWith({ shop })).toThrow(message);
  });

  it('refuses two accounts for the same stage in one region, which notifications could not tell apart', () => {
    // Act / Assess
    expect(() =>
      startWith({
        shop: {
          ...SHOP,
          envs: {
            qa: { stage: 'StagingDEV' },
            hotfix: {
              stage: 'StagingDEV',
              ...SHOP,
              account: '444455556666',
              roleArn: 'arn:aws:iam::444455556666:role/X',
            },
          },
        },
      }),
    ).toThrow(/product "shop" env "hotfix" account: stage StagingDEV in eu-west-1 is already in account 111122223333/);
  });

  it("takes an env deployed to several places, and routes each place's approvals to its account", () => {
    // Prepare
    const US = {
      account: '444455556666',
      region: 'us-east-1',
      roleArn: 'arn:aws:iam::444455556666:role/GreenlightAccess',
    };
    // Act
    const config = startWith({
      shop: { envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', targets: [SHOP, US] } } },
    });
    // Assess
    expect(targetsFor('shop', 'prod', config.products)).toEqual([SHOP, US]);
    expect(targetsFor('shop', 'qa', config.products)).toEqual([]);
    expect(allTargets(config.products)).toEqual([SHOP, US]);
    const at = (region: string) =>
      routeApproval({ pipelineName: 'shop-cart', stageName: 'StagingQA', region }, config.products)?.account;
    expect([at('eu-west-1'), at('us-east-1'), at('us-west-2')]).toEqual([SHOP.account, US.account, undefined]);
  });

  it.each([
    ['targets beside an account', { ...SHOP, targets: [SHOP] }, 'product "shop" targets: give either account'],
    ['an empty list', { targets: [] }, 'product "shop" targets: expected a list of 1 to 20 places'],
    [
      'a place without its role',
      { targets: [SHOP, { account: '444455556666', region: 'us-east-1' }] },
      'shop.targets.1.roleArn:',
    ],
    [
      'a place listed twice',
      { envs: { prod: { stage: 'StagingQA', targets: [SHOP, SHOP] } } },
      'product "shop" env "prod" targets[1]: account 111122223333 in eu-west-1 is listed twice',
    ],
    [
      'a bad region in the second place',
      { targets: [SHOP, { ...SHOP, region: 'moon-1' }] },
      'product "shop" targets[1] region: expected an AWS region',
    ],
  ])('refuses %s in targets, naming the product and the place', (_case, shop, message) => {
    // Act / Assess
    expect(() => startWith({ shop })).toThrow(message);
  });

  it("refuses a product that names Greenlight's own account (GREENLIGHT_ACCOUNT_ID)", () => {
    // Act / Assess
    expect(() =>
      startWith({ shop: SHOP }, { GREENLIGHT_EXTERNAL_ID: 'greenlight-ext', GREENLIGHT_ACCOUNT_ID: SHOP.account }),
    ).toThrow(`product "shop" account: ${SHOP.account} is Greenlight's own account`);
    expect(
      startWith({ shop: SHOP }, { GREENLIGHT_EXTERNAL_ID: 'greenlight-ext', GREENLIGHT_ACCOUNT_ID: '999999999999' })
        .products.shop,
    ).toEqual(SHOP);
  });

  it('asks for GREENLIGHT_EXTERNAL_ID when a product names a role', () => {
    // Act / Assess
    expect(() => startWith({ shop: SHOP }, {})).toThrow('GREENLIGHT_EXTERNAL_ID is required');
  });
});

describe('routing an approval to its account', () => {
  const products = { shop: SHOP_WITH_PROD_ELSEWHERE };

  it('routes by region, pipeline and stage, never by name alone', () => {
    // Act
    const dev = routeApproval({ pipelineName: 'shop-cart', stageName: 'StagingDEV', region: 'eu-west-1' }, products);
    const prod = routeApproval({ pipelineName: 'shop-cart', stageName: 'StagingQA', region: 'us-west-2' }, products);
    const local = routeApproval({ pipelineName: 'shop-cart', stageName: 'StagingDEV', region: 'us-east-2' }, products);
    const other = routeApproval({ pipelineName: 'blog-web', stageName: 'StagingDEV', region: 'eu-west-1' }, products);
    // Assess
    expect(dev?.account).toBe('111122223333');
    expect(prod?.account).toBe('444455556666');
    expect(local).toBeUndefined();
    expect(other).toBeUndefined();
  });

  it('gives the same token in two accounts two approval ids, and keeps the ids of local approvals', () => {
    // Prepare
    const message = (region: string, stageName: string) =>
      JSON.stringify({
        region,
        consoleLink: `https://console.aws.amazon.com/codepipeline/home?region=${region}#/view/shop-cart`,
        approval: {
          pipelineName: 'shop-cart',
          stageName,
          actionName: 'Approve',
          token: '1a2b3c4d-573f-4ea7-a67e-0123456789ab',
          expires: '2026-12-04T20:22Z',
          externalEntityLink: null,
          approvalReviewLink: null,
          customData: null,
        },
      });
    const now = new Date('2026-11-27T20:22:00Z');
    // Act
    const inA = parseApprovalNotification(message('eu-west-1', 'StagingDEV'), now, products);
    const inB = parseApprovalNotification(message('us-west-2', 'StagingQA'), now, products);
    const local = parseApprovalNotification(message('us-east-2', 'StagingDEV'), now, products);
    const unconfigured = parseApprovalNotification(message('us-east-2', 'StagingDEV'), now);
    // Assess
    if (!inA.ok || !inB.ok || !local.ok || !unconfigured.ok) throw new Error('not parsed');
    expect(inA.request).toMatchObject({ account: '111122223333', region: 'eu-west-1' });
    expect(inB.request).toMatchObject({ account: '444455556666', region: 'us-west-2' });
    expect(local.request.account).toBeUndefined();
    expect(new Set([inA.request.id, inB.request.id, local.request.id]).size).toBe(3);
    expect(local.request.id).toBe(unconfigured.request.id);
  });
});

describe("a product's places, for its boards", () => {
  it("lists each place once, with Greenlight's own where an env has none", () => {
    // Prepare
    const US = { account: '444455556666', region: 'us-east-1', roleArn: 'arn:aws:iam::444455556666:role/G' };
    const products = {
      shop: { envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', targets: [SHOP, US] } } },
      desk: { ...SHOP },
      // Every env names its own place; the product's own still holds what no env's stage names.
      ops: { ...SHOP, envs: { prod: { stage: 'StagingQA', targets: [US] } } },
    };
    // Act / Assess
    expect(productTargets('shop', products)).toEqual([undefined, SHOP, US]);
    expect(productTargets('desk', products)).toEqual([SHOP]);
    expect(productTargets('ops', products)).toEqual([SHOP, US]);
    expect(productTargets('blog', products)).toEqual([undefined]);
  });

  it('tells places apart by region, and by account too where two share a region', () => {
    // Act / Assess
    expect(placeLabels([{ region: 'eu-west-1' }, { region: 'us-east-1', account: '444455556666' }])).toEqual([
      'eu-west-1',
      'us-east-1',
    ]);
    expect(placeLabels([{ region: 'eu-west-1' }, { region: 'eu-west-1', account: '444455556666' }])).toEqual([
      "Greenlight's account eu-west-1",
      'account 444455556666 eu-west-1',
    ]);
  });
});

describe('start and synth refuse the same targets', () => {
  const readAtSynth = (shop: unknown) =>
    readSettings((key) =>
      key === 'products' ? JSON.stringify({ shop }) : key === 'externalId' ? 'ext-id' : undefined,
    );

  it.each([
    ['targets that are not a list', { targets: 'x' }],
    ['targets that are an object', { targets: {} }],
    ['a place that is null', { targets: [null] }],
    ['a place with a field of its own', { targets: [{ ...SHOP, extra: 1 }] }],
    ['an env with a misspelt field', { envs: { prod: { stage: 'StagingQA', target: [SHOP] } } }],
    ['an env whose targets are not a list', { envs: { prod: { stage: 'StagingQA', targets: 'x' } } }],
  ])('refuses %s at start and at synth, each with a message', (_case, shop) => {
    // Act / Assess
    expect(() => startWith({ shop })).toThrow(ConfigError);
    expect(() => readAtSynth(shop)).toThrow(SettingsError);
  });
});

describe('one role per account and region', () => {
  it('refuses two roles for one account and region, at start and at synth', () => {
    // Prepare
    const products = { shop: SHOP, blog: { ...SHOP, roleArn: 'arn:aws:iam::111122223333:role/Other' } };
    // Act / Assess
    expect(() => startWith(products)).toThrow('account 111122223333 in eu-west-1 is given two roles');
    expect(() =>
      readSettings((key) =>
        key === 'products' ? JSON.stringify(products) : key === 'externalId' ? 'ext-id' : undefined,
      ),
    ).toThrow('account 111122223333 in eu-west-1 is given two roles');
  });
});
