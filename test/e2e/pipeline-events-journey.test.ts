import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claim, STALE_CLAIM_MS, summaryHead } from '../../app/core/approval.ts';
import { dayOf } from '../../app/core/audit.ts';
import { ids } from '../../app/views/ids.ts';
import type { CodePipelineEvent } from '../../sandbox/codepipeline/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { confirm, productWaitsAt, release, releaseMessages, shownIn } from '../support/release-world.ts';
import {
  APPROVALS_CHANNEL,
  answerApproval,
  approvalMessages,
  auditStore,
  buttonsOf,
  currentMessage,
  pipelineWaitsForApproval,
  shown,
  type WaitingApproval,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * The change's journey in its approval's thread, and reminders before expiry (issue #12, parts 2
 * and 3), over loopback: dynalite, the CodePipeline emulator through the real SDK, the Slack
 * simulator. The world holds CodePipeline's events back, and each test delivers them to the real
 * pipeline-events handler itself: in order, reversed, twice, as EventBridge may.
 */

/** Products with reminder settings: `remind` calls its approvers 30 h ahead, `herald` has none and may call @here. */
const PRODUCTS = {
  remind: {
    reminderHours: 30,
    envs: { qa: { stage: 'StagingDEV', approvers: ['U0ALICE', 'S0RELEASERS'] }, prod: { stage: 'StagingQA' } },
  },
  herald: { remindHere: true },
};

const HOUR = 3_600_000;

let world: World;
/** How many of the emulator's events each test has delivered so far. */
let delivered = 0;

beforeAll(async () => {
  world = await startWorld({ pipelineEvents: false, env: { PRODUCTS: JSON.stringify(PRODUCTS) } });
});

afterAll(async () => {
  await world?.close();
});

/** The events emitted since the last call, for the test to deliver as it likes. */
function newEvents(): CodePipelineEvent[] {
  const all = world.emulator.pipelineEvents();
  const fresh = all.slice(delivered);
  delivered = all.length;
  return fresh;
}

/** `/release <args>` by Carol in #approvals, confirmed, and its work done. */
async function releaseAndConfirm(args: string): Promise<void> {
  await release(world, 'U0CAROL', APPROVALS_CHANNEL, args);
  await confirm(world, 'U0CAROL');
  await world.settle();
}

/** The lines of the latest release's progress message in #approvals, as Slack shows it now. */
function latestReleaseLines(): string {
  const progress = releaseMessages(world, APPROVALS_CHANNEL).at(-1);
  return shownIn((progress && world.slack.workspace.message(APPROVALS_CHANNEL, progress.ts)) ?? { blocks: [] });
}

const deliverInOrder = async (events: readonly CodePipelineEvent[]) => {
  for (const event of events) await world.handlers.pipelineEvents(event);
};

/** Each event twice at once, the last first. */
const deliverReversedTwice = async (events: readonly CodePipelineEvent[]) => {
  for (const event of [...events].reverse())
    await Promise.all([world.handlers.pipelineEvents(event), world.handlers.pipelineEvents(event)]);
};

/** An approval waiting in `stage`, with every event up to now delivered in order (as its STARTED links it). */
async function waiting(pipelineName: string, stage: 'StagingDEV' | 'StagingQA'): Promise<WaitingApproval> {
  const approval = await pipelineWaitsForApproval(world, pipelineName, stage);
  await deliverInOrder(newEvents());
  return approval;
}

/** Every reply Greenlight posted (or tried to) in the approval message's thread, oldest first. */
const threadOf = (approval: WaitingApproval): string[] =>
  world.slack
    .calls('chat.postMessage')
    .filter((call) => call.args.thread_ts === approval.message.ts)
    .map((call) => String(call.args.text));

async function approveInSlack(approval: WaitingApproval, user = 'U0ALICE'): Promise<void> {
  const click = await world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, ids.approve);
  expect(click.status).toBe(200);
  await world.settle();
}

/** The reminder schedule's event (an EventBridge scheduled rule), due now on the pipelines' clock. */
const scheduled = () => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: world.emulator.accountId,
  time: `${world.emulator.now().toISOString().slice(0, 19)}Z`,
  region: world.emulator.region,
  resources: [`arn:aws:events:${world.emulator.region}:${world.emulator.accountId}:rule/greenlight-reminders`],
  detail: {},
});

