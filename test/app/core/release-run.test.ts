import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import { type Actor, type ApprovalRecord, type MessageRef, STALE_CLAIM_MS } from '../../../app/core/approval.ts';
import { decideApproval } from '../../../app/core/decide-approval.ts';
import { decideUnderRules } from '../../../app/core/decide-under-rules.ts';
import { policyByKey } from '../../../app/core/policy.ts';
import type { PlanItem, ReleasePlan } from '../../../app/core/release.ts';
import { itemKey, releaseActor } from '../../../app/core/release.ts';
import { RUN_SETTINGS, type RunDeps, requestFromPlan, runRelease } from '../../../app/core/release-run.ts';
import { counterIds, FakeNotifier, FakePipelines, fixedClock, memoryLog, slackDecision } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeProgress, FakeReader, MemoryReleaseStore, pipelineSnapshot, token } from '../../support/release-fakes.ts';

const alice: Actor = { id: 'U0ALICE', name: 'Alice', via: 'slack' };

function setup() {
  const clock = fixedClock('2025-03-04T10:00:00Z');
  const sleeps: number[] = [];
  const deps = {
    store: new MemoryApprovalStore(),
    pipelines: new FakePipelines(),
    notifier: new FakeNotifier(),
    clock,
    ids: counterIds('id'),
    log: memoryLog(),
    releases: new MemoryReleaseStore(),
    reader: new FakeReader(),
    reporter: new FakeProgress(),
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  } satisfies RunDeps;
  return { deps, sleeps };
}

type Deps = ReturnType<typeof setup>['deps'];

const pinned = (n: number, revisionId = `c${n}`): PlanItem => ({
  pipelineName: `shop-s${n}`,
  kind: 'include',
  approval: {
    approvalId: approvalIdFor(token(n)),
    stageName: 'StagingQA',
    actionName: 'Approve',
    token: token(n),
    revision: { revisionId, summary: `Commit ${revisionId}` },
    waitingSince: new Date('2025-03-04T09:00:00Z'),
  },
});

function plan(items: PlanItem[], releaseId = 'rel-1', by: Actor = alice): ReleasePlan {
  return {
    releaseId,
    product: { name: 'shop', displayName: 'Shop' },
    env: 'prod',
    stageName: 'StagingQA',
    region: 'eu-central-1',
    requestedBy: by,
    source: 'slack',
    channel: 'C0RELEASES',
    createdAt: new Date('2025-03-04T09:59:00Z'),
    items,
  };
}

/** A confirmed release; `announced` approvals are in the store with their Slack message (SNS delivered). */
async function confirmed(
  deps: Deps,
  items: PlanItem[],
  options: { releaseId?: string; announced?: boolean; by?: Actor } = {},
) {
  const release = plan(items, options.releaseId, options.by);
  await deps.releases.savePlan(release);
  await deps.releases.confirm(release.releaseId, deps.clock());
  if (options.announced ?? true) {
    for (const item of items) {
      if (item.kind !== 'include') continue;
      const request = requestFromPlan({ ...release, state: 'confirmed', results: {} }, item, deps.clock());
      await deps.store.saveRequest(request);
      await deps.store.recordMessage(request.id, { channel: 'C0APPROVALS', ts: `1.${item.pipelineName}` });
    }
  }
  return release;
}

