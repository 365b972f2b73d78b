import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import { interactionBody } from '../../sandbox/slack/people.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  APPROVALS_CHANNEL,
  auditCount,
  auditOf,
  buttonsOf,
  clickBody,
  currentMessage,
  lastEphemeral,
  pipelineWaitsForApproval,
  postToApp,
  shown,
  stageStatuses,
  unattributedAuditSince,
  type WaitingApproval,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/** Slack gives up on an interaction after 3 s; a sanity bound, not a benchmark. */
const SLACK_DEADLINE_MS = 3_000;
const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

let world: World;

beforeAll(async () => {
  // Clicks that come before CodePipeline's own event (test/e2e/pipeline-events.test.ts covers the event).
  world = await startWorld({ pipelineEvents: false });
});

afterAll(async () => {
  await world?.close();
});

const click = (user: string, approval: WaitingApproval, actionId: string, value?: string) =>
  world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, actionId, value === undefined ? {} : { value });

const putApprovalResults = (pipelineName: string) =>
  world.emulator.calls('PutApprovalResult').filter((call) => call.input.pipelineName === pipelineName);

const auditTypes = async (approval: WaitingApproval) => (await auditOf(approval.approvalId)).map((e) => e.type);

const alice = { id: 'U0ALICE', name: 'alice', teamId: 'T0GREENLT', via: 'slack' };

describe('approving from Slack', () => {
  it('approves in CodePipeline, moves the pipeline on, shows who approved and audits every step', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-cart');
    const before = new Date();
    // Act
    const answer = await click('U0ALICE', approval, ids.approve);
    await world.settle();
    // Assess: Slack got a timely, clean answer
    expect(answer.status).toBe(200);
    expect(answer.displayError).toBeUndefined();
    expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(answer.ephemerals).toEqual([]);
    // … CodePipeline got the decision, with who made it
    const calls = putApprovalResults('shop-cart');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      ok: true,
      input: {
        pipelineName: 'shop-cart',
        stageName: 'StagingDEV',
        actionName: 'Approve',
        result: { status: 'Approved', summary: 'Approved by alice (U0ALICE) via Slack' },
      },
    });
    // … the pipeline moved on to QA, where it waits for the next approval
    expect(await stageStatuses(world, 'shop-cart')).toMatchObject({ StagingDEV: 'Succeeded', StagingQA: 'InProgress' });
    const board = world.emulator.board('shop').find((p) => p.pipelineName === 'shop-cart');
    expect(board?.stages.find((s) => s.stageName === 'StagingQA')?.state).toBe('awaiting-approval');
    // … the message shows the outcome instead of the buttons
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(message.text).toBe('shop-cart › StagingDEV: approved');
    expect(shown(message)).toContain('*Approved* by <@U0ALICE>');
    // … and the audit trail tells the whole story, with who, their team and when
    const audit = await auditOf(approval.approvalId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'posted', 'decision-attempted', 'outcome']);
    const [, , attempted, outcome] = audit;
    expect(attempted).toMatchObject({ actor: alice, verdict: 'approve' });
    expect(outcome).toMatchObject({ actor: alice, verdict: 'approve', result: 'approved' });
    for (const event of [attempted, outcome]) {
      expect(event?.at.getTime()).toBeGreaterThanOrEqual(before.getTime());
      expect(event?.at.getTime()).toBeLessThanOrEqual(Date.now());
    }
  });

  it('tells the person their decision stands while Slack will not redraw the message, which catches up later', async () => {
    // Prepare: Slack fails the message's redraw, and the client's retry of it
    const approval = await pipelineWaitsForApproval(world, 'busy-cart');
    world.slack.faults.failCalls('chat.update', 500, 2);
    // Act
    const answer = await click('U0ALICE', approval, ids.approve);
    const buttonsRightAfter = buttonsOf(currentMessage(world, approval));
    world.slack.faults.clear();
    await world.settle();
    // Assess: decided, and told so though the message still showed the buttons …
    expect(putApprovalResults('busy-cart')).toEqual([expect.objectContaining({ ok: true })]);
    expect(buttonsRightAfter).toEqual([ids.approve, ids.reject]);
    expect(answer.ephemerals.map((e) => e.text)).toEqual([
      'Approved: CodePipeline has your decision. Slack is busy, so the message will show it in a moment.',
    ]);
    // … and the settle job redrew it
    expect(buttonsOf(currentMessage(world, approval))).toEqual([]);
    expect(shown(currentMessage(world, approval))).toContain('*Approved* by <@U0ALICE>');
  });
});