describe('the change’s journey in its approval’s thread', () => {
  it('posts StagingPROD started, succeeded and reached production once each, whatever the order and repeats', async () => {
    // Prepare: DEV is approved in the console (pipelineWaitsForApproval), QA waits in Slack
    const approval = await waiting('journey-ship', 'StagingQA');
    // Act: approve in Slack; the events after it come last first, each twice at once; then all again
    await approveInSlack(approval);
    const after = newEvents();
    await deliverReversedTwice(after);
    await world.settle();
    const first = threadOf(approval);
    await deliverReversedTwice(world.emulator.pipelineEvents().filter((e) => e.detail.pipeline === 'journey-ship'));
    await world.settle();
    // Assess
    expect(after.map((e) => `${e.detail.stage ?? 'pipeline'} ${e.detail.state}`)).toEqual(
      expect.arrayContaining(['StagingPROD STARTED', 'StagingPROD SUCCEEDED', 'pipeline SUCCEEDED']),
    );
    expect(first).toEqual([
      expect.stringMatching(/^⏳ StagingPROD started: deploying journey-ship$/),
      expect.stringMatching(/^✅ StagingPROD succeeded$/),
      expect.stringMatching(/^🚀 journey-ship reached production, \d+ s after approval$/),
    ]);
    expect(threadOf(approval)).toEqual(first);
    expect(first.join('\n')).not.toContain('<@');
  });

  it('posts a failed deploy once, naming the action with a console link, and mentions the approver once', async () => {
    // Prepare
    const approval = await waiting('journey-break', 'StagingQA');
    world.emulator.failNext('journey-break', 'StagingPROD', 'Deploy');
    // Act
    await approveInSlack(approval, 'U0BOB');
    const after = newEvents();
    await deliverReversedTwice(after);
    await deliverInOrder(after);
    await world.settle();
    // Assess
    const thread = threadOf(approval);
    expect(thread).toEqual([
      '⏳ StagingPROD started: deploying journey-break',
      expect.stringMatching(/^❌ StagingPROD action Deploy failed.*open in the AWS console.* <@U0BOB>$/),
    ]);
    expect(thread.join('\n').match(/<@U0BOB>/g)).toHaveLength(1);
    const failure = world.slack
      .calls('chat.postMessage')
      .find((call) => call.args.thread_ts === approval.message.ts && String(call.args.text).startsWith('❌'));
    expect(JSON.stringify(failure?.args.blocks)).toContain(
      `https://${world.emulator.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/journey-break/executions/`,
    );
  });

  it('posts nothing for an execution approved in the AWS console', async () => {
    // Prepare
    const approval = await waiting('journey-console', 'StagingQA');
    // Act
    world.emulator.answerInConsole('journey-console', 'StagingQA', 'Approved', 'Looks fine');
    await world.settle();
    await deliverReversedTwice(newEvents());
    await world.settle();
    // Assess: the message closed (part 1), and its thread stays empty
    expect(
      world.emulator
        .pipelineEvents()
        .some((e) => e.detail.pipeline === 'journey-console' && e.detail.stage === 'StagingPROD'),
    ).toBe(true);
    expect(threadOf(approval)).toEqual([]);
  });
  it('follows a DEV approval into StagingQA, and leaves QA’s rejection to QA’s own message', async () => {
    // Prepare
    const dev = await waiting('journey-reject', 'StagingDEV');
    // Act: DEV approved in Slack; QA deploys and tests, then is rejected in the console
    await approveInSlack(dev, 'U0ALICE');
    await deliverReversedTwice(newEvents());
    world.emulator.answerInConsole('journey-reject', 'StagingQA', 'Rejected', 'Not this week');
    await world.settle();
    await deliverReversedTwice(newEvents());
    await world.settle();
    // Assess
    expect(threadOf(dev)).toEqual(['⏳ StagingQA started: deploying journey-reject']);
  });
});

