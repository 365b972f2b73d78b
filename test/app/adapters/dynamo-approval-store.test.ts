import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApprovalsTable, TABLE_KEYS } from '../../../app/adapters/approvals-table.ts';
import { DynamoApprovalStore } from '../../../app/adapters/dynamo-approval-store.ts';
import { type ApprovalRecord, type Decision, type Outcome, STALE_CLAIM_MS } from '../../../app/core/approval.ts';
import { type AuditEvent, attemptEvent } from '../../../app/core/audit.ts';
import { AlreadyDecidedError, ApprovalNotFoundError } from '../../../app/core/errors.ts';
import { envPolicy } from '../../../app/core/policy.ts';
import { RulesMismatchError, SeparatedError } from '../../../app/core/policy-errors.ts';
import type { ApprovalStore } from '../../../app/core/ports.ts';
import { approvalRequest, slackDecision } from '../../support/fakes.ts';
import { useLocalDynamo } from '../../support/local-dynamo.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

const local = useLocalDynamo();
let tables = 0;

type StoreFactory = (options?: { ownTable?: boolean }) => Promise<ApprovalStore>;

/** A store on the embedded table, or on a table of its own for tests that read a whole index. */
const dynamoStore: StoreFactory = async (options = {}) => {
  const db = DynamoDBDocumentClient.from(local.client);
  if (!options.ownTable) return new DynamoApprovalStore(db, local.dynamo.tableName);
  const tableName = `approvals-test-${++tables}`;
  await createApprovalsTable(local.client, tableName);
  return new DynamoApprovalStore(db, tableName);
};

/** The in-memory fake the core's tests use must behave as the real store does: same cases, both stores. */
const memoryStore: StoreFactory = async () => new MemoryApprovalStore();

