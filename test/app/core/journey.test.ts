import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import type { Actor, Decision } from '../../../app/core/approval.ts';
import { approversOf, type ExecutionHint, followJourney } from '../../../app/core/journey.ts';
import type { PipelineSnapshot } from '../../../app/core/pipeline.ts';
import type { PipelinePlace } from '../../../app/core/pipeline-events.ts';
import { approvalRequest, counterIds, fixedClock, memoryLog } from '../../support/fakes.ts';
import { FakeThreads, MemoryJourneyStore } from '../../support/journey-fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader } from '../../support/release-fakes.ts';

/*
 * The change's journey (core/journey.ts) with fakes: linking, which approval a step belongs to,
 * steps implied by later events, and what gets no post at all.
 */

const STAGES = ['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD'];
const EXECUTION = 'exec-1';
const alice: Actor = { id: 'U0ALICE', name: 'alice', via: 'slack' };

/** One approval waiting in `stage` of `shop-cart`, in execution exec-1, and the fakes around it. */
async function waitingIn(stageName: string) {
  const store = new MemoryApprovalStore();
  const journeys = new MemoryJourneyStore();
  const threads = new FakeThreads();
  const reader = new FakeReader();
  const clock = fixedClock('2026-11-27T12:00:00Z');
  const request = approvalRequest({ pipelineName: 'shop-cart', stageName, actionName: 'Approve' });
  await store.saveRequest(request);
  await store.recordMessage(request.id, { channel: 'C0APPROVALS', ts: '1.000100' });
  reader.set(snapshot(stageName, request.token));
  const deps = {
    store,
    journeys,
    threads,
    readerAt: async () => reader,
    approvalIdFor: (token: string) => (token === request.token ? request.id : `other-${token}`),
    clock,
    ids: counterIds(),
    log: memoryLog(),
  };
  await followJourney(
    deps,
    hint('action', 'StagingDEV', 'STARTED', { stageName, actionName: 'Approve', category: 'Approval' }),
  );
  return { store, journeys, threads, reader, deps, request };
}

function snapshot(waitingIn: string, token: string): PipelineSnapshot {
  return {
    name: 'shop-cart',
    stages: STAGES.map((name) => ({
      name,
      latest: { executionId: EXECUTION, status: 'InProgress' as const },
      actions: name === waitingIn ? [{ name: 'Approve', status: 'InProgress' as const, token }] : [],
    })),
  };
}

function hint(
  level: ExecutionHint['level'],
  stageName: string | undefined,
  state: string,
  more: Partial<ExecutionHint> = {},
): ExecutionHint {
  return {
    level,
    pipelineName: 'shop-cart',
    executionId: EXECUTION,
    state,
    region: 'eu-central-1',
    at: new Date('2026-11-27T12:20:00Z'),
    ...(stageName ? { stageName } : {}),
    ...more,
  };
}

const approved = (decision: Partial<Decision> = {}) => ({
  kind: 'approved' as const,
  decision: { verdict: 'approve' as const, actor: alice, at: new Date('2026-11-27T12:05:00Z'), ...decision },
  at: new Date('2026-11-27T12:05:01Z'),
});

/** An approving click that has claimed the approval and not yet written its outcome. */
const claimApproval = (store: MemoryApprovalStore, id: string) =>
  store.claim(
    id,
    { ...approved().decision, claimId: 'c1', until: new Date('2026-11-27T12:06:00Z') },
    new Date('2026-11-27T12:05:00Z'),
  );

const kinds = (threads: FakeThreads) =>
  threads.steps.map(({ step }) => `${step.kind}${'stageName' in step ? ` ${step.stageName}` : ''}`);