describe('who may decide', () => {
  /** A click as Slack sends it from a workspace of an Enterprise Grid org, where `user.team_id` is what Slack reports. */
  function gridClick(approval: WaitingApproval, userId: string, userTeam: string): string {
    const form = new URLSearchParams(clickBody(world, userId, approval.message, ids.approve));
    const payload = JSON.parse(form.get('payload') ?? '{}');
    payload.user.team_id = userTeam;
    payload.team = { ...payload.team, enterprise_id: 'E0GREENLT', enterprise_name: 'Greenlight Org' };
    payload.enterprise = { id: 'E0GREENLT', name: 'Greenlight Org' };
    return interactionBody(payload);
  }

  it('refuses a person of another Enterprise Grid org in a shared channel of an org, and decides nothing', async () => {
    // Prepare: Slack reports her org (E…) as her team; the request comes from our org
    const mallory = world.slack.workspace.addUser({ id: 'U0MALLORY', name: 'mallory' });
    const approval = await pipelineWaitsForApproval(world, 'grid-outsider');
    // Act
    const status = await postToApp(world, gridClick(approval, mallory.id, 'E0OTHERORG'), {
      timestamp: Math.floor(Date.now() / 1000),
    });
    await world.settle();
    // Assess: told why, privately, and nothing was decided
    expect(status).toBe(200);
    expect(lastEphemeral(world, mallory.id)?.text).toMatch(/another organisation/);
    expect(putApprovalResults('grid-outsider')).toHaveLength(0);
    expect(buttonsOf(currentMessage(world, approval))).toEqual([ids.approve, ids.reject]);
    expect(await auditTypes(approval)).toEqual(['requested', 'posted']);
  });

  it('refuses a person of another workspace that Slack’s directory does not place in the org, and decides nothing', async () => {
    // Prepare: the payload names only her workspace; users.info names no org for her
    const trudy = world.slack.workspace.addUser({ id: 'U0TRUDY', name: 'trudy' });
    const approval = await pipelineWaitsForApproval(world, 'grid-elsewhere');
    // Act
    const status = await postToApp(world, gridClick(approval, trudy.id, 'T0ELSEWHERE'), {
      timestamp: Math.floor(Date.now() / 1000),
    });
    await world.settle();
    // Assess
    expect(status).toBe(200);
    expect(lastEphemeral(world, trudy.id)?.text).toMatch(/another organisation/);
    expect(putApprovalResults('grid-elsewhere')).toHaveLength(0);
    expect(await auditTypes(approval)).toEqual(['requested', 'posted']);
  });

  it('lets a member of the same Enterprise Grid org decide when Slack reports the org as her team', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'grid-member');
    // Act
    const status = await postToApp(world, gridClick(approval, 'U0ALICE', 'E0GREENLT'), {
      timestamp: Math.floor(Date.now() / 1000),
    });
    await world.settle();
    // Assess
    expect(status).toBe(200);
    expect(putApprovalResults('grid-member')).toEqual([expect.objectContaining({ ok: true })]);
    expect(shown(currentMessage(world, approval))).toContain('*Approved* by <@U0ALICE>');
  });
});