const t0 = new Date('2025-03-04T10:15:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
/** A claim as decideApproval makes it: it fences the approval for STALE_CLAIM_MS. */
const claimOf = (decision: Decision, claimId: string) => ({
  ...decision,
  claimId,
  until: new Date(decision.at.getTime() + STALE_CLAIM_MS),
});

describe.each([
  ['DynamoApprovalStore on dynalite', dynamoStore],
  ['MemoryApprovalStore (the fake core tests use)', memoryStore],
])('%s', (_name, store) => {
  it('stores a request once and gives it back as it was', async () => {
    // Prepare
    const approvals = await store();
    const request = { ...approvalRequest(), notifiedAt: new Date('2025-03-04T09:30:10.000Z') };
    // Act
    const first = await approvals.saveRequest(request);
    const again = await approvals.saveRequest({ ...request, receivedAt: later(60_000) });
    // Assess
    expect([first, again]).toEqual(['created', 'exists']);
    expect(await approvals.get(request.id)).toEqual({ request, status: 'pending' });
  });

  it('gives back a request without the optional link and custom data as it was', async () => {
    // Prepare
    const approvals = await store();
    const { externalEntityLink: _link, customData: _data, ...request } = approvalRequest();
    // Act
    await approvals.saveRequest(request);
    // Assess
    const record = await approvals.get(request.id);
    expect(record?.request).not.toHaveProperty('externalEntityLink');
    expect(record?.request).not.toHaveProperty('customData');
    expect(record?.request.expiresAt).toEqual(request.expiresAt);
  });

  it('knows nothing of an approval it never stored', async () => {
    // Act
    const record = await (await store()).get('AAAAAAAAAAAAAAAAAAAAAA');
    // Assess
    expect(record).toBeUndefined();
  });

  it('lets one delivery at a time post, until the message is out', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    // Act
    const leases = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => approvals.takePostLease(request.id, `holder-${n}`, later(60_000), t0)),
    );
    const whileHeld = await approvals.takePostLease(request.id, 'late', later(120_000), later(30_000));
    const afterExpiry = await approvals.takePostLease(request.id, 'late', later(180_000), later(120_000));
    const first = await approvals.recordMessage(request.id, { channel: 'C0APPROVALS', ts: '1741083313.000100' });
    const second = await approvals.recordMessage(request.id, { channel: 'C0APPROVALS', ts: '1741083399.000200' });
    const afterPosting = await approvals.takePostLease(request.id, 'later', later(600_000), later(500_000));
    // Assess
    expect(leases.filter((lease) => lease.taken)).toHaveLength(1);
    expect(whileHeld).toEqual({ taken: false, heldUntil: later(60_000) });
    // Taken over from a holder that died, and the store says a post may have been tried before.
    expect(afterExpiry).toEqual({ taken: true, firstTakenAt: t0, takenBefore: true });
    expect(first).toEqual({ channel: 'C0APPROVALS', ts: '1741083313.000100' });
    expect(second).toEqual(first);
    expect(afterPosting).toEqual({ taken: false, message: first });
    expect((await approvals.get(request.id))?.message).toEqual(first);
  });

  it('gives the lease again to the same holder (its answer was lost) and back only from its holder', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    await approvals.takePostLease(request.id, 'mine', later(60_000), t0);
    // Act
    const again = await approvals.takePostLease(request.id, 'mine', later(60_000), t0);
    await approvals.givePostLeaseBack(request.id, 'someone-else');
    const stillHeld = await approvals.takePostLease(request.id, 'other', later(60_000), later(1_000));
    await approvals.givePostLeaseBack(request.id, 'mine');
    const free = await approvals.takePostLease(request.id, 'other', later(60_000), later(2_000));
    // Assess
    expect(again.taken).toBe(true);
    expect(stillHeld.taken).toBe(false);
    expect(free.taken).toBe(true);
  });

  it('does not lease posting an approval it never stored', async () => {
    // Act
    const leased = (await store()).takePostLease('AAAAAAAAAAAAAAAAAAAAAA', 'holder', later(60_000), t0);
    // Assess
    await expect(leased).rejects.toThrow('AAAAAAAAAAAAAAAAAAAAAA');
  });

  it('gives the claim to exactly one of twenty simultaneous decisions and names it to the others', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    const claims = Array.from({ length: 20 }, (_, i) =>
      claimOf(slackDecision('approve', t0, { id: `U0PERSON${i}` }), `claim-${i}`),
    );
    // Act
    const answers = await Promise.allSettled(claims.map((claim) => approvals.claim(request.id, claim, t0)));
    // Assess
    const won = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
    const lost = answers.flatMap((answer) => (answer.status === 'rejected' ? [answer.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(won[0]?.status).toBe('deciding');
    expect(lost).toHaveLength(19);
    for (const error of lost) {
      expect(error).toBeInstanceOf(AlreadyDecidedError);
      expect((error as AlreadyDecidedError).record.claim?.claimId).toBe(won[0]?.claim?.claimId);
    }
    expect((await approvals.get(request.id))?.claim).toEqual(won[0]?.claim);
  });

  it('refuses to claim an approval it never stored', async () => {
    // Act
    const claim = (await store()).claim('AAAAAAAAAAAAAAAAAAAAAA', claimOf(slackDecision('approve', t0), 'claim-1'), t0);
    // Assess
    await expect(claim).rejects.toBeInstanceOf(ApprovalNotFoundError);
  });

  it('lets a stale claim be taken over, and a live one not', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    await approvals.claim(request.id, claimOf(slackDecision('approve', t0, { id: 'U0ALICE' }), 'alice'), t0);
    // Act
    const live = approvals.claim(
      request.id,
      claimOf(slackDecision('approve', later(30_000), { id: 'U0BOB' }), 'bob'),
      later(30_000),
    );
    const stale = approvals.claim(
      request.id,
      claimOf(slackDecision('approve', later(61_000), { id: 'U0CAROL' }), 'carol'),
      later(61_000),
    );
    // Assess
    await expect(live).rejects.toBeInstanceOf(AlreadyDecidedError);
    await expect(stale).resolves.toMatchObject({ status: 'deciding', claim: { claimId: 'carol' } });
  });

  it('gives a claim back only for its holder', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    await approvals.claim(request.id, claimOf(slackDecision('approve', t0), 'holder'), t0);
    // Act
    await approvals.giveClaimBack(request.id, 'someone-else');
    const afterStranger = await approvals.get(request.id);
    await approvals.giveClaimBack(request.id, 'holder');
    const afterHolder = await approvals.get(request.id);
    // Assess
    expect(afterStranger).toMatchObject({ status: 'deciding', claim: { claimId: 'holder' } });
    expect(afterHolder?.status).toBe('pending');
    expect(afterHolder).not.toHaveProperty('claim');
    await expect(
      approvals.claim(request.id, claimOf(slackDecision('reject', later(1_000)), 'next'), later(1_000)),
    ).resolves.toMatchObject({ claim: { claimId: 'next' } });
  });

  it('keeps the first outcome and closes the approval', async () => {
    // Prepare
    const approvals = await store({ ownTable: true });
    const request = approvalRequest();
    await approvals.saveRequest(request);
    const decision = slackDecision('reject', t0, { id: 'U0BOB', reason: 'Checkout fails on QA' });
    await approvals.claim(request.id, claimOf(decision, 'bob'), decision.at);
    const first: Outcome = { kind: 'rejected', decision, at: later(800) };
    const second: Outcome = { kind: 'expired', at: later(90_000) };
    // Act
    const closed = await approvals.recordOutcome(request.id, first);
    const late = await approvals.recordOutcome(request.id, second);
    // Assess
    const { reviewLink: _dropped, ...kept } = request;
    expect(closed).toEqual({
      request: { ...kept, token: '' },
      status: 'closed',
      attempts: [{ ...decision, claimId: 'bob' }],
      outcome: first,
    });
    expect(late.outcome).toEqual(first);
    expect(await approvals.listOpen()).toEqual([]);
  });

  it("keeps every claim as an attempt of the approval, its audit event there from the claim's own write", async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    const alice = slackDecision('approve', t0, { id: 'U0ALICE' });
    const bob = slackDecision('reject', later(1_000), { id: 'U0BOB', reason: 'Checkout fails on QA' });
    // Act
    await approvals.claim(request.id, claimOf(alice, 'alice'), t0);
    await approvals.giveClaimBack(request.id, 'alice');
    await approvals.claim(request.id, { ...claimOf(bob, 'bob'), releaseId: 'rel-1' }, bob.at);
    // Assess
    const record = await approvals.get(request.id);
    expect(record?.attempts).toEqual([
      { ...alice, claimId: 'alice' },
      { ...bob, claimId: 'bob', releaseId: 'rel-1' },
    ]);
    const trail = await approvals.eventsForApproval(request.id);
    expect(trail).toEqual([
      expect.objectContaining({ eventId: 'alice', type: 'decision-attempted', actor: alice.actor, verdict: 'approve' }),
      expect.objectContaining({
        eventId: 'bob',
        type: 'decision-attempted',
        reason: 'Checkout fails on QA',
        releaseId: 'rel-1',
      }),
    ]);
  });

  it('renews a claim for its holder only, so a long call is not taken over', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    await approvals.claim(request.id, claimOf(slackDecision('approve', t0, { id: 'U0ALICE' }), 'alice'), t0);
    // Act
    const stranger = await approvals.renewClaim(request.id, 'mallory', later(120_000));
    const holder = await approvals.renewClaim(request.id, 'alice', later(80_000));
    const takeover = approvals.claim(
      request.id,
      claimOf(slackDecision('reject', later(61_000), { id: 'U0BOB' }), 'bob'),
      later(61_000),
    );
    // Assess
    expect(stranger).toBe(false);
    expect(holder).toBe(true);
    await expect(takeover).rejects.toBeInstanceOf(AlreadyDecidedError);
    await approvals.recordOutcome(request.id, { kind: 'expired', at: later(90_000) });
    expect(await approvals.renewClaim(request.id, 'alice', later(150_000))).toBe(false);
  });

  it('counts the outcome once in the trail per approval and per day, even where an older version filed it too', async () => {
    // Prepare
    const approvals = await store({ ownTable: true });
    const request = approvalRequest();
    await approvals.saveRequest(request);
    const decision = slackDecision('approve', t0, { id: 'U0ALICE' });
    await approvals.claim(request.id, claimOf(decision, 'alice'), t0);
    // Act
    await approvals.recordOutcome(request.id, { kind: 'approved', decision, at: later(700), releaseId: 'rel-9' });
    await approvals.append({
      eventId: `${request.id}#outcome`,
      type: 'outcome',
      at: later(700),
      approvalId: request.id,
      result: 'approved',
    });
    // Assess
    const day = await approvals.eventsForDay('2025-03-04');
    const outcome = { eventId: `${request.id}#outcome`, type: 'outcome', result: 'approved' };
    expect(day).toEqual([expect.objectContaining({ eventId: 'alice' }), expect.objectContaining(outcome)]);
    const trail = await approvals.eventsForApproval(request.id);
    expect(trail.map((event) => event.type)).toEqual(['decision-attempted', 'outcome']);
    expect(trail[1]).toMatchObject({ ...outcome, actor: decision.actor, verdict: 'approve' });
  });

  it('shows a closed approval in the day it closed with the attempts of that day, and an attempt filed too once', async () => {
    // Prepare: Alice's attempt the evening before (given back), Bob's the next morning, which closes it.
    const approvals = await store({ ownTable: true });
    const request = approvalRequest();
    await approvals.saveRequest(request);
    const alice = slackDecision('approve', new Date('2025-03-04T23:50:00Z'), { id: 'U0ALICE' });
    const bob = slackDecision('approve', new Date('2025-03-05T08:00:00Z'), { id: 'U0BOB' });
    await approvals.claim(request.id, claimOf(alice, 'alice'), alice.at);
    await approvals.giveClaimBack(request.id, 'alice');
    const { attempts } = (await approvals.claim(request.id, claimOf(bob, 'bob'), bob.at)) as ApprovalRecord;
    // Act
    await approvals.recordOutcome(request.id, {
      kind: 'approved',
      decision: bob,
      at: new Date('2025-03-05T08:00:01Z'),
    });
    const before = await Promise.all(['2025-03-04', '2025-03-05'].map((day) => approvals.eventsForDay(day)));
    // Alice's attempt is filed, as a decision given back files it; Bob's too, as a settle job may.
    await approvals.append(attemptEvent(request, { ...alice, claimId: 'alice' }));
    await approvals.append(attemptEvent(request, { ...bob, claimId: 'bob' }));
    const after = await Promise.all(['2025-03-04', '2025-03-05'].map((day) => approvals.eventsForDay(day)));
    // Assess
    const ids = (days: AuditEvent[][]) => days.map((events) => events.map((event) => event.eventId));
    expect(attempts?.map((attempt) => attempt.claimId)).toEqual(['alice', 'bob']);
    expect(ids(before)).toEqual([[], ['bob', `${request.id}#outcome`]]);
    expect(ids(after)).toEqual([['alice'], ['bob', `${request.id}#outcome`]]);
  });

  it('keeps when CodePipeline took a console decision beside when Greenlight recorded it, on the approval and in the day’s trail', async () => {
    // Prepare: answered in the console at 09:00; Greenlight heard of it at 10:00
    const approvals = await store();
    const request = approvalRequest();
    await approvals.saveRequest(request);
    const decidedAt = new Date('2025-03-04T09:00:00Z');
    const at = new Date('2025-03-04T10:00:00Z');
    // Act
    await approvals.recordOutcome(request.id, {
      kind: 'decided-elsewhere',
      verdict: 'approve',
      by: 'arn:aws:iam::123456789012:user/alice',
      decidedAt,
      at,
    });
    const record = await approvals.get(request.id);
    const day = await approvals.eventsForDay('2025-03-04');
    // Assess
    expect(record?.outcome).toMatchObject({ kind: 'decided-elsewhere', decidedAt, at });
    expect(day.find((event) => event.type === 'outcome')).toMatchObject({ decidedAt, at });
  });

  it('drops the token and the review link that ends in it once the approval closes, keeping its id', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest({ reviewLink: 'https://console.aws.amazon.com/codepipeline/review?token=t' });
    await approvals.saveRequest(request);
    // Act
    const closed = await approvals.recordOutcome(request.id, { kind: 'expired', at: t0 });
    const read = await approvals.get(request.id);
    // Assess
    for (const record of [closed, read]) {
      expect(record?.request).toMatchObject({ id: request.id, token: '', pipelineName: request.pipelineName });
      expect(record?.request.reviewLink).toBeUndefined();
    }
  });

  it('lists open approvals, pending and being decided, oldest first', async () => {
    // Prepare
    const approvals = await store({ ownTable: true });
    const oldest = approvalRequest({ receivedAt: new Date('2025-03-03T08:00:00Z') });
    const middle = approvalRequest({ receivedAt: new Date('2025-03-03T12:00:00Z') });
    const newest = approvalRequest({ receivedAt: new Date('2025-03-04T07:00:00Z') });
    const closed = approvalRequest({ receivedAt: new Date('2025-03-02T08:00:00Z') });
    for (const request of [newest, closed, oldest, middle]) await approvals.saveRequest(request);
    await approvals.claim(middle.id, claimOf(slackDecision('approve', t0), 'c'), t0);
    await approvals.recordOutcome(closed.id, { kind: 'decided-elsewhere', at: t0 });
    // Act
    const open = await approvals.listOpen();
    // Assess
    expect(open.map((record) => [record.request.id, record.status])).toEqual([
      [oldest.id, 'pending'],
      [middle.id, 'deciding'],
      [newest.id, 'pending'],
    ]);
  });

  it('keeps the audit trail of an approval in time order, whatever the order of writing', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    const event = (eventId: string, type: AuditEvent['type'], at: string): AuditEvent => ({
      eventId,
      type,
      at: new Date(at),
      approvalId: request.id,
      approval: {
        pipelineName: request.pipelineName,
        stageName: request.stageName,
        actionName: request.actionName,
        region: request.region,
      },
    });
    const outcome = {
      ...event('e3', 'outcome', '2025-03-04T10:15:01Z'),
      result: 'approved',
      actor: { id: 'U0ALICE', name: 'Alice', teamId: 'T0ACME', via: 'slack' as const },
      verdict: 'approve' as const,
    };
    // Act
    await approvals.append(outcome);
    await approvals.append(event('e1', 'requested', '2025-03-04T09:30:12Z'));
    await approvals.append(event('e2', 'posted', '2025-03-04T09:30:13Z'));
    // Assess
    const events = await approvals.eventsForApproval(request.id);
    expect(events.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect(events[2]).toEqual(outcome);
  });

  it('appends an event once however often it is written', async () => {
    // Prepare
    const approvals = await store();
    const request = approvalRequest();
    const posted: AuditEvent = {
      eventId: `${request.id}#posted`,
      type: 'posted',
      at: t0,
      approvalId: request.id,
      detail: 'C0APPROVALS/1741083313.000100',
    };
    // Act
    await Promise.all([approvals.append(posted), approvals.append(posted)]);
    await approvals.append(posted);
    // Assess
    expect(await approvals.eventsForApproval(request.id)).toEqual([posted]);
  });

  it('reads one UTC day of the audit trail across approvals, in time order', async () => {
    // Prepare
    const approvals = await store({ ownTable: true });
    const cart = approvalRequest();
    const search = approvalRequest({ pipelineName: 'shop-search' });
    const event = (eventId: string, approvalId: string, at: string): AuditEvent => ({
      eventId,
      type: 'decision-attempted',
      at: new Date(at),
      approvalId,
    });
    await approvals.append(event('late-on-4th', cart.id, '2025-03-04T23:59:59.999Z'));
    await approvals.append(event('on-5th', search.id, '2025-03-05T00:00:00.000Z'));
    await approvals.append(event('early-on-4th', search.id, '2025-03-04T00:00:00.000Z'));
    await approvals.append(event('noon-on-4th', cart.id, '2025-03-04T12:00:00.000Z'));
    await approvals.append({ ...event('tampered', 'unknown', '2025-03-04T13:00:00.000Z'), type: 'decision-refused' });
    // Act
    const fourth = await approvals.eventsForDay('2025-03-04');
    const fifth = await approvals.eventsForDay('2025-03-05');
    // Assess
    expect(fourth.map((e) => e.eventId)).toEqual(['early-on-4th', 'noon-on-4th', 'tampered', 'late-on-4th']);
    expect(fifth.map((e) => e.eventId)).toEqual(['on-5th']);
  });

  // The approval rules (docs/policy.md): votes towards `required`, and the claim held to the rules.
  const ruled = () =>
    approvalRequest({
      stageName: 'StagingQA',
      policy: {
        ...envPolicy('shop', 'prod', {}, { approvers: ['S0RELEASERS'], required: 2, separateFrom: ['qa'] }),
        separatedFrom: ['U0CAROL'],
      },
    });
  const voteOf = (id: string, at: Date) => ({
    voteId: `vote-${id}`,
    actor: { id, name: id.toLowerCase(), via: 'slack' as const },
    at,
  });

  it('counts each person’s vote once, and keeps who voted and when', async () => {
    // Prepare
    const approvals = await store();
    const request = ruled();
    await approvals.saveRequest(request);
    // Act
    const first = await approvals.vote(request.id, voteOf('U0ALICE', t0), { key: 'shop/prod' }, t0);
    const again = await approvals.vote(request.id, voteOf('U0ALICE', later(1_000)), { key: 'shop/prod' }, later(1_000));
    const second = await approvals.vote(request.id, voteOf('U0BOB', later(2_000)), { key: 'shop/prod' }, later(2_000));
    // Assess
    expect([first.counted, again.counted, second.counted]).toEqual([true, false, true]);
    expect(second.record.status).toBe('pending');
    expect(second.record.votes).toEqual([voteOf('U0ALICE', t0), voteOf('U0BOB', later(2_000))]);
    const trail = await approvals.eventsForApproval(request.id);
    expect(trail.filter((event) => event.type === 'vote').map((event) => event.actor?.id)).toEqual([
      'U0ALICE',
      'U0BOB',
    ]);
  });

  it('counts every one of twenty simultaneous votes by different people once', async () => {
    // Prepare
    const approvals = await store();
    const request = ruled();
    await approvals.saveRequest(request);
    const people = Array.from({ length: 20 }, (_, i) => `U0P${String(i).padStart(4, '0')}`);
    // Act
    const results = await Promise.all(
      people.map((id) => approvals.vote(request.id, voteOf(id, t0), { key: 'shop/prod' }, t0)),
    );
    // Assess
    expect(results.every((result) => result.counted)).toBe(true);
    expect((await approvals.get(request.id))?.votes?.map((vote) => vote.actor.id).sort()).toEqual(people);
  });

  it('refuses a vote or claim by someone separated from the approval, and one under other rules', async () => {
    // Prepare
    const approvals = await store();
    const request = ruled();
    await approvals.saveRequest(request);
    const carol = slackDecision('approve', t0, { id: 'U0CAROL', name: 'Carol' });
    // Act
    const vote = approvals.vote(request.id, voteOf('U0CAROL', t0), { key: 'shop/prod' }, t0);
    const claim = approvals.claim(request.id, claimOf(carol, 'claim-carol'), t0, { key: 'shop/prod' });
    const unruled = approvals.claim(request.id, claimOf(slackDecision('approve', t0), 'claim-alice'), t0, {
      key: undefined,
    });
    // Assess
    await expect(vote).rejects.toBeInstanceOf(SeparatedError);
    await expect(claim).rejects.toBeInstanceOf(SeparatedError);
    await expect(unruled).rejects.toBeInstanceOf(RulesMismatchError);
    // Carol may still reject: separation is about approving.
    const rejected = await approvals.claim(
      request.id,
      claimOf(slackDecision('reject', t0, { id: 'U0CAROL', name: 'Carol' }), 'claim-reject'),
      t0,
      { key: 'shop/prod' },
    );
    expect(rejected.status).toBe('deciding');
  });

  it('refuses votes once the approval is being decided or closed', async () => {
    // Prepare
    const approvals = await store();
    const request = ruled();
    await approvals.saveRequest(request);
    await approvals.claim(request.id, claimOf(slackDecision('approve', t0), 'claim-1'), t0, { key: 'shop/prod' });
    // Act
    const vote = approvals.vote(request.id, voteOf('U0BOB', t0), { key: 'shop/prod' }, t0);
    // Assess
    await expect(vote).rejects.toBeInstanceOf(AlreadyDecidedError);
  });
});

