import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { blockProblems } from '../../sandbox/slack/block-kit.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { approvalMessages } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const DIGEST = SANDBOX_CHANNELS.digest;
const NOW = new Date('2026-11-20T07:00:00Z');
/** 200 pipelines in five products, each with a change waiting for approval in DEV. */
const PRODUCTS = { alpha: 60, beta: 50, gamma: 40, delta: 30, omega: 20 } as const;

let world: World;
let pipelines: string[];

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW.getTime() - 3 * 60 * 60 * 1000));
  world = await startWorld();
  pipelines = Object.entries(PRODUCTS).flatMap(([product, count]) => world.emulator.createPipelines(product, count));
  // A few at a time, as changes arrive in life (200 notifications at once would be a load test).
  for (let i = 0; i < pipelines.length; i += 20) {
    for (const name of pipelines.slice(i, i + 20))
      world.emulator.commit(name, { revisionId: `${name}-r1`, summary: 'A change' });
    await world.settle();
  }
  vi.setSystemTime(NOW);
}, 30_000);

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

it('posts 200 pipelines within Block Kit’s limits: the top of each list, the rest in the thread', async () => {
  // Prepare
  expect(approvalMessages(world)).toHaveLength(200);

  // Act
  const result = await world.handlers.dailyDigest({});

  // Assess: one top message and its thread replies, each within the limits Slack enforces
  expect(result).toBe('posted');
  const [top, ...others] = world.slack.messages(DIGEST);
  if (!top) throw new Error('No digest was posted');
  const replies = others.filter((m) => m.thread_ts === top.ts);
  expect(replies).toHaveLength(others.length);
  expect(replies.length).toBeGreaterThan(0);
  for (const message of [top, ...replies]) {
    expect(message.blocks?.length ?? 0).toBeLessThanOrEqual(50);
    expect(blockProblems(message.blocks ?? [], 'message')).toEqual([]);
  }
  const topText = JSON.stringify(top.blocks);
  expect(topText).toContain('*200* waiting');
  expect(topText).toContain('…and 192 more in the thread.');
  expect(topText).toContain('…and 1 more product in the thread.');
  expect(topText).toContain('…and 54 more services in the thread.');
  // every waiting approval and every service is shown once, on top or in the thread
  const everything = [top, ...replies].map((m) => JSON.stringify(m.blocks)).join('\n');
  for (const name of pipelines) {
    expect(everything.split(`|${name}> › StagingDEV*`)).toHaveLength(2);
    const service = name.slice(name.indexOf('-') + 1);
    expect(everything.split(`*${service}*  Source \`${name.slice(0, 7)}\``)).toHaveLength(2);
  }
  expect(everything.split('|approval message>')).toHaveLength(201);
});