describe('runRelease', () => {
  it('approves every pinned approval once, as the release, and records each result', async () => {
    // Prepare
    const { deps } = setup();
    const items = [pinned(1), pinned(2), pinned(3)];
    await confirmed(deps, items);

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(report.status).toBe('finished');
    expect(
      deps.pipelines.calls.map((call) => [call.request.pipelineName, call.request.token, call.decision.verdict]),
    ).toEqual([
      ['shop-s1', token(1), 'approve'],
      ['shop-s2', token(2), 'approve'],
      ['shop-s3', token(3), 'approve'],
    ]);
    expect(deps.pipelines.calls[0]?.decision.actor).toEqual({
      id: 'rel-1',
      name: 'Shop → prod by Alice',
      via: 'release',
      release: { what: 'Shop → prod', requestedBy: 'U0ALICE', requesterName: 'Alice' },
    });
    expect(deps.pipelines.calls[0]?.summary).toBe(
      'Approved by Shop → prod by Alice (rel-1) via Greenlight release: asked by Slack user U0ALICE',
    );
    const stored = await deps.releases.get('rel-1');
    expect(stored?.state).toBe('finished');
    expect(Object.values(stored?.results ?? {}).map((result) => result.kind)).toEqual([
      'approved',
      'approved',
      'approved',
    ]);
    expect((await deps.store.get(approvalIdFor(token(2))))?.outcome?.kind).toBe('approved');
  });

  it('links the decision events to the release and redraws each service message', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    const events = deps.store.allEvents().filter((event) => event.type === 'outcome');
    expect(events.map((event) => [event.approval?.pipelineName, event.result, event.releaseId])).toEqual([
      ['shop-s1', 'approved', 'rel-1'],
      ['shop-s2', 'approved', 'rel-1'],
    ]);
    expect(deps.notifier.refreshed.map((record) => [record.request.pipelineName, record.outcome?.kind])).toEqual([
      ['shop-s1', 'approved'],
      ['shop-s2', 'approved'],
    ]);
  });

  it('stores an approval it has not heard of from the pinned plan before deciding it', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1)], { announced: false });

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    const record = await deps.store.get(approvalIdFor(token(1)));
    expect(record).toMatchObject({
      status: 'closed',
      outcome: { kind: 'approved' },
      request: { pipelineName: 'shop-s1', stageName: 'StagingQA', actionName: 'Approve', region: 'eu-central-1' },
    });
    // Neither a link it stored nor, once closed, the record itself carries the token.
    expect(JSON.stringify(record)).not.toContain(token(1));
    const requested = deps.store.allEvents().find((event) => event.type === 'requested');
    expect(requested).toMatchObject({ eventId: `${approvalIdFor(token(1))}#requested`, releaseId: 'rel-1' });
  });

  it('reports an approval a person decided first, by whom, without calling CodePipeline for it', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    const bob = slackDecision('reject', deps.clock(), { id: 'U0BOB', name: 'Bob', reason: 'broken' });
    await decideApproval(deps, approvalIdFor(token(2)), bob);
    deps.pipelines.calls.length = 0;

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(deps.pipelines.calls.map((call) => call.request.pipelineName)).toEqual(['shop-s1']);
    expect((await deps.releases.get('rel-1'))?.results['shop-s2']).toMatchObject({
      kind: 'already-decided',
      verdict: 'reject',
      by: { id: 'U0BOB', via: 'slack' },
    });
  });

  it('reports a pinned approval a newer revision replaced as changed, and approves nothing else there', async () => {
    // Prepare: c1 was answered in the console and c5 now waits in the stage with another token.
    const { deps } = setup();
    await confirmed(deps, [pinned(1)]);
    deps.pipelines.fail('decided-elsewhere');
    deps.reader.set(pipelineSnapshot('shop-s1', { StagingQA: { revisionId: 'c5', token: token(5) } }));

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(deps.pipelines.calls.map((call) => call.request.token)).toEqual([token(1)]);
    expect((await deps.releases.get('rel-1'))?.results['shop-s1']).toMatchObject({
      kind: 'changed',
      revision: { revisionId: 'c5' },
    });
  });

  it("reads a pipeline of another account there, never with Greenlight's own reader", async () => {
    // Prepare: shop-s1 lives in account B; Greenlight's own account has a shop-s1 of its own.
    const { deps } = setup();
    const inB = new FakeReader();
    const places: unknown[] = [];
    const remote = { ...pinned(1), place: { account: '444455556666', region: 'us-west-2' } } as PlanItem;
    await confirmed(deps, [remote]);
    deps.pipelines.fail('decided-elsewhere');
    deps.reader.set(pipelineSnapshot('shop-s1', { StagingQA: { revisionId: 'c1', token: token(1) } }));
    inB.set(pipelineSnapshot('shop-s1', { StagingQA: { revisionId: 'c9', token: token(9) } }));
    const withPlaces: RunDeps = {
      ...deps,
      readerAt: async (place) => {
        places.push(place);
        return inB;
      },
    };

    // Act
    await runRelease(withPlaces, 'rel-1', { owner: 'w1' });

    // Assess: the newer revision in B explains the ending; the local shop-s1 was never read.
    expect(places).toEqual([{ account: '444455556666', region: 'us-west-2' }]);
    expect(deps.reader.reads).toEqual([]);
    expect((await deps.releases.get('rel-1'))?.results['shop-s1@444455556666/us-west-2']).toMatchObject({
      kind: 'changed',
      revision: { revisionId: 'c9' },
    });
  });

  it('tells an approval decided in the console from one that expired', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    deps.pipelines.fail('decided-elsewhere').fail('expired');
    deps.reader
      .set(pipelineSnapshot('shop-s1', { StagingQA: { revisionId: 'c1', status: 'Succeeded' } }))
      .set(pipelineSnapshot('shop-s2', { StagingQA: { revisionId: 'c2', status: 'Failed', busyAction: 'Approve' } }));

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    const results = (await deps.releases.get('rel-1'))?.results;
    expect(results?.['shop-s1']).toMatchObject({ kind: 'already-decided' });
    expect(results?.['shop-s1']).not.toHaveProperty('by');
    expect(results?.['shop-s2']).toMatchObject({ kind: 'not-pending' });
  });

  it('tries a busy CodePipeline again with growing pauses, then reports the pipeline failed', async () => {
    // Prepare
    const { deps, sleeps } = setup();
    await confirmed(deps, [pinned(1)]);
    deps.pipelines.fail('transient', 3);

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(deps.pipelines.calls).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
    expect(report.run?.results['shop-s1']).toMatchObject({
      kind: 'failed',
      why: 'CodePipeline did not take it after 3 tries (ThrottlingException)',
    });
    expect((await deps.store.get(approvalIdFor(token(1))))?.status).toBe('pending');
  });

  it('approves on a later try when CodePipeline recovers', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1)]);
    deps.pipelines.fail('transient', 2);

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(deps.pipelines.calls).toHaveLength(3);
    expect(report.run?.results['shop-s1']?.kind).toBe('approved');
  });

  it('reports a pipeline that no longer exists as failed', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1)]);
    deps.pipelines.fail({ gone: 'pipeline' });

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(report.run?.results['shop-s1']).toMatchObject({ kind: 'failed', why: 'the pipeline no longer exists' });
  });

  it('does nothing again when the same job is delivered twice', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Act
    const again = await runRelease(deps, 'rel-1', { owner: 'w2' });

    // Assess
    expect(again.status).toBe('finished');
    expect(deps.pipelines.calls).toHaveLength(2);
    expect(deps.reporter.posted).toHaveLength(1);
  });

  it('lets two deliveries of one job at once work on each pipeline once', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(
      deps,
      [1, 2, 3, 4, 5, 6].map((n) => pinned(n)),
    );

    // Act
    const reports = await Promise.all([
      runRelease(deps, 'rel-1', { owner: 'w1' }),
      runRelease(deps, 'rel-1', { owner: 'w2' }),
    ]);

    // Assess
    expect(deps.pipelines.calls).toHaveLength(6);
    expect(new Set(deps.pipelines.calls.map((call) => call.request.token)).size).toBe(6);
    expect(reports.map((report) => report.status)).toContain('finished');
    expect(Object.values((await deps.releases.get('rel-1'))?.results ?? {}).every((r) => r.kind === 'approved')).toBe(
      true,
    );
  });

  it('never approves twice when two releases pin the same approvals', async () => {
    // Prepare
    const { deps } = setup();
    const carol: Actor = { id: 'U0CAROL', name: 'Carol', via: 'slack' };
    await confirmed(deps, [pinned(1), pinned(2), pinned(3)], { releaseId: 'rel-a' });
    await confirmed(deps, [pinned(1), pinned(2), pinned(3)], { releaseId: 'rel-b', by: carol, announced: false });

    // Act
    const [a, b] = await Promise.all([
      runRelease(deps, 'rel-a', { owner: 'w1' }),
      runRelease(deps, 'rel-b', { owner: 'w2' }),
    ]);

    // Assess
    expect(deps.pipelines.calls).toHaveLength(3);
    const kinds = [...Object.values(a.run?.results ?? {}), ...Object.values(b.run?.results ?? {})].map((r) => r.kind);
    expect(kinds.filter((kind) => kind === 'approved')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'already-decided')).toHaveLength(3);
  });

  it('stops starting pipelines when told to, and the next run finishes the rest', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(
      deps,
      [1, 2, 3, 4].map((n) => pinned(n)),
    );
    let asked = 0;

    // Act
    const first = await runRelease(deps, 'rel-1', { owner: 'w1', shouldStop: () => ++asked > 1 });
    const second = await runRelease(deps, 'rel-1', { owner: 'w2' });

    // Assess
    expect(first.status).toBe('stopped');
    expect(Object.keys(first.run?.results ?? {})).toHaveLength(1);
    expect(second.status).toBe('finished');
    expect(deps.pipelines.calls).toHaveLength(4);
  });

  it('leaves a pipeline another worker holds, and says the release is incomplete', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    deps.releases.holdLease('rel-1', 'shop-s2', 'other', new Date('2025-03-04T10:04:00Z'));

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(report.status).toBe('incomplete');
    expect(deps.pipelines.calls.map((call) => call.request.pipelineName)).toEqual(['shop-s1']);
  });

  it('runs nothing for a release nobody confirmed', async () => {
    // Prepare
    const { deps } = setup();
    await deps.releases.savePlan(plan([pinned(1)]));

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(report.status).toBe('not-confirmed');
    expect(deps.pipelines.calls).toEqual([]);
    expect(deps.reporter.posted).toEqual([]);
  });

  it('fails the job when the store fails, so it is delivered again, and gives back what it held', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1)]);
    deps.releases.failLeases = 1;

    // Act
    const failed = runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    await expect(failed).rejects.toThrow('ProvisionedThroughputExceededException');
    const retried = await runRelease(deps, 'rel-1', { owner: 'w2' });
    expect(retried.status).toBe('finished');
  });

  it('posts one progress message, redraws it as it goes and shows the end', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2), pinned(3)]);

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(deps.reporter.posted).toHaveLength(1);
    expect(deps.reporter.updates.at(-1)).toMatchObject({ state: 'finished' });
    expect(Object.keys(deps.reporter.updates.at(-1)?.results ?? {})).toHaveLength(3);
    // The clock stands still: one update as results start to come in, and the final one.
    expect(deps.reporter.updates).toHaveLength(2);
  });

  it('draws into the progress message a run posted without an answer, never posting a second one', async () => {
    // Prepare: the first run's post lands in the channel, but Slack's answer is lost
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    deps.reporter.loseAnswers = 1;
    let asked = 0;
    const first = await runRelease(deps, 'rel-1', { owner: 'w1', shouldStop: () => ++asked > 1 });
    // Act: the next delivery, once the first one's lease on the post has run out
    deps.clock.advance(RUN_SETTINGS.messageLeaseMs + 1_000);
    const second = await runRelease(deps, 'rel-1', { owner: 'w2' });
    // Assess: one message, found and recorded, and the end drawn into it
    expect([first.status, second.status]).toEqual(['stopped', 'finished']);
    expect(deps.reporter.posted).toHaveLength(1);
    expect((await deps.releases.get('rel-1'))?.message).toEqual({ channel: 'C0RELEASES', ts: '1700000000.000001' });
    expect(deps.reporter.updates.at(-1)?.state).toBe('finished');
  });

  it('runs without a progress message when Slack refuses to post it', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1)]);
    deps.reporter.failPosts = 1;

    // Act
    const report = await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(report.status).toBe('finished');
    expect(deps.log.entries.some((entry) => entry.message === 'Could not post the release progress message')).toBe(
      true,
    );
  });

  it('keeps every token out of the logs', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    deps.pipelines.fail('transient').fail('decided-elsewhere');

    // Act
    await runRelease(deps, 'rel-1', { owner: 'w1' });

    // Assess
    expect(deps.log.lines.join('\n')).not.toMatch(/0b1c2d3e-4f50-4a6b-8c7d-/);
  });

  it('gives a pipeline back, not a failure, while an interrupted attempt of the same release still holds its claim', async () => {
    // Prepare: an earlier delivery claimed shop-s1 ten seconds ago, then DynamoDB failed it.
    const { deps } = setup();
    const release = await confirmed(deps, [pinned(1), pinned(2)]);
    const claimedAt = new Date(deps.clock().getTime() - 10_000);
    await deps.store.claim(
      approvalIdFor(token(1)),
      {
        verdict: 'approve',
        actor: releaseActor(release),
        at: claimedAt,
        claimId: 'earlier',
        until: new Date(claimedAt.getTime() + STALE_CLAIM_MS),
      },
      claimedAt,
    );

    // Act
    const first = await runRelease(deps, 'rel-1', { owner: 'w1' });
    deps.clock.advance(60_000);
    const later = await runRelease(deps, 'rel-1', { owner: 'w2' });

    // Assess
    expect(first.status).toBe('incomplete');
    expect(first.run?.results['shop-s1']).toBeUndefined();
    expect(first.run?.results['shop-s2']?.kind).toBe('approved');
    expect(later.status).toBe('finished');
    expect(later.run?.results['shop-s1']?.kind).toBe('approved');
    expect(deps.pipelines.calls.map((call) => call.request.pipelineName)).toEqual(['shop-s2', 'shop-s1']);
  });

  it('redraws the progress message at most once every 3 s while results come in', async () => {
    // Prepare: each approval takes CodePipeline a second.
    const { deps } = setup();
    await confirmed(
      deps,
      [1, 2, 3, 4, 5, 6].map((n) => pinned(n)),
    );
    const put = deps.pipelines.putApprovalResult.bind(deps.pipelines);
    deps.pipelines.putApprovalResult = async (...args) => {
      deps.clock.advance(1_000);
      return put(...args);
    };

    // Act
    await runRelease({ ...deps, settings: { concurrency: 1 } }, 'rel-1', { owner: 'w1' });

    // Assess: 6 s of results: one redraw as they start, one 3 s later, and the end.
    expect(deps.reporter.updates).toHaveLength(3);
    expect(deps.reporter.updates.at(-1)).toMatchObject({ state: 'finished' });
  });

  it('leaves service messages it has not started to redraw once told to stop, to settle jobs', async () => {
    // Prepare: redrawing the first message takes long enough for the Lambda to near its timeout.
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    const settles: string[] = [];
    const settleLater = async (approvalId: string) => {
      settles.push(approvalId);
    };
    let stop = false;
    const redrawn: string[] = [];
    const notifier = {
      announce: deps.notifier.announce.bind(deps.notifier),
      refresh: async (record: ApprovalRecord) => {
        redrawn.push(record.request.pipelineName);
        stop = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    };

    // Act
    const report = await runRelease({ ...deps, notifier, settleLater, settings: { refreshConcurrency: 1 } }, 'rel-1', {
      owner: 'w1',
      shouldStop: () => stop,
    });

    // Assess: the message not redrawn is a settle job's, so it loses its buttons all the same
    expect(report.status).toBe('finished');
    expect(redrawn).toHaveLength(1);
    expect(settles).toEqual([approvalIdFor(token(2))]);
  });

  it('has a settle job redraw a service message Slack would not redraw during the release', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2)]);
    deps.notifier.failRefresh(1);
    const settles: { approvalId: string; delaySeconds: number }[] = [];
    const settleLater = async (approvalId: string, delaySeconds: number) => {
      settles.push({ approvalId, delaySeconds });
    };
    // Act
    const report = await runRelease({ ...deps, settleLater }, 'rel-1', { owner: 'w1' });
    // Assess
    expect(report.status).toBe('finished');
    expect(settles).toEqual([{ approvalId: approvalIdFor(token(1)), delaySeconds: 10 }]);
  });

  it('waits for a hung service-message redraw no longer than its budget', async () => {
    // Prepare: Slack never answers the redraw.
    const { deps } = setup();
    await confirmed(deps, [pinned(1)]);
    const notifier = {
      announce: deps.notifier.announce.bind(deps.notifier),
      refresh: () => new Promise<void>(() => {}),
    };

    // Act
    const report = await runRelease({ ...deps, notifier }, 'rel-1', { owner: 'w1', drainBudgetMs: () => 1_000 });

    // Assess
    expect(report.status).toBe('finished');
    expect(deps.log.entries.map((entry) => entry.message)).toContain(
      'Stopped waiting for service-message redraws: the invocation is running out of time',
    );
  }, 2_000);

  it('posts one progress message when two deliveries of the job run at once', async () => {
    // Prepare
    const { deps } = setup();
    await confirmed(deps, [pinned(1), pinned(2), pinned(3)]);

    // Act
    await Promise.all([runRelease(deps, 'rel-1', { owner: 'w1' }), runRelease(deps, 'rel-1', { owner: 'w2' })]);

    // Assess
    expect(deps.reporter.posted).toHaveLength(1);
    const stored = await deps.releases.get('rel-1');
    expect(stored?.message).toEqual<MessageRef>({ channel: 'C0RELEASES', ts: '1700000000.000001' });
    expect(deps.reporter.updates.at(-1)).toMatchObject({ state: 'finished' });
  });

  it('reports an approval its requester voted on that then closed, instead of retrying it for ever', async () => {
    // Prepare: shop prod needs two approvers; Alice votes with a click, then releases; Bob rejects first.
    const { deps } = setup();
    const products = { shop: { envs: { prod: { stage: 'StagingQA', required: 2 } } } };
    const rules = policyByKey('shop/prod', products);
    if (!rules) throw new Error('shop/prod has no rules');
    const ruled = { ...deps, rules: { products, groups: { groupsOf: async () => new Set<string>() } } };
    const item = pinned(1);
    if (item.kind !== 'include') throw new Error('pinned() includes its pipeline');
    const release = await confirmed(deps, [item], { announced: false });
    const planned = requestFromPlan({ ...release, state: 'confirmed', results: {} }, item, deps.clock());
    const request = { ...planned, policy: rules };
    await deps.store.saveRequest(request);
    await deps.store.recordMessage(request.id, { channel: 'C0APPROVALS', ts: '1.1' });
    const under = { rulesKey: 'shop/prod' };
    await decideUnderRules(ruled, request.id, slackDecision('approve', deps.clock()), under);
    const bob = { id: 'U0BOB', name: 'Bob', reason: 'Checkout is broken' };
    expect((await decideUnderRules(ruled, request.id, slackDecision('reject', deps.clock(), bob), under)).status).toBe(
      'closed',
    );

    // Act
    const report = await runRelease(ruled, 'rel-1', { owner: 'w1' });

    // Assess: one run, finished, with Bob's rejection as the pipeline's result; nothing sent for it.
    expect(report.status).toBe('finished');
    expect(report.run?.results[itemKey(item)]).toMatchObject({
      kind: 'already-decided',
      by: { id: 'U0BOB' },
      verdict: 'reject',
    });
    expect(deps.pipelines.calls.map((call) => call.decision.actor.id)).toEqual(['U0BOB']);
  });
});
