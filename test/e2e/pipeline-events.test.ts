import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  answerApproval,
  auditOf,
  auditStore,
  buttonsOf,
  currentMessage,
  pipelineWaitsForApproval,
  shown,
  type WaitingApproval,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/** How soon a message must show how its approval ended once CodePipeline changed (issue #12). */
const WITHIN_MS = 2_000;

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
});

/** Waits until the approval's message offers no buttons any more; answers how long that took. */
async function messageCloses(approval: WaitingApproval): Promise<{ message: SlackMessage; elapsedMs: number }> {
  const started = performance.now();
  for (;;) {
    const message = currentMessage(world, approval);
    const elapsedMs = performance.now() - started;
    if (buttonsOf(message).length === 0) return { message, elapsedMs };
    if (elapsedMs > 5_000) throw new Error(`The message of ${approval.pipelineName} still offers its buttons`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const outcomes = async (approval: WaitingApproval) =>
  (await auditOf(approval.approvalId)).filter((event) => event.type === 'outcome');

const openIds = async () => new Set((await (await auditStore()).listOpen()).map((record) => record.request.id));

/** The pending approval's execution, as the console shows it. */
const executionOf = (approval: WaitingApproval): string => {
  const pending = world.emulator.pendingApprovals({ pipelineName: approval.pipelineName })[0];
  if (!pending) throw new Error(`${approval.pipelineName} waits for no approval`);
  return pending.pipelineExecutionId;
};

describe('messages follow CodePipeline', () => {
  const ended: WaitingApproval[] = [];

  it('closes an approval approved in the AWS console, saying so and by whom', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'follow-console');
    // Act
    world.emulator.answerInConsole('follow-console', 'StagingDEV', 'Approved', 'Checked on DEV');
    const { message, elapsedMs } = await messageCloses(approval);
    ended.push(approval);
    // Assess
    expect(elapsedMs).toBeLessThan(WITHIN_MS);
    expect(shown(message)).toContain('*Approved outside Slack* by console (IAM user)');
    expect(shown(message)).toContain('Checked on DEV');
    expect(message.text).toBe('follow-console › StagingDEV: decided elsewhere');
    expect(await outcomes(approval)).toEqual([expect.objectContaining({ result: 'decided-elsewhere' })]);
    expect(await openIds()).not.toContain(approval.approvalId);
  });

  it('closes an approval rejected with the AWS CLI, naming the IAM user who rejected it', async () => {
    // Prepare: someone with the AWS CLI (not Greenlight) answers the approval
    const approval = await pipelineWaitsForApproval(world, 'follow-cli');
    // Act
    await answerApproval(world, approval, 'release-manager', {
      status: 'Rejected',
      summary: 'Breaks checkout on Safari',
    });
    const { message, elapsedMs } = await messageCloses(approval);
    ended.push(approval);
    // Assess
    expect(elapsedMs).toBeLessThan(WITHIN_MS);
    expect(shown(message)).toContain('*Rejected outside Slack* by release-manager (IAM user)');
    expect(shown(message)).toContain('Breaks checkout on Safari');
    expect(shown(message)).toContain('❌');
    expect(await outcomes(approval)).toEqual([expect.objectContaining({ result: 'decided-elsewhere' })]);
    expect(await openIds()).not.toContain(approval.approvalId);
  });

  it('closes an approval that expired on CodePipeline’s clock', async () => {
    // Prepare: an approval action that waits one hour
    world.emulator.createPipeline(
      pipelineDefinition('follow-expire', { region: world.emulator.region, approvalTimeoutInMinutes: 60 }),
    );
    const approval = await pipelineWaitsForApproval(world, 'follow-expire');
    // Act
    world.emulator.advanceClock(61 * 60_000);
    const { message, elapsedMs } = await messageCloses(approval);
    ended.push(approval);
    // Assess
    expect(elapsedMs).toBeLessThan(WITHIN_MS);
    expect(shown(message)).toContain('*Expired*');
    expect(await outcomes(approval)).toEqual([expect.objectContaining({ result: 'expired' })]);
    expect(await openIds()).not.toContain(approval.approvalId);
  });

  it('closes an approval whose execution was stopped and abandoned', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'follow-stop');
    // Act
    world.emulator.stopExecution('follow-stop', executionOf(approval), { abandon: true, reason: 'Wrong branch' });
    const { message, elapsedMs } = await messageCloses(approval);
    ended.push(approval);
    // Assess
    expect(elapsedMs).toBeLessThan(WITHIN_MS);
    expect(shown(message)).toContain('*Stopped*');
    expect(shown(message)).toContain('⏹️');
    expect(await outcomes(approval)).toEqual([expect.objectContaining({ result: 'stopped' })]);
    expect(await openIds()).not.toContain(approval.approvalId);
  });

  it('leaves an approval that still waits alone, however many events its pipeline sends', async () => {
    // Prepare: a stop-and-wait keeps the approval waiting (it can still be answered)
    const approval = await pipelineWaitsForApproval(world, 'follow-wait');
    const updates = world.slack.calls('chat.update').length;
    // Act
    world.emulator.stopExecution('follow-wait', executionOf(approval), { reason: 'Let it finish' });
    await world.settle();
    // Assess
    expect(buttonsOf(currentMessage(world, approval))).not.toEqual([]);
    expect(await openIds()).toContain(approval.approvalId);
    expect(await outcomes(approval)).toEqual([]);
    expect(world.slack.calls('chat.update').length).toBe(updates);
  });

  it('changes nothing further when the same events come again, twice each and in reverse order', async () => {
    // Prepare
    await world.settle();
    expect(ended).toHaveLength(4);
    const pipelines = new Set(ended.map((approval) => approval.pipelineName));
    const events = world.emulator.pipelineEvents().filter((event) => pipelines.has(String(event.detail.pipeline)));
    const before = {
      messages: ended.map((approval) => shown(currentMessage(world, approval))),
      updates: world.slack.calls('chat.update').length,
    };
    // Act
    for (const event of [...events].reverse()) {
      await Promise.all([world.handlers.pipelineEvents(event), world.handlers.pipelineEvents(event)]);
    }
    await world.settle();
    // Assess
    expect(events.length).toBeGreaterThan(40);
    expect(ended.map((approval) => shown(currentMessage(world, approval)))).toEqual(before.messages);
    expect(world.slack.calls('chat.update').length).toBe(before.updates);
    for (const approval of ended) expect(await outcomes(approval)).toHaveLength(1);
  });

  it('drops an event that is not CodePipeline’s without failing', async () => {
    // Act / Assess: a malformed event is logged and dropped, so EventBridge does not retry it forever
    await expect(world.handlers.pipelineEvents({ source: 'aws.codepipeline', detail: {} })).resolves.toBeUndefined();
    await expect(world.handlers.pipelineEvents('not an event')).resolves.toBeUndefined();
  });
});
