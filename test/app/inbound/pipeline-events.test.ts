import { describe, expect, it } from 'vitest';
import { requestApproval } from '../../../app/core/request-approval.ts';
import { handlePipelineEvent, parsePipelineEvent } from '../../../app/inbound/pipeline-events.ts';
import {
  actionAbandoned,
  actionFailed,
  legacyActionStarted,
  pipelineStarted,
  pipelineStopping,
  processedPipelineSucceeded,
  stageStopped,
} from '../../fixtures/codepipeline-events.ts';
import {
  approvalRequest,
  counterIds,
  FakeNotifier,
  FakePipelines,
  fixedClock,
  memoryLog,
  slackDecision,
} from '../../support/fakes.ts';
import { FakeThreads, MemoryJourneyStore } from '../../support/journey-fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader } from '../../support/release-fakes.ts';

describe('parsePipelineEvent', () => {
  it.each([
    ['Pipeline STARTED', pipelineStarted, { pipelineName: 'myPipeline', region: 'us-east-1' }],
    ['Pipeline STOPPING', pipelineStopping, { pipelineName: 'myPipeline', region: 'us-west-2' }],
    ['Stage STOPPED', stageStopped, { pipelineName: 'myPipeline', stageName: 'Deploy', region: 'us-west-2' }],
    ['Action FAILED', actionFailed, { pipelineName: 'myPipeline', stageName: 'Deploy', region: 'us-west-2' }],
    ['Action ABANDONED', actionAbandoned, { pipelineName: 'myPipeline', stageName: 'Deploy', region: 'us-west-2' }],
    [
      'the older Action STARTED',
      legacyActionStarted,
      { pipelineName: 'myPipeline', stageName: 'Prod', region: 'us-east-1' },
    ],
    ['a processed Pipeline SUCCEEDED', processedPipelineSucceeded, { pipelineName: 'myPipeline', region: 'us-east-1' }],
  ])('reads the documented %s event as a change of its pipeline (and stage)', (_name, event, change) => {
    // Act
    const parsed = parsePipelineEvent(structuredClone(event));
    // Assess
    expect(parsed).toMatchObject({ ok: true, change });
    if (parsed.ok) expect(parsed.change).toEqual(change);
  });

  it('reads an event with fields it does not know and without the optional ones', () => {
    // Prepare
    const event = structuredClone(actionFailed) as Record<string, unknown> & { detail: Record<string, unknown> };
    delete event.region;
    delete event.id;
    delete event.detail['execution-id'];
    event.detail['a-field-from-next-year'] = { nested: true };
    event.detail.version = 'seven';
    // Act
    const parsed = parsePipelineEvent(event);
    // Assess
    expect(parsed).toEqual(
      expect.objectContaining({ ok: true, change: { pipelineName: 'myPipeline', stageName: 'Deploy' } }),
    );
  });

  it('takes a stage event whose stage does not read for a change of the whole pipeline', () => {
    // Prepare
    const event = structuredClone(stageStopped);
    (event.detail as Record<string, unknown>).stage = 42;
    // Act / Assess
    expect(parsePipelineEvent(event)).toMatchObject({ ok: true, change: { pipelineName: 'myPipeline' } });
  });

  it.each([
    ['another service’s event', { ...structuredClone(pipelineStarted), source: 'aws.codebuild' }, 'source'],
    [
      'an unknown detail type',
      { ...structuredClone(pipelineStarted), 'detail-type': 'CodePipeline Webhook' },
      'detailType',
    ],
    ['no detail', { ...structuredClone(pipelineStarted), detail: undefined }, 'detail'],
    [
      'a pipeline name CodePipeline cannot have',
      { ...structuredClone(pipelineStarted), detail: { ...pipelineStarted.detail, pipeline: 'my pipeline; drop' } },
      'detail.pipeline',
    ],
    ['no state', { ...structuredClone(pipelineStarted), detail: { pipeline: 'myPipeline' } }, 'detail.state'],
  ])('refuses %s, naming the field without its value', (_name, event, field) => {
    // Act
    const parsed = parsePipelineEvent(event);
    // Assess
    expect(parsed).toEqual({ ok: false, problem: expect.stringContaining(field) });
    expect(JSON.stringify(parsed)).not.toContain('drop');
  });

  it('refuses what is not an object at all', () => {
    expect(parsePipelineEvent('{"source":"aws.codepipeline"}')).toEqual({ ok: false, problem: 'not an object' });
    expect(parsePipelineEvent(null)).toEqual({ ok: false, problem: 'not an object' });
  });
});

