import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CodePipelineEmulator, pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * The daily digest of one Greenlight whose products live in several AWS accounts (docs/architecture.md,
 * "Many accounts and regions"): product shop in account A (eu-west-1), its prod env in account B
 * (us-west-2); product desk in account B; product blog in account C, whose role does not trust
 * Greenlight; product data only in Greenlight's own account, known by its pipelines' names. Both A
 * and B have a shop-cart. Every call crosses loopback through the real SDKs: STS's awsQuery for the
 * roles, CodePipeline's awsJson, routed to each account by the credentials it is signed with.
 */

const A = { account: '111122223333', region: 'eu-west-1' };
const B = { account: '444455556666', region: 'us-west-2' };
const C = { account: '777788889999', region: 'eu-central-1' };
const role = (account: string, name = 'GreenlightAccess') => `arn:aws:iam::${account}:role/${name}`;

const PRODUCTS = {
  shop: {
    ...A,
    roleArn: role(A.account),
    envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', ...B, roleArn: role(B.account) } },
  },
  desk: { ...B, roleArn: role(B.account) },
  // The STS of account C knows GreenlightAccess, not this role: it cannot be assumed.
  blog: { ...C, roleArn: role(C.account, 'SomeoneElsesRole') },
};

const DIGEST = SANDBOX_CHANNELS.digest;
const DAY = 24 * 60 * 60 * 1000;
/** Each test posts the digest of a day of its own (one digest a day); the clock moves a day per test. */
const START = new Date('2026-11-16T07:00:00Z');
let day = 0;
const nextDay = () => vi.setSystemTime(new Date(START.getTime() + ++day * DAY));

let world: World;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
  world = await startWorld({ accounts: [A, B, C], env: { PRODUCTS: JSON.stringify(PRODUCTS) } });
  for (const [place, names] of [
    [A, ['shop-cart', 'shop-search']],
    [B, ['shop-cart', 'desk-inbox']],
    [C, ['blog-web']],
  ] as const)
    for (const name of names)
      emulatorOf(place).createPipeline(
        pipelineDefinition(name, {
          ...place,
          accountId: place.account,
          // Greenlight's topic, in Greenlight's account: the approvals topic policy lets these accounts publish.
          notificationArn: `arn:aws:sns:${world.emulator.region}:${world.emulator.accountId}:greenlight-approvals`,
        }),
      );
  world.emulator.createPipeline(pipelineDefinition('data-etl', { region: world.emulator.region }));
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

function emulatorOf(place: { account: string; region: string }): CodePipelineEmulator {
  const emulator = world.accounts?.emulators.get(`${place.account}/${place.region}`);
  if (!emulator) throw new Error(`No emulator for ${place.account}/${place.region}`);
  return emulator;
}

/** Every mrkdwn text of a message's blocks (sections, their fields, contexts), line by line. */
function linesOf(message: SlackMessage): string[] {
  const texts: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const { type, text } = value as { type?: unknown; text?: unknown };
      if (type === 'mrkdwn' && typeof text === 'string') texts.push(text);
      Object.values(value).forEach(visit);
    }
  };
  visit(message.blocks ?? []);
  return texts.flatMap((text) => text.split('\n'));
}

/** The day's digest as people read it: the top message and its thread, line by line. */
async function postDigest(): Promise<{ result: unknown; text: string; lines: string[] }> {
  const before = world.slack.messages(DIGEST).length;
  const result = await world.handlers.dailyDigest({});
  const lines = world.slack.messages(DIGEST).slice(before).flatMap(linesOf);
  return { result, text: lines.join('\n'), lines };
}

/** The pipelines each call of `operation` asked `emulator` about, with the role whose credentials signed it. */
const readsOf = (emulator: CodePipelineEmulator, operation: string) =>
  emulator.calls(operation).map((call) => ({
    pipeline: (call.input as { name?: string; pipelineName?: string }).name ?? call.input.pipelineName,
    role: world.accounts?.sts.issued(call.accessKeyId ?? '')?.roleArn ?? 'not an assumed role',
  }));

const clearCalls = () => {
  world.emulator.clearCalls();
  for (const emulator of world.accounts?.emulators.values() ?? []) emulator.clearCalls();
};

