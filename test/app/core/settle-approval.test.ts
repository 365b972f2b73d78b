import { describe, expect, it } from 'vitest';
import { approvalSummary, type Decision, STALE_CLAIM_MS } from '../../../app/core/approval.ts';
import { decideApproval, REDRAW_AGAIN_SECONDS } from '../../../app/core/decide-approval.ts';
import { ClaimKeptError, OutcomeNotRecordedError } from '../../../app/core/errors.ts';
import { requestApproval } from '../../../app/core/request-approval.ts';
import { settleApproval } from '../../../app/core/settle-approval.ts';
import {
  approvalRequest,
  counterIds,
  FakeNotifier,
  FakePipelines,
  fixedClock,
  memoryLog,
  slackDecision,
  type TestClock,
} from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

/** An approval waiting in Slack, with a queue that records the settle jobs a decision schedules. */
async function waitingApproval() {
  const store = new MemoryApprovalStore();
  const pipelines = new FakePipelines();
  const notifier = new FakeNotifier();
  const clock = fixedClock('2025-03-04T09:30:13Z');
  const settles: Array<{ approvalId: string; delaySeconds: number }> = [];
  const deps = {
    store,
    pipelines,
    notifier,
    clock,
    ids: counterIds(),
    log: memoryLog(),
    settleLater: async (approvalId: string, delaySeconds: number) => void settles.push({ approvalId, delaySeconds }),
  };
  const request = approvalRequest();
  await requestApproval(deps, request);
  clock.set('2025-03-04T10:15:00Z');
  return { store, pipelines, notifier, clock, deps, request, settles };
}

const outcomes = async (store: MemoryApprovalStore, id: string) =>
  (await store.eventsForApproval(id)).filter((event) => event.type === 'outcome');

/** Bob's click claimed the approval for a second, and its Lambda died; the claim has run out. */
async function claimOfADeadHolder(store: MemoryApprovalStore, clock: TestClock, id: string): Promise<void> {
  await claimThatDied(store, clock, id, slackDecision('approve', clock(), { id: 'U0BOB' }), 'dead');
}

/** A click that claimed the approval with `decision` for a second and died; its claim runs out. */
async function claimThatDied(
  store: MemoryApprovalStore,
  clock: TestClock,
  id: string,
  decision: Decision,
  claimId: string,
) {
  await store.claim(id, { ...decision, claimId, until: new Date(clock().getTime() + 1_000) }, clock());
  clock.advance(2_000);
}

/** CodePipeline shows `taken` as the approval's result; the settle runs once every claim has run out. */
async function settleAfterCodePipelineTook(world: Awaited<ReturnType<typeof waitingApproval>>, taken: Decision) {
  world.pipelines.answerResult({ state: 'decided', verdict: taken.verdict, summary: approvalSummary(taken) });
  world.clock.advance(STALE_CLAIM_MS);
  const result = await settleApproval(world.deps, world.request.id);
  return { result, outcome: (await world.store.get(world.request.id))?.outcome };
}

