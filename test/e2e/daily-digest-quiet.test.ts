import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { ids } from '../../app/views/ids.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { APPROVALS_CHANNEL, approvalMessages, messageApprovalId, shown } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const DIGEST = SANDBOX_CHANNELS.digest;
const HOUR = 60 * 60 * 1000;
const MONDAY = new Date('2026-11-16T07:00:00Z');

let world: World;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(MONDAY);
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

const topLevel = () => world.slack.messages(DIGEST).filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts);

async function approveInSlack(pipelineName: string, stageName: string): Promise<void> {
  const [pending] = world.emulator.pendingApprovals({ pipelineName, stageName });
  const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalIdFor(pending?.token ?? ''));
  if (!message) throw new Error(`No approval message for ${pipelineName} › ${stageName}`);
  await world.slack.click('U0ALICE', APPROVALS_CHANNEL, message.ts, ids.approve);
  await world.settle();
}

describe('a quiet day', () => {
  it('gets a short all-clear when there is nothing at all, not silence', async () => {
    // Act
    const result = await world.handlers.dailyDigest({});

    // Assess
    expect(result).toBe('posted');
    expect(world.slack.messages(DIGEST)).toHaveLength(1);
    const [post] = world.slack.messages(DIGEST);
    expect(post?.text).toBe('Daily digest 2026-11-16: all clear');
    // The first digest ever: the 24 hours before it
    expect(shown(post as SlackMessage)).toContain(
      '*All clear.* Nothing waits for approval and nothing was decided since <!date^1794726000^{date_long_pretty} at {time}|2026-11-15 07:00 UTC>.',
    );
  });

  it('keeps the all-clear short when products exist, their boards and metrics in the thread', async () => {
    // Prepare: on Tuesday a change went all the way to production, and Wednesday's digest said so;
    // on Thursday the digest has nothing new to say
    vi.setSystemTime(new Date(MONDAY.getTime() + 24 * HOUR));
    world.emulator.createPipeline(pipelineDefinition('shop-cart', { region: world.emulator.region }));
    world.emulator.commit('shop-cart', { revisionId: 'c1', summary: 'First' });
    await world.settle();
    vi.setSystemTime(new Date(MONDAY.getTime() + 25 * HOUR));
    await approveInSlack('shop-cart', 'StagingDEV');
    vi.setSystemTime(new Date(MONDAY.getTime() + 27 * HOUR));
    await approveInSlack('shop-cart', 'StagingQA');
    vi.setSystemTime(new Date(MONDAY.getTime() + 48 * HOUR));
    expect(await world.handlers.dailyDigest({})).toBe('posted');
    expect(topLevel().at(-1)?.text).toBe(
      'Daily digest 2026-11-18: 0 waiting for approval, 2 decided since 2026-11-16 07:00 UTC',
    );
    vi.setSystemTime(new Date(MONDAY.getTime() + 72 * HOUR));

    // Act
    const result = await world.handlers.dailyDigest({});

    // Assess
    expect(result).toBe('posted');
    const top = topLevel().at(-1) as SlackMessage;
    expect(top.text).toBe('Daily digest 2026-11-19: all clear');
    expect(top.blocks?.length).toBeLessThanOrEqual(4);
    expect(shown(top)).toContain('Boards and delivery metrics of 1 product are in the thread.');
    const inThread = world.slack.messages(DIGEST).filter((m) => m.thread_ts === top.ts && m.ts !== top.ts);
    // One reply of text, and the delivery chart shared as a file beside it.
    const thread = inThread.filter((m) => !m.files?.length);
    expect(thread).toHaveLength(1);
    expect(inThread.filter((m) => m.files?.length)).toHaveLength(1);
    const replies = thread.map(shown).join('\n');
    expect(replies).toContain(
      '*cart*  Source `c1` ✅ · Build `c1` ✅ · StagingDEV `c1` ✅ · StagingQA `c1` ✅ · StagingPROD `c1` ✅',
    );
    expect(replies).toContain('*Deployments to production*\\n7 d: 1 (before: 0)');
    expect(replies).toContain('*Lead time*\\n7 d: 3 h (before: –)');
    expect(replies).toContain('*Approval wait p50 / p90*\\n7 d: 1 h / 2 h (before: –)');
  });
});