describe('rejecting from Slack', () => {
  it('asks for a reason and decides nothing until one is given', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'reject-no-reason');
    // Act
    const opened = await click('U0BOB', approval, ids.reject);
    const modal = opened.views.at(-1)?.view;
    if (!modal) throw new Error('Reject opened no modal');
    const empty = await world.slack.submitView('U0BOB', modal.id, { [ids.reasonBlock]: '' });
    const blank = await world.slack.submitView('U0BOB', modal.id, { [ids.reasonBlock]: '   \n\t  ' });
    // Assess: the modal asks why …
    expect(opened.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(modal.callback_id).toBe(ids.rejectModal);
    expect(JSON.stringify(modal)).not.toContain(approval.token);
    // … an empty reason is stopped by Slack's client (the field is required); a blank one by the app
    expect(empty.sent).toBe(false);
    expect(empty.views.at(-1)?.errors).toHaveProperty(ids.reasonBlock);
    expect(blank.status).toBe(200);
    expect(JSON.parse(blank.body)).toEqual({
      response_action: 'errors',
      errors: { [ids.reasonBlock]: expect.any(String) },
    });
    expect(blank.views.at(-1)?.errors[ids.reasonBlock]).toMatch(/why/i);
    // … and nothing was decided
    expect(putApprovalResults('reject-no-reason')).toHaveLength(0);
    expect(buttonsOf(currentMessage(world, approval))).toEqual([ids.approve, ids.reject]);
    expect(await auditTypes(approval)).toEqual(['requested', 'posted']);
    expect(world.emulator.pendingApprovals({ pipelineName: 'reject-no-reason' })).toHaveLength(1);
  });

  it('rejects with the reason given, stops the pipeline and shows the reason', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'reject-me');
    const reason = 'Checkout fails on DEV with expired cards';
    const opened = await click('U0BOB', approval, ids.reject);
    const modalId = opened.views.at(-1)?.view.id ?? '';
    // Act
    const submitted = await world.slack.submitView('U0BOB', modalId, { [ids.reasonBlock]: reason });
    await world.settle();
    // Assess
    expect(submitted.status).toBe(200);
    expect(submitted.displayError).toBeUndefined();
    expect(submitted.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(submitted.views).toEqual([]);
    const calls = putApprovalResults('reject-me');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      ok: true,
      input: { result: { status: 'Rejected', summary: `Rejected by bob (U0BOB) via Slack: ${reason}` } },
    });
    expect(await stageStatuses(world, 'reject-me')).toMatchObject({ StagingDEV: 'Failed' });
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(shown(message)).toContain('*Rejected* by <@U0BOB>');
    expect(shown(message)).toContain(reason);
    const audit = await auditOf(approval.approvalId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'posted', 'decision-attempted', 'outcome']);
    expect(audit.at(-1)).toMatchObject({ verdict: 'reject', reason, result: 'rejected', actor: { id: 'U0BOB' } });
  });

  it('cuts the summary to the 512 characters CodePipeline takes for a long name and a 500-character reason', async () => {
    // Prepare
    const person = world.slack.workspace.addUser({
      id: 'U0LONGNAME',
      name: 'maximilian',
      displayName: 'Maximilian Alexander von Hohenberg-Wittelsbach (Platform Reliability, on call)',
    });
    const approval = await pipelineWaitsForApproval(world, 'reject-long');
    const reason = `${'Checkout breaks for cards that expire this month; see the QA run. '.repeat(8).slice(0, 499)}!`;
    const opened = await click(person.id, approval, ids.reject);
    // Act
    await world.slack.submitView(person.id, opened.views.at(-1)?.view.id ?? '', { [ids.reasonBlock]: reason });
    await world.settle();
    // Assess
    const full = `Rejected by ${person.displayName} (${person.id}) via Slack: ${reason}`;
    expect(reason).toHaveLength(500);
    expect(full.length).toBeGreaterThan(512);
    const calls = putApprovalResults('reject-long');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ok).toBe(true);
    const summary = String((calls[0]?.input.result as { summary?: unknown } | undefined)?.summary);
    expect(summary).toHaveLength(512);
    expect(full.startsWith(summary.slice(0, -1))).toBe(true);
    expect(await stageStatuses(world, 'reject-long')).toMatchObject({ StagingDEV: 'Failed' });
    expect((await auditOf(approval.approvalId)).at(-1)).toMatchObject({ type: 'outcome', result: 'rejected' });
  });
});