describe('followJourney', () => {
  it('links the approval its STARTED event finds waiting, and follows it once Greenlight approved', async () => {
    // Prepare
    const { store, journeys, threads, deps, request } = await waitingIn('StagingQA');
    await store.recordOutcome(request.id, approved());
    // Act: the pipeline's success comes first, then the stage's events, twice
    await followJourney(deps, hint('pipeline', undefined, 'SUCCEEDED'));
    for (const state of ['STARTED', 'SUCCEEDED', 'STARTED', 'SUCCEEDED'])
      await followJourney(deps, hint('stage', 'StagingPROD', state));
    // Assess
    expect(await journeys.journeysOf('shop-cart', EXECUTION)).toEqual([
      expect.objectContaining({ stageName: 'StagingQA', approvalId: request.id, stages: STAGES }),
    ]);
    expect(kinds(threads)).toEqual(['started StagingPROD', 'succeeded StagingPROD', 'production']);
    expect(threads.steps.at(-1)?.step).toMatchObject({ kind: 'production', elapsedMs: 15 * 60_000 });
  });

  it('posts nothing for an approval decided elsewhere, nor for an execution it never linked', async () => {
    // Prepare
    const { store, threads, deps, request } = await waitingIn('StagingQA');
    await store.recordOutcome(request.id, { kind: 'decided-elsewhere', verdict: 'approve', at: new Date() });
    // Act
    await followJourney(deps, hint('stage', 'StagingPROD', 'SUCCEEDED'));
    await followJourney(deps, { ...hint('stage', 'StagingPROD', 'SUCCEEDED'), executionId: 'another' });
    // Assess
    expect(threads.steps).toEqual([]);
  });

  it('asks for the event again while the approving click’s outcome is still being written', async () => {
    // Prepare
    const { store, deps, request } = await waitingIn('StagingQA');
    await claimApproval(store, request.id);
    // Act / Assess
    await expect(followJourney(deps, hint('stage', 'StagingPROD', 'STARTED'))).rejects.toThrow(/still being recorded/);
  });

  it('waits a moment for the approving click to write its outcome, so a routine race is no failed delivery', async () => {
    // Prepare: CodePipeline moved on before the click wrote its outcome, which lands during the first wait
    const { store, threads, deps, request } = await waitingIn('StagingQA');
    await claimApproval(store, request.id);
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      if (waits.length === 1) await store.recordOutcome(request.id, approved());
    };
    // Act
    const result = await followJourney({ ...deps, sleep }, hint('stage', 'StagingPROD', 'STARTED'));
    // Assess
    expect(result.posted).toBe(1);
    expect(kinds(threads)).toEqual(['started StagingPROD']);
    expect(waits).toEqual([100]);
  });

  it('gives up after about a second on a click that does not finish, and asks for the event again', async () => {
    // Prepare
    const { store, threads, deps, request } = await waitingIn('StagingQA');
    await claimApproval(store, request.id);
    const waits: number[] = [];
    // Act / Assess
    await expect(
      followJourney(
        { ...deps, sleep: async (ms: number) => void waits.push(ms) },
        hint('stage', 'StagingPROD', 'STARTED'),
      ),
    ).rejects.toThrow(/still being recorded/);
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBe(1_000);
    expect(threads.steps).toEqual([]);
  });

  it('links the next approval at once when the one before is a click’s still being written: no release line to wait for', async () => {
    // Prepare: DEV's approval claimed by a click, not yet written; QA's approval starts
    const { store, journeys, reader, deps, request } = await waitingIn('StagingDEV');
    await claimApproval(store, request.id);
    reader.set(snapshot('StagingQA', 'qa-token'));
    const waits: number[] = [];
    const untouched = () => Promise.reject(new Error('no release step expected'));
    const releaseSteps = {
      recordReleaseStep: untouched,
      releaseSteps: untouched,
      takeReleaseDraw: untouched,
      giveReleaseDrawBack: untouched,
    };
    // Act
    const result = await followJourney(
      { ...deps, releaseSteps, sleep: async (ms: number) => void waits.push(ms) },
      hint('action', 'StagingQA', 'STARTED', { actionName: 'Approve', category: 'Approval' }),
    );
    // Assess
    expect(result).toEqual({ linked: true, posted: 0 });
    expect(waits).toEqual([]);
    expect((await journeys.journeysOf('shop-cart', EXECUTION)).map((link) => link.stageName)).toEqual([
      'StagingDEV',
      'StagingQA',
    ]);
  });

  it('does not link an approval CodePipeline no longer shows waiting in that execution', async () => {
    // Prepare
    const { journeys, reader, deps } = await waitingIn('StagingDEV');
    reader.set({
      ...snapshot('StagingQA', 'a-newer-token'),
      stages: snapshot('StagingQA', 't').stages.map((s) => ({
        ...s,
        latest: { executionId: 'exec-2', status: 'InProgress' as const },
      })),
    });
    // Act
    const result = await followJourney(
      deps,
      hint('action', 'StagingQA', 'STARTED', { actionName: 'Approve', category: 'Approval' }),
    );
    // Assess
    expect(result.linked).toBe(false);
    expect(await journeys.journeysOf('shop-cart', EXECUTION)).toHaveLength(1);
  });

  it('names the failed action from CodePipeline for a stage’s failure, and mentions everyone whose approval counted', async () => {
    // Prepare
    const { store, reader, threads, deps, request } = await waitingIn('StagingQA');
    const approvers = [
      { id: 'U0ALICE', name: 'alice' },
      { id: 'U0BOB', name: 'bob' },
    ];
    await store.recordOutcome(request.id, approved({ approvers }));
    const failed = snapshot('none', '');
    const prod = failed.stages.find((s) => s.name === 'StagingPROD');
    if (prod) prod.actions = [{ name: 'Deploy', status: 'Failed', summary: 'Stack rolled back' }];
    reader.set(failed);
    // Act
    await followJourney(deps, hint('stage', 'StagingPROD', 'FAILED'));
    // Assess
    expect(threads.steps.map(({ step }) => step)).toEqual([
      expect.objectContaining({ kind: 'started', stageName: 'StagingPROD' }),
      expect.objectContaining({
        kind: 'failed',
        actionName: 'Deploy',
        summary: 'Stack rolled back',
        mention: ['U0ALICE', 'U0BOB'],
        link: `https://eu-central-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/shop-cart/executions/${EXECUTION}/timeline?region=eu-central-1`,
      }),
    ]);
  });

  it('gives a post back when Slack fails, so the event’s retry posts it', async () => {
    // Prepare
    const { store, threads, deps, request } = await waitingIn('StagingQA');
    await store.recordOutcome(request.id, approved());
    const journeyStep = threads.journeyStep.bind(threads);
    let failures = 1;
    threads.journeyStep = async (record, step) => {
      if (failures-- > 0) throw new Error('Slack answered 500');
      await journeyStep(record, step);
    };
    // Act
    await expect(followJourney(deps, hint('stage', 'StagingPROD', 'STARTED'))).rejects.toThrow('500');
    await followJourney(deps, hint('stage', 'StagingPROD', 'STARTED'));
    // Assess
    expect(kinds(threads)).toEqual(['started StagingPROD']);
  });
});

