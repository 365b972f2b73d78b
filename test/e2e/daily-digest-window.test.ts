import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { scheduledEvent } from '../fixtures/scheduler-events.ts';
import { APPROVALS_CHANNEL, pipelineWaitsForApproval, shown } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * The digest on its default schedule, weekdays at 08:00 in Berlin (07:00 UTC in December), invoked
 * as EventBridge Scheduler invokes it, through the real handler, DynamoDB, the CodePipeline emulator
 * and the Slack simulator. shop's prod is frozen at weekends; On-call (Carol) may break glass.
 */
const PRODUCTS = {
  shop: {
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: {
        stage: 'StagingQA',
        freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' }],
        breakGlass: ['S0ONCALL'],
      },
    },
  },
};

const DIGEST = SANDBOX_CHANNELS.digest;
const THURSDAY = '2026-12-03T07:00:00Z';
const FRIDAY = '2026-12-04T07:00:00Z';
const MONDAY = '2026-12-07T07:00:00Z';
const TUESDAY = '2026-12-08T07:00:00Z';

let world: World;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(THURSDAY));
  world = await startWorld({ env: { PRODUCTS: JSON.stringify(PRODUCTS) } });
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

/** Every process clock (emulator, Slack, DynamoDB, the handlers) reads this fixed time. */
const setClock = (iso: string) => vi.setSystemTime(new Date(iso));

const digests = () =>
  world.slack.messages(DIGEST).filter((m) => (m.thread_ts === undefined || m.thread_ts === m.ts) && !m.files);

/** The run the Scheduler makes for `scheduledFor`, delivered at `deliveredAt` (on time by default). */
function scheduledRun(scheduledFor: string, deliveredAt = scheduledFor, executionId = 'd32c5kddcf5bb8c3') {
  setClock(deliveredAt);
  return world.handlers.dailyDigest(scheduledEvent(scheduledFor, executionId));
}

async function approveInSlack(pipelineName: string, user: string, when: string): Promise<void> {
  setClock(when);
  const approval = await pipelineWaitsForApproval(world, pipelineName, 'StagingDEV');
  await world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, ids.approve);
  await world.settle();
}

const slackDate = (iso: string) =>
  `<!date^${Date.parse(iso) / 1000}^{date_long_pretty} at {time}|${iso.replace('T', ' ').slice(0, 16)} UTC>`;

describe('the digest after a weekend', () => {
  it('lists every decision once, in the first digest after it, whenever its run is retried', async () => {
    // Prepare: Thursday's and Friday's digests go out; then Bob approves on Friday morning and Carol
    // breaks glass on Saturday. Monday's run fails (Greenlight was taken out of the channel), Alice
    // approves at 08:20 Berlin time, and the Scheduler's retry comes at 08:40.
    expect(await scheduledRun(THURSDAY)).toBe('posted');
    await approveInSlack('shop-cart', 'U0ALICE', '2026-12-03T12:00:00Z');
    expect(await scheduledRun(FRIDAY)).toBe('posted');
    await approveInSlack('shop-catalog', 'U0BOB', '2026-12-04T10:00:00Z');
    setClock('2026-12-05T11:00:00Z');
    const frozen = await pipelineWaitsForApproval(world, 'shop-payments', 'StagingQA');
    const opened = await world.slack.click('U0CAROL', APPROVALS_CHANNEL, frozen.message.ts, ids.breakGlass);
    await world.slack.submitView('U0CAROL', opened.views.at(-1)?.view.id ?? '', {
      [ids.reasonBlock]: 'Checkout outage, INC-1234',
    });
    await world.settle();
    world.slack.workspace.leave(DIGEST, world.slack.workspace.bot.userId);
    const failed = await scheduledRun(MONDAY, '2026-12-07T07:00:05Z').catch((error: unknown) => error);
    world.slack.workspace.join(DIGEST, world.slack.workspace.bot.userId);
    await approveInSlack('shop-search', 'U0ALICE', '2026-12-07T07:20:00Z');

    // Act
    const retry = await scheduledRun(MONDAY, '2026-12-07T07:40:00Z', 'e43d6leedg6cc9d4');
    const repeat = await scheduledRun(MONDAY, '2026-12-07T07:45:00Z', 'f54e7mffeh7dd0e5');
    const tuesday = await scheduledRun(TUESDAY);

    // Assess
    expect(String(failed)).toContain('not_in_channel');
    expect([retry, repeat, tuesday]).toEqual(['posted', 'already-posted', 'posted']);
    const [thursdayPost, fridayPost, mondayPost, tuesdayPost, ...more] = digests().map((m) => shown(m as SlackMessage));
    expect(more).toEqual([]);
    // Each decision in exactly one digest
    const posts = [thursdayPost, fridayPost, mondayPost, tuesdayPost];
    for (const line of [
      '*shop-cart › StagingDEV* approved',
      '*shop-catalog › StagingDEV* approved',
      '*shop-payments › StagingQA* approved',
      '*shop-search › StagingDEV* approved',
    ])
      expect(posts.filter((post) => post?.includes(line)).length, line).toBe(1);
    // Monday's digest covers Friday 08:00 to Monday 08:00, its day's, however late it ran
    expect(mondayPost).toContain(`Daily digest 2026-12-07: `);
    expect(mondayPost).toContain(`Decided since ${slackDate(FRIDAY)}* (3)`);
    expect(mondayPost).toContain('*shop-catalog › StagingDEV* approved by <@U0BOB>');
    expect(mondayPost).toContain(
      '*shop-payments › StagingQA* approved by <@U0CAROL> 45 hours ago · ❄️ freeze override (Weekend)',
    );
    expect(mondayPost).toContain('*shop-payments › StagingDEV* approved outside Slack');
    expect(tuesdayPost).toContain(`Decided since ${slackDate(MONDAY)}* (1)`);
    expect(tuesdayPost).toContain('*shop-search › StagingDEV* approved by <@U0ALICE>');
    expect(fridayPost).toContain(`Decided since ${slackDate(THURSDAY)}* (1)`);
  });
});