/** One approval waiting in Slack for `shop-cart › StagingDEV`, and the fakes around it. */
async function waitingApproval() {
  const store = new MemoryApprovalStore();
  const pipelines = new FakePipelines();
  const notifier = new FakeNotifier();
  const reader = new FakeReader();
  const clock = fixedClock('2025-03-04T09:30:13Z');
  const log = memoryLog();
  const settles: string[] = [];
  const posts: string[] = [];
  let queueDown = false;
  const deps = {
    store,
    pipelines,
    notifier,
    readerAt: async () => reader,
    journeys: new MemoryJourneyStore(),
    threads: new FakeThreads(),
    approvalIdFor: (token: string) => `id-of-${token}`,
    products: {},
    settleLater: async (approvalId: string) => {
      if (queueDown) throw new Error('SQS did not answer');
      settles.push(approvalId);
    },
    postLater: async (approvalId: string) => {
      if (queueDown) throw new Error('SQS did not answer');
      posts.push(approvalId);
    },
    clock,
    ids: counterIds(),
    log,
  };
  const request = approvalRequest({ pipelineName: 'shop-cart', stageName: 'StagingDEV', region: 'us-west-2' });
  await requestApproval(deps, request);
  clock.set('2025-03-04T10:15:00Z');
  const failQueue = () => {
    queueDown = true;
  };
  return { store, pipelines, notifier, reader, clock, log, deps, request, settles, posts, failQueue };
}

const event = (detail: Record<string, unknown>) => ({
  ...structuredClone(actionFailed),
  detail: {
    ...actionFailed.detail,
    pipeline: 'shop-cart',
    stage: 'StagingDEV',
    action: 'ApproveIntoQA',
    type: { owner: 'AWS', provider: 'Manual', category: 'Approval', version: '1' },
    ...detail,
  },
});