describe('the daily digest across accounts', () => {
  it('shows the boards of products in two accounts, each read there through its own role', async () => {
    // Prepare
    nextDay();
    emulatorOf(A).commit('shop-cart', { revisionId: 'aaa1111', summary: 'Cart in A' });
    emulatorOf(B).commit('desk-inbox', { revisionId: 'bbb2222', summary: 'Inbox in B' });
    world.emulator.commit('data-etl', { revisionId: 'ddd4444', summary: 'ETL here' });
    await world.settle();
    clearCalls();

    // Act
    const { result, text } = await postDigest();

    // Assess
    expect(result).toBe('posted');
    expect(text).toContain('aaa1111');
    expect(text).toContain('bbb2222');
    expect(text).toContain('ddd4444');
    expect(text).toContain('*shop* _(111122223333 eu-west-1)_ · 2 services');
    expect(text).toContain('*desk* _(444455556666 us-west-2)_ · 1 service');
    expect(text).toContain('*shop* _(444455556666 us-west-2)_ · 1 service');
    expect(text).toContain('*data* · 1 service');
    // The digest only reads: it assumes each role as a session the role lets read and never approve.
    const sessions = [A, B].flatMap((place) =>
      emulatorOf(place)
        .calls()
        .map((call) => world.accounts?.sts.issued(call.accessKeyId ?? '')?.sessionName),
    );
    expect(sessions.length).toBeGreaterThan(0);
    expect(new Set(sessions)).toEqual(new Set(['greenlight-read']));
    // Shop is read in A, desk in B, each with the credentials of its role; data in Greenlight's own account.
    expect(readsOf(emulatorOf(A), 'GetPipelineState')).toEqual(
      expect.arrayContaining([
        { pipeline: 'shop-cart', role: role(A.account) },
        { pipeline: 'shop-search', role: role(A.account) },
      ]),
    );
    expect(
      readsOf(emulatorOf(A), 'ListPipelineExecutions')
        .map((read) => read.pipeline)
        .sort(),
    ).toEqual(['shop-cart', 'shop-search']);
    // Shop's prod lives in B: its shop-cart there is read in B too, for shop's board of that place.
    expect(
      readsOf(emulatorOf(B), 'GetPipelineState').sort((x, y) => String(x.pipeline).localeCompare(String(y.pipeline))),
    ).toEqual([
      { pipeline: 'desk-inbox', role: role(B.account) },
      { pipeline: 'shop-cart', role: role(B.account) },
    ]);
    expect(readsOf(world.emulator, 'GetPipelineState').map((read) => read.pipeline)).toEqual(['data-etl']);
    expect(readsOf(world.emulator, 'ListPipelineExecutions').map((read) => read.pipeline)).toEqual(['data-etl']);
    // Each account is listed once, and no pipeline's state is asked for twice.
    expect(emulatorOf(A).calls('ListPipelines')).toHaveLength(1);
    expect(emulatorOf(B).calls('ListPipelines')).toHaveLength(1);
    expect(world.emulator.calls('ListPipelines')).toHaveLength(1);
  });

  it('names the account it could not reach in one line, and posts the rest', async () => {
    // Prepare
    nextDay();
    clearCalls();
    const assumedBefore = world.accounts?.sts.calls('AssumeRole').length ?? 0;

    // Act
    const { result, text, lines } = await postDigest();

    // Assess
    expect(result).toBe('posted');
    const aboutC = lines.filter((line) => line.includes(C.account));
    expect(aboutC).toHaveLength(1);
    expect(aboutC[0]).toContain(`*blog*: Greenlight could not reach AWS account ${C.account} (${C.region})`);
    expect(text).toContain('aaa1111');
    expect(text).toContain('bbb2222');
    // Account C was tried through its role, which STS refused, and asked nothing. (How often the role
    // is tried is test/app/core/digest.test.ts's: here the SDK also retries once, correcting the skew
    // between this test's clock and the emulator's Date header.)
    const refused =
      world.accounts?.sts
        .calls('AssumeRole')
        .slice(assumedBefore)
        .filter((call) => !call.ok) ?? [];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toEqual(
      refused.map(() =>
        expect.objectContaining({ roleArn: role(C.account, 'SomeoneElsesRole'), error: 'AccessDenied' }),
      ),
    );
    expect(emulatorOf(C).calls()).toHaveLength(0);
  });

  it('tells two waiting shop-carts apart by their account, each checked where it waits', async () => {
    // Prepare
    nextDay();
    // shop-cart in A still waits in StagingDEV with aaa1111 (the first test's commit).
    emulatorOf(B).commit('shop-cart', { revisionId: 'bbb6666', summary: 'Cart change in B' });
    await world.settle();
    emulatorOf(B).answerInConsole('shop-cart', 'StagingDEV', 'Approved', 'Tested on DEV');
    await world.settle();
    clearCalls();

    // Act
    const { lines } = await postDigest();

    // Assess
    const waiting = lines.filter((line) => line.includes('shop-cart') && line.includes('waiting for'));
    expect(waiting).toHaveLength(2);
    expect(waiting.find((line) => line.includes('StagingDEV'))).toContain('_(111122223333 eu-west-1)_');
    expect(waiting.find((line) => line.includes('StagingDEV'))).toContain('aaa1111');
    expect(waiting.find((line) => line.includes('StagingQA'))).toContain('_(444455556666 us-west-2)_');
    expect(waiting.find((line) => line.includes('StagingQA'))).toContain('bbb6666');
    // B's shop-cart is not one of shop's board pipelines (shop lives in A), but its approval is checked in B.
    expect(readsOf(emulatorOf(B), 'GetPipelineState')).toContainEqual({
      pipeline: 'shop-cart',
      role: role(B.account),
    });
  });
});
