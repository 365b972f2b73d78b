import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { readSettings, SettingsError } from '../../infra/config.ts';

/** The configuration shape of issue 13, which must be accepted as it is. */
const issueShape = {
  shop: {
    approvers: ['S0RELEASERS'],
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: {
        stage: 'StagingQA',
        approvers: ['S0RELEASERS', 'U0LEAD0001'],
        required: 2,
        separateFrom: ['qa'],
        freezes: [
          { weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' },
          { from: '2026-12-21T00:00', to: '2027-01-04T08:00', timeZone: 'Europe/Berlin', reason: 'Holiday freeze' },
        ],
        breakGlass: ['S0ONCALL'],
      },
    },
  },
};

const env = (products: unknown) => ({
  SLACK_BOT_TOKEN: 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  APPROVALS_CHANNEL: 'C0APPROVALS',
  PRODUCTS: JSON.stringify(products),
});

const withProd = (prod: Record<string, unknown>) => ({
  shop: { envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', ...prod } } },
});

function startFailure(products: unknown): string {
  try {
    loadConfig(env(products));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the rules');
}

function synthFailure(products: unknown): string {
  try {
    readSettings((key) => (key === 'products' ? JSON.stringify(products) : undefined));
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error('readSettings accepted the rules');
}

describe('approval rules in the product configuration', () => {
  it('accepts the shape of issue 13 at start and at synth, and passes it on as it is', () => {
    expect(loadConfig(env(issueShape)).products).toEqual(issueShape);
    expect(readSettings((key) => (key === 'products' ? JSON.stringify(issueShape) : undefined)).products).toEqual(
      issueShape,
    );
  });

  it.each([
    [{ approvers: ['U0ALICE', 'releasers'] }, 'product "shop" env "prod" approvers: "releasers" is neither'],
    [{ approvers: ['U0ALICE'], required: 2 }, 'env "prod" required: 2 approvals required but only 1 people'],
    [
      { freezes: [{ from: '2027-01-04T08:00', to: '2026-12-21T00:00', timeZone: 'Europe/Berlin' }] },
      'env "prod" freezes[0]: ends (2026-12-21T00:00) before it starts',
    ],
    [
      {
        freezes: [
          { weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin' },
          { weekly: { from: 'Mon 07:00', to: 'Mon 09:00' }, timeZone: 'Europe/Berlin' },
        ],
      },
      'env "prod" freezes[1]: overlaps freezes[0]',
    ],
    [
      { freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlln' }] },
      'env "prod" freezes[0].timeZone: unknown IANA time zone "Europe/Berlln"',
    ],
  ])('refuses a bad rule at start and at synth, naming product, env and field (%#)', (prod, expected) => {
    expect(startFailure(withProd(prod))).toContain(expected);
    expect(synthFailure(withProd(prod))).toContain(expected);
  });

  it('refuses an unknown field, naming where it is', () => {
    expect(startFailure(withProd({ approver: ['U0ALICE'] }))).toContain('shop.envs.prod');
  });
});
