import { describe, expect, it } from 'vitest';
import { type ApprovalRequest, STALE_CLAIM_MS } from '../../../app/core/approval.ts';
import { dayOf } from '../../../app/core/audit.ts';
import { decideApproval } from '../../../app/core/decide-approval.ts';
import { settleStaleClaims } from '../../../app/core/pipeline-events.ts';
import type { PipelineGateway } from '../../../app/core/ports.ts';
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
} from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader } from '../../support/release-fakes.ts';

/*
 * Decisions that were never finished (core/pipeline-events.ts, `settleStaleClaims`): a click's
 * Lambda that died between its claim and its outcome leaves the approval `deciding`; once the claim
 * has run out, the reminder schedule queues it for the worker to settle.
 */

/** A click's Lambda that dies at PutApprovalResult: before CodePipeline takes the decision, or after. */
type Death = 'before CodePipeline took it' | 'after CodePipeline took it';

async function world(count = 1) {
  const store = new MemoryApprovalStore();
  const pipelines = new FakePipelines();
  const notifier = new FakeNotifier();
  const clock = fixedClock('2025-03-04T23:59:30Z');
  const log = memoryLog();
  const queued: Array<{ approvalId: string; delaySeconds: number }> = [];
  const deps = {
    store,
    pipelines,
    notifier,
    readerAt: async () => new FakeReader(),
    settleLater: async (approvalId: string, delaySeconds: number) => {
      queued.push({ approvalId, delaySeconds });
    },
    clock,
    ids: counterIds(),
    log,
  };
  const requests: ApprovalRequest[] = [];
  for (let i = 0; i < count; i++) {
    const request = approvalRequest({ pipelineName: `shop-${i}`, token: `token-${i}` });
    await requestApproval(deps, request);
    requests.push(request);
  }
  /** Someone clicks Approve, and the click's Lambda dies at PutApprovalResult (it never answers). */
  const clickThatDies = async (request: ApprovalRequest, death: Death, who = 'U0ALICE') => {
    const dying: PipelineGateway = {
      approvalResult: (r) => pipelines.approvalResult(r),
      putApprovalResult: async (...args) => {
        if (death === 'after CodePipeline took it') await pipelines.putApprovalResult(...args);
        return new Promise<never>(() => {});
      },
    };
    void decideApproval({ ...deps, pipelines: dying }, request.id, slackDecision('approve', clock(), { id: who }));
    // The claim is written before PutApprovalResult is called.
    for (let i = 0; i < 10 && (await store.get(request.id))?.status !== 'deciding'; i++) await Promise.resolve();
    expect((await store.get(request.id))?.status).toBe('deciding');
  };
  return { store, pipelines, notifier, clock, log, deps, requests, queued, clickThatDies };
}

