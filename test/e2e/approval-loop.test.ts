import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import type { ClickResult, InteractionResult } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  APPROVALS_CHANNEL,
  auditFor,
  auditOf,
  buttonsOf,
  currentMessage,
  lastEphemeral,
  pipelineWaitsForApproval,
  shown,
  stageStatuses,
  users,
  type WaitingApproval,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/** Slack gives up on an interaction after 3 s; a sanity bound, not a benchmark. */
const SLACK_DEADLINE_MS = 3_000;

let world: World;

beforeAll(async () => {
  world = await startWorld();
  world.emulator.seedDemoWorld();
});

afterAll(async () => {
  await world?.close();
});

const putApprovalResults = (pipelineName: string) =>
  world.emulator.calls('PutApprovalResult').filter((call) => call.input.pipelineName === pipelineName);

/** Who CodePipeline was told decided, read back from the summary (`Approved by name (U0…) via Slack`). */
function decider(pipelineName: string): { userId: string; status: string } {
  const [call] = putApprovalResults(pipelineName);
  const result = call?.input.result as { status?: string; summary?: string } | undefined;
  const userId = /\((U[A-Z0-9]+)\) via Slack/.exec(result?.summary ?? '')?.[1];
  if (!userId || !result?.status) throw new Error(`No decision reached CodePipeline for ${pipelineName}`);
  return { userId, status: result.status };
}

const clickOn = (approval: WaitingApproval, user: string, actionId: string) =>
  world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, actionId);