describe('followJourney in other accounts', () => {
  const A = { account: '111122223333', region: 'eu-west-1' };

  it('links an approval waiting in another account by its id there, reading the pipeline there, and follows it', async () => {
    // Prepare: the approval waits in account A, and was approved in Slack
    const store = new MemoryApprovalStore();
    const journeys = new MemoryJourneyStore();
    const threads = new FakeThreads();
    const reader = new FakeReader();
    const places: PipelinePlace[] = [];
    const waiting = approvalRequest({ pipelineName: 'shop-cart', stageName: 'StagingQA', actionName: 'Approve', ...A });
    const request = { ...waiting, id: approvalIdFor(waiting.token, A) };
    await store.saveRequest(request);
    await store.recordMessage(request.id, { channel: 'C0APPROVALS', ts: '1.000100' });
    await store.recordOutcome(request.id, approved());
    reader.set(snapshot('StagingQA', request.token));
    const deps = {
      store,
      journeys,
      threads,
      readerAt: async (place: PipelinePlace) => {
        places.push(place);
        return reader;
      },
      approvalIdFor,
      clock: fixedClock('2026-11-27T12:00:00Z'),
      ids: counterIds(),
      log: memoryLog(),
    };
    // Act
    const link = await followJourney(
      deps,
      hint('action', 'StagingQA', 'STARTED', { actionName: 'Approve', category: 'Approval', ...A }),
    );
    await followJourney(deps, hint('stage', 'StagingPROD', 'STARTED', A));
    // Assess
    expect(link.linked).toBe(true);
    expect(await journeys.journeysOf('shop-cart', EXECUTION)).toEqual([
      expect.objectContaining({ approvalId: request.id, region: A.region }),
    ]);
    expect(places).toEqual([A]);
    expect(kinds(threads)).toEqual(['started StagingPROD']);
  });

  it('posts nothing in a thread for an event of another account, however alike its pipeline and execution', async () => {
    // Prepare: Greenlight's own approval, approved in Slack
    const { store, threads, deps, request } = await waitingIn('StagingQA');
    await store.recordOutcome(request.id, approved());
    // Act
    const fromA = await followJourney(deps, hint('stage', 'StagingPROD', 'STARTED', A));
    const fromOwn = await followJourney(deps, hint('stage', 'StagingPROD', 'STARTED'));
    // Assess
    expect([fromA.posted, fromOwn.posted]).toEqual([0, 1]);
    expect(kinds(threads)).toEqual(['started StagingPROD']);
  });
});

describe('approversOf', () => {
  it('mentions who asked for a release, and never a name that is no Slack user id', () => {
    const release: Actor = {
      id: 'rel-1',
      name: 'shop → prod',
      via: 'release',
      release: { what: 'shop → prod', requestedBy: 'U0CAROL' },
    };
    expect(approversOf({ verdict: 'approve', actor: release, at: new Date() })).toEqual(['U0CAROL']);
    expect(approversOf({ verdict: 'approve', actor: { ...alice, id: '<!channel>' }, at: new Date() })).toEqual([]);
  });
});