describe('handlePipelineEvent', () => {
  it('closes an approval rejected in the console once, however often and in whatever order its events come', async () => {
    // Prepare
    const { store, pipelines, notifier, deps, request } = await waitingApproval();
    pipelines.answerResult({
      state: 'decided',
      verdict: 'reject',
      summary: 'Not this week',
      updatedBy: 'arn:aws:sts::123456789012:assumed-role/Admin/mallory',
    });
    pipelines.decideInConsole(request, 'reject', 'Not this week');
    // Act
    await handlePipelineEvent(deps, event({ state: 'FAILED' }));
    await handlePipelineEvent(deps, {
      ...pipelineStopping,
      detail: { ...pipelineStopping.detail, pipeline: 'shop-cart', state: 'FAILED' },
    });
    await handlePipelineEvent(deps, event({ state: 'STARTED' }));
    await handlePipelineEvent(deps, event({ state: 'FAILED' }));
    // Assess
    const record = await store.get(request.id);
    expect(record?.status).toBe('closed');
    expect(record?.outcome).toMatchObject({ kind: 'decided-elsewhere', verdict: 'reject', summary: 'Not this week' });
    expect((await store.eventsForApproval(request.id)).filter((e) => e.type === 'outcome')).toHaveLength(1);
    expect(await store.listOpen()).toEqual([]);
    expect(notifier.refreshed.filter((r) => r.status === 'closed')).toHaveLength(1);
  });

  it('has a settle job redraw an approval it closed when Slack would not redraw it, as a retry of the event would find it closed', async () => {
    // Prepare
    const { store, pipelines, notifier, deps, request, settles } = await waitingApproval();
    pipelines.answerResult({ state: 'decided', verdict: 'approve', summary: 'Ship it' });
    pipelines.decideInConsole(request, 'approve', 'Ship it');
    notifier.failRefresh(1);
    // Act
    await handlePipelineEvent(deps, event({ state: 'SUCCEEDED' }));
    // Assess
    expect((await store.get(request.id))?.status).toBe('closed');
    expect(settles).toEqual([request.id]);
  });

  it('leaves an approval that still waits alone: no write, no redraw', async () => {
    // Prepare
    const { store, pipelines, notifier, deps, request } = await waitingApproval();
    pipelines.answerResult({ state: 'pending' });
    // Act: an older execution was superseded at a transition of the same pipeline
    const result = await handlePipelineEvent(deps, {
      ...pipelineStarted,
      region: 'us-west-2',
      detail: { ...pipelineStarted.detail, pipeline: 'shop-cart', state: 'SUPERSEDED' },
    });
    // Assess
    expect(result).toEqual({ checked: 1, closed: 0 });
    expect((await store.get(request.id))?.status).toBe('pending');
    expect(notifier.refreshed).toEqual([]);
  });

  it('closes an approval whose execution was stopped and abandoned as stopped', async () => {
    // Prepare
    const { store, pipelines, reader, deps, request } = await waitingApproval();
    pipelines.answerResult({ state: 'replaced' }).answerResult({ state: 'replaced' });
    reader.set({
      name: 'shop-cart',
      stages: [
        {
          name: 'StagingDEV',
          latest: { executionId: 'e-1', status: 'Stopped' },
          actions: [{ name: 'ApproveIntoQA', status: 'Abandoned' }],
        },
      ],
    });
    // Act
    await handlePipelineEvent(deps, event({ state: 'ABANDONED' }));
    // Assess
    expect((await store.get(request.id))?.outcome).toMatchObject({ kind: 'stopped', why: 'stopped' });
  });

  it('does not look at CodePipeline for events that can end no approval', async () => {
    // Prepare
    const { pipelines, deps } = await waitingApproval();
    // Act: beginnings, a stop-and-wait, and the end of a deploy action
    const results = [
      await handlePipelineEvent(deps, event({ state: 'STARTED' })),
      await handlePipelineEvent(deps, {
        ...pipelineStopping,
        detail: { ...pipelineStopping.detail, pipeline: 'shop-cart' },
      }),
      await handlePipelineEvent(deps, event({ state: 'SUCCEEDED', action: 'Deploy', type: actionFailed.detail.type })),
    ];
    // Assess
    expect(results).toEqual(Array(3).fill({ checked: 0, closed: 0 }));
    expect(pipelines.stateQueries).toEqual([]);
  });

  it('looks only at approvals of the pipeline and stage the event names', async () => {
    // Prepare
    const { pipelines, deps } = await waitingApproval();
    // Act
    const otherPipeline = await handlePipelineEvent(deps, {
      ...event({}),
      detail: { ...event({}).detail, pipeline: 'blog-web' },
    });
    const otherStage = await handlePipelineEvent(deps, event({ stage: 'StagingQA' }));
    // Assess
    expect([otherPipeline, otherStage]).toEqual([
      { checked: 0, closed: 0 },
      { checked: 0, closed: 0 },
    ]);
    expect(pipelines.stateQueries).toEqual([]);
  });

  it('throws when CodePipeline cannot say where the approval stands, so EventBridge delivers the event again', async () => {
    // Prepare
    const { store, pipelines, deps, request } = await waitingApproval();
    pipelines.answerResult({ state: 'unknown' });
    // Act / Assess
    await expect(handlePipelineEvent(deps, event({ state: 'FAILED' }))).rejects.toThrow(/did not say/);
    expect((await store.get(request.id))?.status).toBe('pending');
  });

  it('on the reminder schedule, still reminds when a decision never finished cannot be queued to settle, then throws to run again', async () => {
    // Prepare: a second approval whose click died an hour ago; the queue is down; the first is due
    // for its reminder (24 hours before it expires)
    const { store, clock, deps, request, settles, failQueue } = await waitingApproval();
    const dead = approvalRequest({ pipelineName: 'shop-api', stageName: 'StagingDEV', token: 'token-dead' });
    await requestApproval(deps, dead);
    const hourAgo = new Date(clock().getTime() - 3_600_000);
    await store.claim(
      dead.id,
      { ...slackDecision('approve', hourAgo), claimId: 'dead', until: new Date(hourAgo.getTime() + 60_000) },
      hourAgo,
    );
    clock.set('2025-03-10T09:35:00Z');
    failQueue();
    const threads = deps.threads;
    // Act
    const run = handlePipelineEvent(deps, { source: 'aws.events', 'detail-type': 'Scheduled Event' });
    // Assess
    await expect(run).rejects.toThrow('SQS did not answer');
    expect(settles).toEqual([]);
    expect(threads.reminders.map((posted) => posted.approvalId)).toEqual([request.id]);
  });

  it('on the reminder schedule, has the worker post an approval its notification stored but never posted', async () => {
    // Prepare: Slack refused the post through every try of the notification (9:40); one posted fine
    const { clock, deps, request, posts, log } = await waitingApproval();
    clock.set('2025-03-04T09:40:00Z');
    const unposted = approvalRequest({
      pipelineName: 'shop-api',
      stageName: 'StagingDEV',
      token: 'token-unposted',
      receivedAt: clock(),
    });
    deps.notifier.failAnnounce(5);
    for (let i = 0; i < 3; i++) await requestApproval(deps, unposted).catch(() => {});
    const schedule = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    // Act: 5 minutes later it may still be its notification's to post; 15 minutes later it is not
    clock.set('2025-03-04T09:45:00Z');
    const early = await handlePipelineEvent(deps, schedule);
    clock.set('2025-03-04T09:55:00Z');
    const late = await handlePipelineEvent(deps, schedule);
    // Assess
    expect(early).toMatchObject({ unposted: { unposted: 0, queued: 0 } });
    expect(late).toMatchObject({ unposted: { unposted: 1, queued: 1 } });
    expect(posts).toEqual([unposted.id]);
    expect(posts).not.toContain(request.id);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'An approval was never posted to Slack; the worker posts it now',
        context: expect.objectContaining({ approvalId: unposted.id }),
      }),
    );
  });

  it('on the reminder schedule, closes an approval answered in the console whose events were all lost', async () => {
    // Prepare: decided in the console; no event ever reached Greenlight (45 minutes since it arrived)
    const { store, pipelines, deps, request } = await waitingApproval();
    pipelines.answerResult({ state: 'decided', verdict: 'reject', summary: 'Not this week' });
    pipelines.decideInConsole(request, 'reject', 'Not this week');
    const schedule = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    // Act
    const result = await handlePipelineEvent(deps, schedule);
    // Assess
    expect(result).toMatchObject({ reconciled: { checked: 1, closed: 1 } });
    expect((await store.get(request.id))?.outcome).toMatchObject({ kind: 'decided-elsewhere', verdict: 'reject' });
  });

  it('on the reminder schedule, leaves alone an approval that waits, or one CodePipeline no longer shows as its own', async () => {
    // Prepare
    const { store, pipelines, deps, request } = await waitingApproval();
    const schedule = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    // Act
    pipelines.answerResult({ state: 'pending' });
    const pending = await handlePipelineEvent(deps, schedule);
    pipelines.answerResult({ state: 'replaced' });
    const replaced = await handlePipelineEvent(deps, schedule);
    // Assess: a newer approval in its place may be a PARALLEL pipeline's, whose state shows no tokens
    expect(pending).toMatchObject({ reconciled: { checked: 1, closed: 0 } });
    expect(replaced).toMatchObject({ reconciled: { checked: 1, closed: 0 } });
    expect((await store.get(request.id))?.status).toBe('pending');
  });

  it('logs a malformed event with what identifies it and drops it', async () => {
    // Prepare
    const { log, deps } = await waitingApproval();
    // Act
    const result = await handlePipelineEvent(deps, { id: 'evt-1', source: 'aws.codepipeline', 'detail-type': 'x' });
    // Assess
    expect(result).toBeUndefined();
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        context: expect.objectContaining({ eventId: 'evt-1', source: 'aws.codepipeline', detailType: 'x' }),
      }),
    );
  });
});