describe('a release’s progress message', () => {
  it('shows each released pipeline’s latest step on one line, and posts only a failure in its thread', async () => {
    // Prepare: two services of `ship` wait in StagingQA (DEV approved in the console)
    const waitingAt = await productWaitsAt(world, 'ship', ['web', 'api'], 'StagingQA');
    await deliverInOrder(newEvents());
    world.emulator.failNext('ship-api', 'StagingPROD', 'Deploy');
    // Act: /release ship prod, confirmed; then CodePipeline's events, last first and twice
    await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'ship prod');
    await confirm(world, 'U0CAROL');
    await deliverReversedTwice(newEvents());
    await world.settle();
    // Assess
    const lines = latestReleaseLines();
    expect(waitingAt.map((w) => w.pipelineName)).toEqual(['ship-web', 'ship-api']);
    expect(lines).toContain('`ship-web` · 🚀 reached production');
    expect(lines).toContain('`ship-api` · ❌ StagingPROD failed');
    const threadOfPipeline = (pipelineName: string) => {
      const message = approvalMessages(world).find((m) => m.text.includes(`${pipelineName} › StagingQA`));
      return message ? threadOf({ message } as WaitingApproval) : undefined;
    };
    const threads = ['ship-web', 'ship-api'].map(threadOfPipeline);
    // A release's threads hear only of a failure, which mentions who asked for the release.
    expect(threads).toEqual([[], [expect.stringMatching(/^❌ StagingPROD action Deploy failed.*<@U0CAROL>$/)]]);
  });
  it('says a released change waits for the next approval once its stage reached it, whatever the order', async () => {
    // Prepare: two services of `ferry` wait in StagingDEV
    await productWaitsAt(world, 'ferry', ['web', 'api'], 'StagingDEV');
    await deliverInOrder(newEvents());
    // Act: /release ferry qa; StagingQA deploys and its approval starts; the events come last first, twice
    await releaseAndConfirm('ferry qa');
    await deliverReversedTwice(newEvents());
    await world.settle();
    // Assess: not "deploying" until someone answers StagingQA's approval
    const lines = latestReleaseLines();
    expect(lines).toContain('`ferry-web` · ✋ waiting for approval in StagingQA');
    expect(lines).toContain('`ferry-api` · ✋ waiting for approval in StagingQA');
    expect(approvalMessages(world).filter((m) => /ferry-\w+ › StagingQA/.test(m.text))).toHaveLength(2);
  });
  it('says a released change stopped at the next approval once it is rejected or expires, whatever the order', async () => {
    // Prepare: two services of `barge` released to StagingQA, where each waits for its approval
    await productWaitsAt(world, 'barge', ['web', 'api'], 'StagingDEV');
    await deliverInOrder(newEvents());
    await releaseAndConfirm('barge qa');
    await deliverInOrder(newEvents());
    await world.settle();
    // Act: web's QA approval is rejected in the console; api's expires (7 days); the events come last first, twice
    world.emulator.answerInConsole('barge-web', 'StagingQA', 'Rejected', 'Not this week');
    world.emulator.advanceClock(7 * 24 * HOUR + 60_000);
    await world.settle();
    await deliverReversedTwice(newEvents());
    await world.settle();
    // Assess
    const lines = latestReleaseLines();
    const stillWaiting = world.emulator.pendingApprovals({ stageName: 'StagingQA' }).map((a) => a.pipelineName);
    expect(stillWaiting.filter((name) => name.startsWith('barge-'))).toEqual([]);
    expect(lines).toContain('`barge-web` · ⛔ stopped at the approval in StagingQA (see that approval’s message)');
    expect(lines).toContain('`barge-api` · ⛔ stopped at the approval in StagingQA (see that approval’s message)');
  });
});