describe('when CodePipeline will not take the decision', () => {
  it('marks an expired approval as expired and tells the person why', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'expire-me');
    world.emulator.advanceClock(SEVEN_DAYS_MS + 60_000);
    await world.settle();
    // Act
    const answer = await click('U0CAROL', approval, ids.approve);
    // Assess
    expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(putApprovalResults('expire-me').map((c) => c.error)).toEqual(['InvalidApprovalTokenException']);
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(shown(message)).toContain('*Expired*');
    expect(lastEphemeral(world, 'U0CAROL')?.text).toMatch(/expired/);
    expect((await auditOf(approval.approvalId)).at(-1)).toMatchObject({ type: 'outcome', result: 'expired' });
  });

  it('shows an approval answered in the console as approved outside Slack, with who and why', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'console-first');
    world.emulator.answerInConsole('console-first', 'StagingDEV', 'Approved', 'Approved in the console');
    await world.settle();
    // Act
    const answer = await click('U0DAVE', approval, ids.approve);
    // Assess
    expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(putApprovalResults('console-first').map((c) => c.error)).toEqual(['ApprovalAlreadyCompletedException']);
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(shown(message)).toContain('*Approved outside Slack* by console (IAM user)');
    expect(shown(message)).toContain('>Approved in the console');
    expect(lastEphemeral(world, 'U0DAVE')?.text).toMatch(/decided outside Slack/);
    // The outcome is CodePipeline's: its verdict, who gave it and their comment; Dave's attempt is
    // its own event, and he is not named as the decider.
    const audit = await auditOf(approval.approvalId);
    expect(audit.at(-1)).toMatchObject({
      type: 'outcome',
      result: 'decided-elsewhere',
      verdict: 'approve',
      reason: 'Approved in the console',
      detail: expect.stringMatching(/^by arn:aws:/),
    });
    expect(audit.at(-1)?.actor).toBeUndefined();
    expect(audit.find((event) => event.type === 'decision-attempted')?.actor).toMatchObject({ id: 'U0DAVE' });
  });

  it('takes CodePipeline\'s state, not its error, when it says "no such token" for an approval answered in the console', async () => {
    // Prepare: the API reference words InvalidApprovalTokenException "already received a response
    // or has expired", so CodePipeline may answer an answered token with it.
    const approval = await pipelineWaitsForApproval(world, 'console-rejected');
    world.emulator.answerInConsole('console-rejected', 'StagingDEV', 'Rejected', 'Checkout is broken');
    await world.settle();
    world.emulator.configure({ answeredTokenError: 'InvalidApprovalTokenException' });
    try {
      // Act
      const answer = await click('U0DAVE', approval, ids.approve);
      // Assess: rejected in the console, not expired, and not Dave's approval
      expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
      expect(putApprovalResults('console-rejected').map((c) => c.error)).toEqual(['InvalidApprovalTokenException']);
      const message = currentMessage(world, approval);
      expect(buttonsOf(message)).toEqual([]);
      expect(shown(message)).toContain('*Rejected outside Slack*');
      expect(shown(message)).not.toContain('Expired');
      expect(lastEphemeral(world, 'U0DAVE')?.text).toMatch(/decided outside Slack/);
      const outcome = (await auditOf(approval.approvalId)).at(-1);
      expect(outcome).toMatchObject({
        type: 'outcome',
        result: 'decided-elsewhere',
        verdict: 'reject',
        reason: 'Checkout is broken',
      });
      expect(outcome?.actor).toBeUndefined();
    } finally {
      world.emulator.configure({ answeredTokenError: 'ApprovalAlreadyCompletedException' });
    }
  });

  it('tells the person to try again while CodePipeline throttles, and lets a later click decide', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'throttled');
    world.emulator.failNextCall('PutApprovalResult', 'ThrottlingException', 5);
    // Act
    const first = await click('U0ALICE', approval, ids.approve);
    // Assess: told to try again, quickly, and the approval is open again
    expect(first.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(first.ephemerals.map((e) => e.text)).toEqual([expect.stringContaining('try again')]);
    expect(buttonsOf(currentMessage(world, approval))).toEqual([ids.approve, ids.reject]);
    expect(await auditTypes(approval)).toEqual(['requested', 'posted', 'decision-attempted', 'claim-released']);
    // Act: she tries again until CodePipeline takes it (each click may retry the call once itself)
    const later = [];
    while (buttonsOf(currentMessage(world, approval)).length > 0 && later.length < 5) {
      later.push(await click('U0ALICE', approval, ids.approve));
    }
    await world.settle();
    // Assess
    const calls = putApprovalResults('throttled');
    expect(calls.filter((c) => !c.ok).map((c) => c.error)).toEqual(Array(5).fill('ThrottlingException'));
    expect(calls.filter((c) => c.ok)).toHaveLength(1);
    for (const answer of later) expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    for (const answer of later.slice(0, -1)) {
      expect(answer.ephemerals.map((e) => e.text)).toEqual([expect.stringContaining('try again')]);
    }
    expect(later.at(-1)?.ephemerals).toEqual([]);
    expect(shown(currentMessage(world, approval))).toContain('*Approved* by <@U0ALICE>');
    expect(await stageStatuses(world, 'throttled')).toMatchObject({ StagingDEV: 'Succeeded' });
    const audit = await auditOf(approval.approvalId);
    expect(audit.filter((e) => e.type === 'outcome')).toEqual([expect.objectContaining({ result: 'approved' })]);
  });

  it('marks the approval gone when its pipeline no longer exists', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'deleted-later');
    world.emulator.failNextCall('PutApprovalResult', 'PipelineNotFoundException', 1, 'No pipeline deleted-later');
    // Act
    const answer = await click('U0BOB', approval, ids.approve);
    // Assess
    expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    const message = currentMessage(world, approval);
    expect(buttonsOf(message)).toEqual([]);
    expect(shown(message)).toContain('The pipeline no longer exists');
    expect(lastEphemeral(world, 'U0BOB')?.text).toMatch(/pipeline of this approval no longer exists/);
    expect((await auditOf(approval.approvalId)).at(-1)).toMatchObject({ type: 'outcome', result: 'gone' });
  });
});

