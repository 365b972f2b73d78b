import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { blockProblems, blocksTextLength, MAX_BLOCKS_TEXT } from '../../sandbox/slack/block-kit.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { release, shownIn } from '../support/release-world.ts';
import { approvalMessages } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/**
 * Products of 50, 100, 200 and 500 services through the whole loopback world: the daily digest's
 * thread and `/release <product> status` reach the Slack simulator, which refuses what Slack refuses
 * (every block's limits, and msg_blocks_too_long for more than 12,000 characters of text in all).
 */

const DIGEST = SANDBOX_CHANNELS.digest;
const APPROVALS = SANDBOX_CHANNELS.approvals;
const NOW = new Date('2026-11-20T07:00:00Z');
const PRODUCTS = { fifty: 50, hundred: 100, twohundred: 200, fivehundred: 500 } as const;

let world: World;
const pipelines: Record<string, string[]> = {};

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW.getTime() - 3 * 60 * 60 * 1000));
  // The board is read at the release rate (default 8 calls a second): as fast as allowed, for 500 pipelines.
  world = await startWorld({ env: { RELEASE_RATE_PER_SECOND: '100' } });
  for (const [product, count] of Object.entries(PRODUCTS))
    pipelines[product] = world.emulator.createPipelines(product, count);
  // A change in every pipeline of the smallest product, waiting for approval in DEV; the rest are idle.
  for (const name of pipelines.fifty ?? [])
    world.emulator.commit(name, { revisionId: `${name}-r1`, summary: 'A change' });
  await world.settle();
  vi.setSystemTime(NOW);
}, 60_000);

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

/** What Slack would refuse of a message as stored: nothing, or why. */
const refused = (message: { blocks?: unknown[] }) => {
  const blocks = message.blocks ?? [];
  const problems = blockProblems(blocks, 'message');
  if (blocksTextLength(blocks) > MAX_BLOCKS_TEXT) problems.push('msg_blocks_too_long');
  return problems;
};

/** Every message call the app made from the `since`-th call on that Slack refused. */
const refusals = (since: number) =>
  world.slack
    .calls()
    .slice(since)
    .filter((call) => /^chat\.|^response_url$/.test(call.method) && call.response.ok !== true)
    .map((call) => `${call.method}: ${String(call.response.error)}`);

describe('products of 50, 100, 200 and 500 services', () => {
  it('posts the digest as a thread Slack accepts message by message, every service once', async () => {
    // Prepare
    expect(approvalMessages(world)).toHaveLength(50);
    const since = world.slack.calls().length;
    world.emulator.clearCalls();

    // Act
    const result = await world.handlers.dailyDigest({});

    // Assess: posted, nothing refused, and each message within the limits
    expect(result).toBe('posted');
    expect(refusals(since)).toEqual([]);
    const [top, ...others] = world.slack.messages(DIGEST);
    if (!top) throw new Error('No digest was posted');
    const replies: SlackMessage[] = others.filter((m) => m.thread_ts === top.ts);
    expect(replies).toHaveLength(others.length);
    for (const message of [top, ...replies]) expect(refused(message)).toEqual([]);
    // 850 services do not fit a message, nor a few: the thread runs on over many replies.
    expect(replies.length).toBeGreaterThanOrEqual(8);
    const everything = [top, ...replies].map((m) => JSON.stringify(m.blocks)).join('\n');
    // Services are numbered alike in every product (`0001` …): each shows once per product that has it.
    const products = new Map<string, number>();
    for (const name of Object.values(pipelines).flat()) {
      const service = name.slice(name.indexOf('-') + 1);
      products.set(service, (products.get(service) ?? 0) + 1);
    }
    for (const [service, count] of products) expect(everything.split(`*${service}*  `).length - 1).toBe(count);
    expect(everything.split('|approval message>')).toHaveLength(51);
    // Every call once: each pipeline's pages and state, the stages' revisions from the executions
    // listed (no GetPipelineExecution), and one permalink from Slack for the 50 approval messages.
    const calls = world.emulator.calls().filter((call) => call.error !== 'ThrottlingException');
    const inputs = calls.map((call) => `${call.operation} ${JSON.stringify(call.input)}`);
    expect(new Set(inputs).size).toBe(inputs.length);
    expect(calls.filter((call) => call.operation === 'GetPipelineState')).toHaveLength(850);
    expect(calls.filter((call) => call.operation === 'GetPipelineExecution')).toEqual([]);
    const permalinks = world.slack
      .calls()
      .slice(since)
      .filter((call) => call.method === 'chat.getPermalink');
    expect(permalinks).toHaveLength(1);
  }, 60_000);

  it.each(Object.entries(PRODUCTS))(
    'shows the board of %s (%i services) to whoever asks, as Slack accepts it',
    async (product, services) => {
      // Prepare
      const before = world.slack.ephemerals(APPROVALS, 'U0BOB').length;
      const since = world.slack.calls().length;

      // Act
      const answer = await release(world, 'U0BOB', APPROVALS, `${product} status`);

      // Assess: the command answered in time, the worker's board went through the response_url
      expect(answer.elapsedMs).toBeLessThan(3000);
      expect(refusals(since)).toEqual([]);
      const shown = world.slack.ephemerals(APPROVALS, 'U0BOB').slice(before);
      expect(shown.map((e) => e.text)).toEqual([
        `Reading the ${services} pipelines of *${product}*; the board follows here in a moment.`,
        expect.stringMatching(new RegExp(`^${product}: ${services} pipelines, \\d+ waiting for approval$`)),
      ]);
      const board = shown[1] ?? {};
      expect(refused(board)).toEqual([]);
      const lines = (shownIn(board).match(/\*\d{4}\* {2}/g) ?? []).length;
      const more = Number(/…and (\d+) more services? not shown/.exec(shownIn(board))?.[1] ?? 0);
      expect(lines + more).toBe(services);
    },
    30_000,
  );

  it('previews the digest of all of them to whoever asks, as Slack accepts it', async () => {
    // Prepare
    const before = world.slack.ephemerals(APPROVALS, 'U0DAVE').length;
    const since = world.slack.calls().length;

    // Act
    const answer = await release(world, 'U0DAVE', APPROVALS, 'digest');

    // Assess
    expect(answer.elapsedMs).toBeLessThan(3000);
    expect(refusals(since)).toEqual([]);
    const shown = world.slack.ephemerals(APPROVALS, 'U0DAVE').slice(before);
    expect(shown).toHaveLength(2);
    expect(refused(shown[1] ?? {})).toEqual([]);
    expect(shownIn(shown[1] ?? {})).toMatch(
      /A preview only you can see\. In the channel, \d+ replies in its thread hold the rest\./,
    );
  }, 30_000);
});