describe('reminders before expiry', () => {
  it('reminds once, at the product’s lead time, however often the schedule fires, and calls its approvers', async () => {
    // Prepare: approvals expire after 7 days; `remind` reminds 30 h ahead, others 24 h
    const remind = await waiting('remind-cart', 'StagingDEV');
    const herald = await waiting('herald-web', 'StagingDEV');
    const plain = await waiting('plain-api', 'StagingDEV');
    // Act: 31 h before expiry nothing is due; 29 h before, `remind` is; 23 h before, all are
    world.emulator.advanceClock(137 * HOUR);
    await world.handlers.pipelineEvents(scheduled());
    const early = [threadOf(remind), threadOf(herald), threadOf(plain)];
    world.emulator.advanceClock(2 * HOUR);
    await Promise.all([world.handlers.pipelineEvents(scheduled()), world.handlers.pipelineEvents(scheduled())]);
    await world.handlers.pipelineEvents(scheduled());
    const atLeadTime = [threadOf(remind), threadOf(herald), threadOf(plain)];
    world.emulator.advanceClock(6 * HOUR);
    for (let run = 0; run < 3; run++) await world.handlers.pipelineEvents(scheduled());
    // Assess
    expect(early).toEqual([[], [], []]);
    expect(atLeadTime[0]).toEqual([
      expect.stringMatching(
        /^<@U0ALICE> <!subteam\^S0RELEASERS> remind-cart › StagingDEV still waits for approval and expires in 29 hours$/,
      ),
    ]);
    expect(atLeadTime.slice(1)).toEqual([[], []]);
    expect(threadOf(remind)).toEqual(atLeadTime[0]);
    expect(threadOf(herald)).toEqual([
      expect.stringMatching(/^<!here> herald-web › StagingDEV still waits for approval and expires in 23 hours$/),
    ]);
    expect(threadOf(plain)).toEqual([
      expect.stringMatching(/^plain-api › StagingDEV still waits for approval and expires in 23 hours$/),
    ]);
  });

  it('has the worker settle the approvals a click left deciding when its Lambda died: given back and reminded, or closed as CodePipeline took it', async () => {
    // Prepare: two approvals due for their reminder; a click on each claimed it two minutes ago and
    // its Lambda died: on `given-back` before PutApprovalResult, on `taken` after CodePipeline took it
    const givenBack = await waiting('given-back', 'StagingDEV');
    const taken = await waiting('taken', 'StagingDEV');
    world.emulator.advanceClock(7 * 24 * HOUR - 23 * HOUR);
    const store = await auditStore();
    const at = new Date(Date.now() - 2 * STALE_CLAIM_MS);
    const deadClick = (approval: WaitingApproval, who: string): Claim => ({
      verdict: 'approve',
      actor: { id: who, name: who, teamId: 'T0ACME', via: 'slack' },
      at,
      claimId: `dead-click-${approval.pipelineName}`,
      until: new Date(at.getTime() + STALE_CLAIM_MS),
    });
    await store.claim(givenBack.approvalId, deadClick(givenBack, 'U0ALICE'), at);
    const bob = deadClick(taken, 'U0BOB');
    await store.claim(taken.approvalId, bob, at);
    await answerApproval(world, taken, 'greenlight', { status: 'Approved', summary: summaryHead(bob) });
    // Act: the schedule fires twice at once (Lambda may run its event again), the worker settles what
    // it queued, and the schedule runs again
    await Promise.all([world.handlers.pipelineEvents(scheduled()), world.handlers.pipelineEvents(scheduled())]);
    await world.settle();
    await world.handlers.pipelineEvents(scheduled());
    await world.settle();
    // Assess: `given-back` waits again, is reminded once, and a click now decides it
    expect((await store.get(givenBack.approvalId))?.status).toBe('pending');
    expect(threadOf(givenBack)).toEqual([
      expect.stringMatching(/^given-back › StagingDEV still waits for approval and expires in 2[23] hours$/),
    ]);
    await world.slack.click('U0CAROL', APPROVALS_CHANNEL, givenBack.message.ts, ids.approve);
    await world.settle();
    expect((await store.get(givenBack.approvalId))?.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0CAROL' } },
    });
    // `taken` is closed as approved by Bob, who clicked, and its message says so
    expect((await store.get(taken.approvalId))?.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0BOB' } },
    });
    expect(buttonsOf(currentMessage(world, taken))).toEqual([]);
    expect(shown(currentMessage(world, taken))).toContain('<@U0BOB>');
    expect((await store.eventsForApproval(taken.approvalId)).filter((event) => event.type === 'outcome')).toHaveLength(
      1,
    );
    // Both attempts are in the audit of the day they were made
    const attempts = (await store.eventsForDay(dayOf(at))).filter(
      (event) => event.type === 'decision-attempted' && event.eventId.startsWith('dead-click-'),
    );
    expect(attempts.map((event) => event.eventId).sort()).toEqual(['dead-click-given-back', 'dead-click-taken']);
  });
});