describe('settleApproval', () => {
  it('redraws later a message Slack refused to redraw after the decision, so no live buttons stay on an ended approval', async () => {
    // Prepare: Alice approves; Slack refuses the redraw
    const { store, notifier, clock, deps, request, settles } = await waitingApproval();
    notifier.failRefresh(1);
    await decideApproval(deps, request.id, slackDecision('approve', clock(), { id: 'U0ALICE' }));
    expect(settles).toEqual([{ approvalId: request.id, delaySeconds: REDRAW_AGAIN_SECONDS }]);
    // Act: the settle job
    const result = await settleApproval(deps, request.id);
    // Assess
    expect(result).toEqual({ status: 'redrawn' });
    expect(notifier.refreshed.at(-1)?.outcome).toMatchObject({ kind: 'approved' });
    expect(await outcomes(store, request.id)).toHaveLength(1);
  });

  it('records the approve CodePipeline took when recording it failed, credited to the person who gave it', async () => {
    // Prepare: Alice's approve lands; both tries to record it fail
    const { store, notifier, clock, deps, request, settles } = await waitingApproval();
    const recordOutcome = store.recordOutcome.bind(store);
    let failures = 2;
    store.recordOutcome = async (id, outcome) => {
      if (failures-- > 0) throw new Error('ProvisionedThroughputExceededException');
      return recordOutcome(id, outcome);
    };
    const decided = decideApproval(
      deps,
      request.id,
      slackDecision('approve', clock(), { id: 'U0ALICE', name: 'Alice' }),
    );
    await expect(decided).rejects.toBeInstanceOf(OutcomeNotRecordedError);
    expect(settles).toEqual([{ approvalId: request.id, delaySeconds: STALE_CLAIM_MS / 1000 }]);
    // Act: the settle job, once Alice's claim has run out
    clock.advance(STALE_CLAIM_MS + 1_000);
    const result = await settleApproval(deps, request.id);
    // Assess
    expect(result).toEqual({ status: 'recorded' });
    const record = await store.get(request.id);
    expect(record?.outcome).toMatchObject({ kind: 'approved', decision: { actor: { id: 'U0ALICE' } } });
    expect(notifier.refreshed.at(-1)?.outcome).toMatchObject({ kind: 'approved' });
    expect(await outcomes(store, request.id)).toEqual([
      expect.objectContaining({ result: 'approved', actor: expect.objectContaining({ id: 'U0ALICE' }) }),
    ]);
  });

  it('waits while a decision is being applied, and says until when', async () => {
    // Prepare: a live claim
    const { store, clock, deps, request } = await waitingApproval();
    const decision = slackDecision('approve', clock(), { id: 'U0BOB' });
    const until = new Date(clock().getTime() + STALE_CLAIM_MS);
    await store.claim(request.id, { ...decision, claimId: 'live', until }, clock());
    // Act
    const result = await settleApproval(deps, request.id);
    // Assess
    expect(result).toEqual({ status: 'busy', until });
  });

  it('leaves to a click the decision it applies while the settle job looks, so the clicker is credited, not the console', async () => {
    // Prepare: while the settle job asks CodePipeline, Bob's click claims the approval and its
    // approve lands; CodePipeline then shows it decided
    const { store, pipelines, clock, deps, request } = await waitingApproval();
    const bob = slackDecision('approve', clock(), { id: 'U0BOB' });
    const until = new Date(clock().getTime() + STALE_CLAIM_MS);
    deps.pipelines = Object.assign(Object.create(pipelines), {
      approvalResult: async () => {
        await store.claim(request.id, { ...bob, claimId: 'bob', until }, clock());
        return { state: 'decided', verdict: 'approve', summary: approvalSummary(bob) } as const;
      },
    });
    // Act
    const result = await settleApproval(deps, request.id);
    // Assess: the click's holder records the outcome; the job took nothing from it
    expect(result).toEqual({ status: 'busy', until });
    expect((await store.get(request.id))?.outcome).toBeUndefined();
    expect(await outcomes(store, request.id)).toEqual([]);
  });

  it('credits the clicker whose claim ran out after CodePipeline took the decision, though the job first read the approval as waiting', async () => {
    // Prepare: Bob's click claims and its approve lands while the job looks; then the click dies
    const { store, pipelines, clock, deps, request } = await waitingApproval();
    const bob = slackDecision('approve', clock(), { id: 'U0BOB' });
    deps.pipelines = Object.assign(Object.create(pipelines), {
      approvalResult: async () => {
        await claimThatDied(store, clock, request.id, bob, 'bob');
        return { state: 'decided', verdict: 'approve', summary: approvalSummary(bob) } as const;
      },
    });
    // Act
    const result = await settleApproval(deps, request.id);
    // Assess
    expect(result).toEqual({ status: 'recorded' });
    expect((await store.get(request.id))?.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0BOB' } },
    });
  });

  it('gives back the claim of a holder that died before CodePipeline took anything, so the buttons come back', async () => {
    // Prepare
    const { store, notifier, clock, deps, request } = await waitingApproval();
    await claimOfADeadHolder(store, clock, request.id);
    // Act
    const result = await settleApproval(deps, request.id);
    // Assess
    expect(result).toEqual({ status: 'open' });
    expect((await store.get(request.id))?.status).toBe('pending');
    expect(notifier.refreshed.at(-1)?.status).toBe('pending');
  });

  it('keeps the claim of a holder that died while CodePipeline cannot say where the approval stands, and throws to be retried', async () => {
    // Prepare: Bob's click died; whether its PutApprovalResult landed, CodePipeline cannot say yet
    const { store, pipelines, notifier, clock, deps, request } = await waitingApproval();
    await claimOfADeadHolder(store, clock, request.id);
    pipelines.answerResult({ state: 'unknown' });
    const redrawn = notifier.refreshed.length;
    // Act
    const settling = settleApproval(deps, request.id);
    // Assess: no buttons offered again on an approval CodePipeline may have taken
    await expect(settling).rejects.toThrow(ClaimKeptError);
    expect((await store.get(request.id))?.status).toBe('deciding');
    expect(notifier.refreshed).toHaveLength(redrawn);
  });

  it('credits a two-person approval whose deciding click died to both approvers, as the click would have', async () => {
    // Prepare: Bob's approve completes Alice's and his; CodePipeline takes it, and his Lambda dies
    const world = await waitingApproval();
    const { store, clock, request } = world;
    const decision = {
      ...slackDecision('approve', clock(), { id: 'U0BOB', name: 'Bob' }),
      approvers: [
        { id: 'U0ALICE', name: 'Alice' },
        { id: 'U0BOB', name: 'Bob' },
      ],
    };
    await claimThatDied(store, clock, request.id, decision, 'dead');
    // Act
    const { result, outcome } = await settleAfterCodePipelineTook(world, decision);
    // Assess
    expect(result).toEqual({ status: 'recorded' });
    expect(outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0BOB' }, approvers: decision.approvers, at: decision.at },
    });
  });

  it('credits the attempt whose whole summary CodePipeline keeps when one person tried twice', async () => {
    // Prepare: Alice rejects ("flaky checkout"); her click dies, the call lands late; she rejects
    // again ("wrong build") and that click dies too
    const world = await waitingApproval();
    const { store, clock, request } = world;
    const first = slackDecision('reject', clock(), { id: 'U0ALICE', reason: 'flaky checkout' });
    await claimThatDied(store, clock, request.id, first, 'first');
    await claimThatDied(
      store,
      clock,
      request.id,
      slackDecision('reject', clock(), { id: 'U0ALICE', reason: 'wrong build' }),
      'second',
    );
    // Act
    const { result, outcome } = await settleAfterCodePipelineTook(world, first);
    // Assess
    expect(result).toEqual({ status: 'recorded' });
    expect(outcome).toMatchObject({
      kind: 'rejected',
      decision: { reason: 'flaky checkout', at: first.at },
    });
  });

  it('dates a decision given in the console by CodePipeline’s clock, and names who gave it', async () => {
    // Prepare: Alice approved in the console at 10:05; the job settles at 10:15
    const { store, pipelines, deps, request } = await waitingApproval();
    const decidedAt = new Date('2025-03-04T10:05:00Z');
    const alice = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';
    pipelines.answerResult({ state: 'decided', verdict: 'approve', summary: 'LGTM', updatedBy: alice, at: decidedAt });
    // Act
    await settleApproval(deps, request.id);
    // Assess
    expect((await store.get(request.id))?.outcome).toMatchObject({
      kind: 'decided-elsewhere',
      by: alice,
      decidedAt,
      at: deps.clock(),
    });
    expect(await outcomes(store, request.id)).toEqual([
      expect.objectContaining({ decidedAt, reason: 'LGTM', detail: `by ${alice}` }),
    ]);
  });

  it('records an approval decided in the console as decided outside Slack, once however often it is settled', async () => {
    // Prepare
    const { store, pipelines, deps, request } = await waitingApproval();
    pipelines.decideInConsole(request, 'approve');
    // Act
    const first = await settleApproval(deps, request.id);
    const again = await settleApproval(deps, request.id);
    // Assess
    expect([first.status, again.status]).toEqual(['recorded', 'redrawn']);
    expect((await store.get(request.id))?.outcome?.kind).toBe('decided-elsewhere');
    expect(await outcomes(store, request.id)).toHaveLength(1);
  });
});