describe('DynamoApprovalStore: what its per-day index holds', () => {
  it('holds no approval token, live or past, for whoever reads the audit trail', async () => {
    // Prepare: one approval closed, one still open
    const db = DynamoDBDocumentClient.from(local.client);
    const tableName = `approvals-test-${++tables}`;
    await createApprovalsTable(local.client, tableName);
    const approvals = new DynamoApprovalStore(db, tableName);
    const closed = approvalRequest({ token: 'c1c1c1c1-58cc-4372-a567-0e02b2c3d479' });
    const open = approvalRequest({ token: '0e0e0e0e-58cc-4372-a567-0e02b2c3d479' });
    for (const request of [closed, open]) await approvals.saveRequest(request);
    await approvals.recordOutcome(closed.id, { kind: 'expired', at: t0 });
    // Act: the index as an auditor's Query reads it
    const { Items = [] } = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TABLE_KEYS.byDay.name,
        KeyConditionExpression: '#pk = :day',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.byDay.partition },
        ExpressionAttributeValues: { ':day': `DAY#${t0.toISOString().slice(0, 10)}` },
      }),
    );
    // Assess
    expect(Items).toHaveLength(1);
    expect(JSON.stringify(Items)).not.toContain(closed.token);
  });
});

describe('DynamoApprovalStore with items of an earlier version', () => {
  it('lets a claim without an end be taken over once it is older than the stale limit', async () => {
    // Prepare: the earlier version wrote claims without `until`.
    const db = DynamoDBDocumentClient.from(local.client);
    const approvals = new DynamoApprovalStore(db, local.dynamo.tableName);
    const request = approvalRequest({ token: 'c0ffee00-58cc-4372-a567-0e02b2c3d479' });
    await approvals.saveRequest(request);
    const old = slackDecision('approve', t0, { id: 'U0ALICE' });
    await db.send(
      new UpdateCommand({
        TableName: local.dynamo.tableName,
        Key: { pk: `APPROVAL#${request.id}`, sk: 'APPROVAL' },
        UpdateExpression: 'SET #status = :deciding, #claim = :claim',
        ExpressionAttributeNames: { '#status': 'status', '#claim': 'claim' },
        ExpressionAttributeValues: {
          ':deciding': 'deciding',
          ':claim': { verdict: 'approve', actor: old.actor, at: t0.toISOString(), claimId: 'old' },
        },
      }),
    );
    // Act
    const early = approvals.claim(
      request.id,
      claimOf(slackDecision('reject', later(30_000), { id: 'U0BOB' }), 'bob'),
      later(30_000),
    );
    const late = approvals.claim(
      request.id,
      claimOf(slackDecision('reject', later(61_000), { id: 'U0BOB' }), 'bob-later'),
      later(61_000),
    );
    // Assess
    await expect(early).rejects.toBeInstanceOf(AlreadyDecidedError);
    await expect(late).resolves.toMatchObject({ claim: { claimId: 'bob-later' } });
  });
});