describe('settleStaleClaims', () => {
  it('queues a settle job now for each approval whose decision was never finished, and files nothing itself', async () => {
    // Prepare: two clicks died, one before and one after CodePipeline took the decision
    const { deps, clock, requests, queued, clickThatDies, store } = await world(2);
    const [before, after] = requests as [ApprovalRequest, ApprovalRequest];
    await clickThatDies(before, 'before CodePipeline took it');
    await clickThatDies(after, 'after CodePipeline took it', 'U0BOB');
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    const result = await settleStaleClaims(deps);
    // Assess: both queued to settle at once; the worker settles them (core/settle-approval.ts)
    expect(result).toEqual({ stale: 2, queued: 2 });
    expect(queued).toHaveLength(2);
    expect(queued).toEqual(
      expect.arrayContaining([before.id, after.id].map((approvalId) => ({ approvalId, delaySeconds: 0 }))),
    );
    expect((await store.get(before.id))?.status).toBe('deciding');
  });

  it('settled by the worker, gives back a claim whose click died before CodePipeline took it, and closes one it took, credited', async () => {
    // Prepare: Alice's click dies at 23:59:30 before CodePipeline took it; Bob's after
    const { store, notifier, clock, deps, requests, queued, clickThatDies } = await world(2);
    const [alices, bobs] = requests as [ApprovalRequest, ApprovalRequest];
    await clickThatDies(alices, 'before CodePipeline took it');
    await clickThatDies(bobs, 'after CodePipeline took it', 'U0BOB');
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act: the schedule queues them, the worker settles them as a settle job does
    await settleStaleClaims(deps);
    for (const { approvalId } of queued) await settleApproval(deps, approvalId);
    // Assess: Alice's is open again with its buttons, the attempt filed on the day it was made
    const alice = await store.get(alices.id);
    expect(alice?.status).toBe('pending');
    expect(alice?.claim).toBeUndefined();
    expect(notifier.refreshed.filter((r) => r.request.id === alices.id).at(-1)).toMatchObject({ status: 'pending' });
    const attempted = (await store.eventsForDay('2025-03-04')).filter((e) => e.type === 'decision-attempted');
    expect(attempted.map((e) => e.actor?.id).sort()).toEqual(['U0ALICE', 'U0BOB']);
    expect(dayOf(clock())).toBe('2025-03-05');
    // Bob's is closed as approved by Bob
    expect((await store.get(bobs.id))?.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0BOB' } },
    });
  });

  it('leaves live claims and waiting approvals alone, without a call to CodePipeline', async () => {
    // Prepare: one click still within its claim, one approval nobody clicked
    const { store, pipelines, clock, deps, requests, queued, clickThatDies } = await world(2);
    const [live, waiting] = requests as [ApprovalRequest, ApprovalRequest];
    await clickThatDies(live, 'before CodePipeline took it');
    clock.advance(STALE_CLAIM_MS - 1_000);
    // Act
    const result = await settleStaleClaims(deps);
    // Assess
    expect(result).toEqual({ stale: 0, queued: 0 });
    expect(queued).toEqual([]);
    expect((await store.get(live.id))?.status).toBe('deciding');
    expect((await store.get(waiting.id))?.status).toBe('pending');
    expect(pipelines.stateQueries).toEqual([]);
  });

  it('gives back at once the dead claim on a request that did not read, which no decision can have reached', async () => {
    // Prepare: a click claimed a request Greenlight could not read fully, and died before giving it back
    const { store, pipelines, clock, deps, queued } = await world(0);
    const unreadable = approvalRequest({ pipelineName: 'shop-unread', token: 'token-u', unreadable: ['customData'] });
    await store.saveRequest(unreadable);
    await store.claim(
      unreadable.id,
      { ...slackDecision('approve', clock()), claimId: 'dead', until: clock() },
      clock(),
    );
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    const result = await settleStaleClaims(deps);
    // Assess: open again for the console, nothing queued, CodePipeline not asked
    expect(result).toEqual({ stale: 1, queued: 0 });
    expect((await store.get(unreadable.id))?.status).toBe('pending');
    expect(queued).toEqual([]);
    expect(pipelines.stateQueries).toEqual([]);
  });

  it('queues the others when one cannot be queued, then throws so the schedule runs again', async () => {
    // Prepare: three dead clicks; the queue refuses the first send
    const { clock, log, deps, requests, queued, clickThatDies } = await world(3);
    for (const request of requests) await clickThatDies(request, 'before CodePipeline took it');
    clock.advance(STALE_CLAIM_MS + 1_000);
    let refusals = 1;
    const flaky = {
      ...deps,
      settleLater: async (approvalId: string, delaySeconds: number) => {
        if (refusals-- > 0) throw new Error('SQS did not answer');
        await deps.settleLater(approvalId, delaySeconds);
      },
    };
    // Act
    const first = settleStaleClaims(flaky);
    await expect(first).rejects.toThrow('SQS did not answer');
    const afterFirst = queued.length;
    const second = await settleStaleClaims(deps);
    // Assess: two queued by the first run; the second queues all three again (settling twice is a no-op)
    expect(afterFirst).toBe(2);
    expect(second).toEqual({ stale: 3, queued: 3 });
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('the schedule tries again') }),
    );
  });
});