describe('the approval loop, end to end', () => {
  it('takes a change from DEV through QA with two people approving in Slack', async () => {
    // Prepare
    const dev = await pipelineWaitsForApproval(world, 'shop-catalog');
    // Act
    const first = await clickOn(dev, 'U0ALICE', ids.approve);
    await world.settle();
    const qaMessage = world.slack
      .messages(APPROVALS_CHANNEL)
      .find((m) => m.text === 'Approval needed: shop-catalog › StagingQA');
    if (!qaMessage) throw new Error('No QA approval message after DEV was approved');
    const second = await world.slack.click('U0BOB', APPROVALS_CHANNEL, qaMessage.ts, ids.approve);
    await world.settle();
    // Assess
    expect(first.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(second.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(putApprovalResults('shop-catalog').map((c) => [c.input.stageName, c.ok])).toEqual([
      ['StagingDEV', true],
      ['StagingQA', true],
    ]);
    expect(await stageStatuses(world, 'shop-catalog')).toEqual({
      Source: 'Succeeded',
      Build: 'Succeeded',
      StagingDEV: 'Succeeded',
      StagingQA: 'Succeeded',
      StagingPROD: 'Succeeded',
    });
    expect(shown(currentMessage(world, dev))).toContain('*Approved* by <@U0ALICE>');
    expect(shown(second.message ?? qaMessage)).toContain('*Approved* by <@U0BOB>');
    const outcomes = (await auditFor(world, 'shop-catalog')).filter((e) => e.type === 'outcome');
    expect(outcomes.map((e) => [e.approval?.stageName, e.actor?.id, e.result])).toEqual([
      ['StagingDEV', 'U0ALICE', 'approved'],
      ['StagingQA', 'U0BOB', 'approved'],
    ]);
  });

  it('lets the first of twenty simultaneous Approve clicks decide and tells the other nineteen who did', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-payments');
    const people = users(world, 20, 'approver');
    // Act
    const answers = await Promise.all(people.map((person) => clickOn(approval, person.id, ids.approve)));
    await world.settle();
    // Assess: exactly one decision reached CodePipeline
    expect(putApprovalResults('shop-payments')).toHaveLength(1);
    const winner = decider('shop-payments');
    expect(winner.status).toBe('Approved');
    expect(people.map((p) => p.id)).toContain(winner.userId);
    // … the winner sees the message change; each of the others is told who decided (or is deciding)
    const losers = people.filter((p) => p.id !== winner.userId);
    expect(losers).toHaveLength(19);
    for (const loser of losers) expect(lastEphemeral(world, loser.id)?.text).toContain(`<@${winner.userId}>`);
    expect(lastEphemeral(world, winner.userId)).toBeUndefined();
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    }
    // … the message ends showing the outcome, not a decision in progress
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(message.text).toBe('shop-payments › StagingDEV: approved');
    expect(shown(message)).toContain(`*Approved* by <@${winner.userId}>`);
    expect(shown(message)).not.toMatch(/is approving this/);
    // … and the audit trail has one attempt, one outcome and nineteen refusals
    const audit = await auditOf(approval.approvalId);
    const count = (type: string) => audit.filter((e) => e.type === type).length;
    expect([count('decision-attempted'), count('outcome'), count('decision-refused')]).toEqual([1, 1, 19]);
    expect(audit.find((e) => e.type === 'outcome')).toMatchObject({ actor: { id: winner.userId }, result: 'approved' });
  });

  it('lets exactly one of ten approvers and ten rejecters racing on one message decide', async () => {
    // Prepare: ten people have the Reject modal open, ten are about to click Approve
    const approval = await pipelineWaitsForApproval(world, 'blog-web');
    const approvers = users(world, 10, 'yes');
    const rejecters = users(world, 10, 'no');
    const modals = await Promise.all(rejecters.map((person) => clickOn(approval, person.id, ids.reject)));
    // Act
    const answers: InteractionResult[] = await Promise.all([
      ...approvers.map((person): Promise<ClickResult> => clickOn(approval, person.id, ids.approve)),
      ...rejecters.map((person, i) =>
        world.slack.submitView(person.id, modals[i]?.views.at(-1)?.view.id ?? '', {
          [ids.reasonBlock]: `Not ready, says ${person.name}`,
        }),
      ),
    ]);
    await world.settle();
    // Assess
    expect(putApprovalResults('blog-web')).toHaveLength(1);
    const winner = decider('blog-web');
    const everyone = [...approvers, ...rejecters];
    for (const loser of everyone.filter((p) => p.id !== winner.userId)) {
      expect(lastEphemeral(world, loser.id)?.text).toContain(`<@${winner.userId}>`);
    }
    for (const answer of answers) expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    const outcome = winner.status === 'Approved' ? 'approved' : 'rejected';
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(message.text).toBe(`blog-web › StagingDEV: ${outcome}`);
    expect(await stageStatuses(world, 'blog-web')).toMatchObject({
      StagingDEV: outcome === 'approved' ? 'Succeeded' : 'Failed',
    });
    const audit = await auditOf(approval.approvalId);
    expect(audit.filter((e) => e.type === 'outcome')).toEqual([
      expect.objectContaining({ result: outcome, actor: expect.objectContaining({ id: winner.userId }) }),
    ]);
  });

  it('answers a normal Approve click well within the 3 seconds Slack waits', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'blog-api');
    // Act
    const answer = await clickOn(approval, 'U0CAROL', ids.approve);
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(putApprovalResults('blog-api')).toHaveLength(1);
  });

  it('keeps every approval token out of every Slack API call of the whole loop', async () => {
    // Prepare: a rejection, a late click and an expiry on top of what ran before in this world
    const rejected = await pipelineWaitsForApproval(world, 'shop-cart');
    const modal = await clickOn(rejected, 'U0DAVE', ids.reject);
    const lateModal = await clickOn(rejected, 'U0ALICE', ids.reject);
    await world.slack.submitView('U0DAVE', modal.views.at(-1)?.view.id ?? '', { [ids.reasonBlock]: '  ' });
    await world.slack.submitView('U0DAVE', modal.views.at(-1)?.view.id ?? '', { [ids.reasonBlock]: 'Broken' });
    await world.slack.submitView('U0ALICE', lateModal.views.at(-1)?.view.id ?? '', { [ids.reasonBlock]: 'Too late' });
    const expiring = await pipelineWaitsForApproval(world, 'shop-cart', 'StagingQA');
    world.emulator.advanceClock(7 * 24 * 60 * 60 * 1000 + 60_000);
    await clickOn(expiring, 'U0BOB', ids.approve);
    await world.settle();
    // Act
    const everything = JSON.stringify(world.slack.calls());
    // Assess
    expect(lastEphemeral(world, 'U0ALICE')?.text).toContain('already rejected by <@U0DAVE>');
    const tokens = world.emulator
      .notifications()
      .map((event) => (JSON.parse(event.Records[0]?.Sns.Message ?? '{}') as { approval: { token: string } }).approval);
    expect(tokens.length).toBeGreaterThanOrEqual(8);
    for (const { token } of tokens) expect(everything).not.toContain(token);
  });
});