describe('requests Slack did not sign', () => {
  /** What a forged or replayed request must not change. */
  async function footprint(approval: WaitingApproval, since: Date) {
    return {
      putApprovalResults: world.emulator.calls('PutApprovalResult').length,
      audit: await auditCount([approval.approvalId], since),
      message: currentMessage(world, approval),
      ephemerals: world.slack.ephemerals().length,
      slackCalls: world.slack.calls().length,
    };
  }

  it('refuses a forged signature and a replayed timestamp with 401 and changes nothing', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'forgery-target');
    const since = new Date();
    const body = clickBody(world, 'U0ALICE', approval.message, ids.approve);
    const now = Math.floor(Date.now() / 1000);
    const before = await footprint(approval, since);
    // Act
    const forged = await postToApp(world, body, { timestamp: now, signature: `v0=${'0'.repeat(64)}` });
    const wrongSecret = await postToApp(world, body, { timestamp: now, secret: 'not-the-signing-secret' });
    const unsigned = await postToApp(world, body, { timestamp: now, signature: '' });
    const replayed = await postToApp(world, body, { timestamp: now - 6 * 60 });
    // Assess
    expect([forged, wrongSecret, unsigned, replayed]).toEqual([401, 401, 401, 401]);
    expect(await footprint(approval, since)).toEqual(before);
    // Control: the very same body, signed now with the right secret, is taken
    expect(await postToApp(world, body, { timestamp: Math.floor(Date.now() / 1000) })).toBe(200);
    expect(putApprovalResults('forgery-target')).toHaveLength(1);
  });

  it('answers an unsigned body that is not even JSON with 401 instead of failing', async () => {
    // Act
    const response = await fetch(world.appUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{not json',
    });
    // Assess
    expect(response.status).toBe(401);
  });
});

describe('button values Greenlight did not make', () => {
  let approval: WaitingApproval;

  beforeAll(async () => {
    approval = await pipelineWaitsForApproval(world, 'tamper-target');
  });

  const unknownId = 'AAAAAAAAAAAAAAAAAAAAAA';
  const cases = [
    { what: 'an unknown approval id (approve)', action: ids.approve, value: JSON.stringify({ approvalId: unknownId }) },
    { what: 'an unknown approval id (reject)', action: ids.reject, value: JSON.stringify({ approvalId: unknownId }) },
    { what: 'malformed JSON', action: ids.approve, value: '{"approvalId": ' },
    { what: 'not JSON at all', action: ids.reject, value: 'approve-everything' },
    { what: 'a number for the id', action: ids.approve, value: '{"approvalId": 42}' },
    { what: 'a list for the id', action: ids.approve, value: '{"approvalId": ["AAAAAAAAAAAAAAAAAAAAAA"]}' },
    { what: 'an id of the wrong shape', action: ids.approve, value: '{"approvalId": "../../APPROVAL#x"}' },
    { what: 'extra fields', action: ids.approve, value: '{"approvalId": "AAAAAAAAAAAAAAAAAAAAAA", "status": "x"}' },
    { what: 'JSON null', action: ids.reject, value: 'null' },
    { what: 'an empty value', action: ids.approve, value: '' },
  ];

  it.each(cases)('refuses $what: tells the person, audits it and calls no CodePipeline', async ({ action, value }) => {
    // Prepare
    const since = new Date();
    const callsBefore = world.emulator.calls().length;
    const before = currentMessage(world, approval);
    // Act
    const answer = await click('U0CAROL', approval, action, value);
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(SLACK_DEADLINE_MS);
    expect(answer.ephemerals).toHaveLength(1);
    expect(answer.ephemerals[0]?.text).toMatch(/Nothing was changed/);
    expect(answer.views).toEqual([]);
    expect(world.emulator.calls().length).toBe(callsBefore);
    expect(currentMessage(world, approval)).toEqual(before);
    const refusals = [...(await unattributedAuditSince(since)), ...(await auditOf(unknownId))].filter(
      (e) => e.type === 'decision-refused' && e.actor?.id === 'U0CAROL' && e.at.getTime() >= since.getTime(),
    );
    expect(refusals).toHaveLength(1);
    expect(['tampered', 'unknown-approval']).toContain(refusals[0]?.result);
  });

  it('leaves the real approval open after all of that', async () => {
    // Assess
    expect(await auditTypes(approval)).toEqual(['requested', 'posted']);
    expect(buttonsOf(currentMessage(world, approval))).toEqual([ids.approve, ids.reject]);
  });
});
