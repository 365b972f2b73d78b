import { describe, expect, it } from 'vitest';
import { type ApprovalRequest, STALE_CLAIM_MS } from '../../../app/core/approval.ts';
import { dayOf } from '../../../app/core/audit.ts';
import { decideApproval } from '../../../app/core/decide-approval.ts';
import { STALE_CLAIMS_PER_RUN, settleStaleClaims } from '../../../app/core/pipeline-events.ts';
import type { PipelineGateway } from '../../../app/core/ports.ts';
import { requestApproval } from '../../../app/core/request-approval.ts';
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
 * Lambda that died between its claim and its outcome leaves the approval `deciding`; the reminder
 * schedule settles it once the claim has run out.
 */

/** A click's Lambda that dies at PutApprovalResult: before CodePipeline takes the decision, or after. */
type Death = 'before CodePipeline took it' | 'after CodePipeline took it';

async function world(count = 1) {
  const store = new MemoryApprovalStore();
  const pipelines = new FakePipelines();
  const notifier = new FakeNotifier();
  const clock = fixedClock('2025-03-04T23:59:30Z');
  const log = memoryLog();
  const deps = {
    store,
    pipelines,
    notifier,
    readerAt: async () => new FakeReader(),
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
  return { store, pipelines, notifier, clock, log, deps, requests, clickThatDies };
}

describe('settleStaleClaims', () => {
  it('gives back an approval whose click died before CodePipeline took it, and files the attempt on its day', async () => {
    // Prepare: Alice's click dies at 23:59:30; the schedule runs after midnight, once the claim ran out
    const { store, notifier, clock, deps, requests, clickThatDies } = await world();
    const [request] = requests as [ApprovalRequest];
    await clickThatDies(request, 'before CodePipeline took it');
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    const result = await settleStaleClaims(deps);
    // Assess: open again, its buttons redrawn, the attempt in the day it was made
    expect(result).toEqual({ stale: 1, settled: 1 });
    const record = await store.get(request.id);
    expect(record?.status).toBe('pending');
    expect(record?.claim).toBeUndefined();
    expect(notifier.refreshed.at(-1)).toMatchObject({ status: 'pending' });
    const attempted = (await store.eventsForDay('2025-03-04')).filter((e) => e.type === 'decision-attempted');
    expect(attempted).toEqual([
      expect.objectContaining({ approvalId: request.id, actor: expect.objectContaining({ id: 'U0ALICE' }) }),
    ]);
    expect(dayOf(clock())).toBe('2025-03-05');
  });

  it('closes an approval whose click died after CodePipeline took it, credited to whoever clicked', async () => {
    // Prepare
    const { store, notifier, clock, deps, requests, clickThatDies } = await world();
    const [request] = requests as [ApprovalRequest];
    await clickThatDies(request, 'after CodePipeline took it', 'U0BOB');
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    const result = await settleStaleClaims(deps);
    // Assess
    expect(result).toEqual({ stale: 1, settled: 1 });
    const record = await store.get(request.id);
    expect(record?.status).toBe('closed');
    expect(record?.outcome).toMatchObject({ kind: 'approved', decision: { actor: { id: 'U0BOB' } } });
    expect(notifier.refreshed.at(-1)?.outcome).toMatchObject({ kind: 'approved' });
  });

  it('leaves live claims and waiting approvals alone, without a call to CodePipeline', async () => {
    // Prepare: one click still within its claim, one approval nobody clicked
    const { store, pipelines, notifier, clock, deps, requests, clickThatDies } = await world(2);
    const [live, waiting] = requests as [ApprovalRequest, ApprovalRequest];
    await clickThatDies(live, 'before CodePipeline took it');
    clock.advance(STALE_CLAIM_MS - 1_000);
    const redrawn = notifier.refreshed.length;
    // Act
    const result = await settleStaleClaims(deps);
    // Assess
    expect(result).toEqual({ stale: 0, settled: 0 });
    expect((await store.get(live.id))?.status).toBe('deciding');
    expect((await store.get(waiting.id))?.status).toBe('pending');
    expect(pipelines.stateQueries).toEqual([]);
    expect(notifier.refreshed).toHaveLength(redrawn);
  });

  it('settles the others when one cannot be read, then throws; the next run settles the rest', async () => {
    // Prepare: two dead clicks; CodePipeline cannot be read for the first settle
    const { store, pipelines, clock, log, deps, requests, clickThatDies } = await world(2);
    for (const request of requests) await clickThatDies(request, 'after CodePipeline took it');
    clock.advance(STALE_CLAIM_MS + 1_000);
    const unreadable = { ...deps, pipelines: Object.create(pipelines) as FakePipelines };
    let failures = 1;
    unreadable.pipelines.approvalResult = async (request) => {
      if (failures-- > 0) throw new Error('CodePipeline did not answer');
      return pipelines.approvalResult(request);
    };
    // Act
    const first = settleStaleClaims(unreadable);
    await expect(first).rejects.toThrow('CodePipeline did not answer');
    const statuses = await Promise.all(requests.map(async (r) => (await store.get(r.id))?.status));
    const second = await settleStaleClaims(deps);
    // Assess
    expect(statuses.sort()).toEqual(['closed', 'deciding']);
    expect(second).toEqual({ stale: 1, settled: 1 });
    expect(await Promise.all(requests.map(async (r) => (await store.get(r.id))?.status))).toEqual(['closed', 'closed']);
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('the schedule will try again') }),
    );
  });

  it(`settles at most ${STALE_CLAIMS_PER_RUN} a run and leaves the rest to the next`, async () => {
    // Prepare
    const { deps, clock, requests, clickThatDies } = await world(STALE_CLAIMS_PER_RUN + 2);
    for (const request of requests) await clickThatDies(request, 'before CodePipeline took it');
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    const first = await settleStaleClaims(deps);
    const second = await settleStaleClaims(deps);
    const third = await settleStaleClaims(deps);
    // Assess
    expect([first, second, third]).toEqual([
      { stale: STALE_CLAIMS_PER_RUN + 2, settled: STALE_CLAIMS_PER_RUN },
      { stale: 2, settled: 2 },
      { stale: 0, settled: 0 },
    ]);
  });
});
