import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-notification.ts';
import { InProcessReleaseQueue } from '../../../app/adapters/in-process-release-queue.ts';
import { processReleaseJobs, type SqsEvent } from '../../../app/adapters/release-jobs.ts';
import type { ReleaseDeps, ReleaseReporter } from '../../../app/adapters/release-services.ts';
import type { MessageRef } from '../../../app/core/approval.ts';
import type { ReleasePlan, ReleaseRun } from '../../../app/core/release.ts';
import type { ReleaseJob } from '../../../app/core/release-ports.ts';
import { RUN_SETTINGS } from '../../../app/core/release-run.ts';
import type { SlackMessage } from '../../../app/views/approval-message.ts';
import { counterIds, FakeNotifier, FakePipelines, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader, MemoryReleaseStore, pipelineSnapshot, token } from '../core/release-fakes.ts';

class FakeReporter implements ReleaseReporter {
  readonly plans: Array<{ viewId: string; plan: ReleasePlan }> = [];
  readonly problems: string[] = [];
  readonly responses: Array<{ url: string; message: SlackMessage }> = [];
  readonly progress: ReleaseRun[] = [];
  closedViews = new Set<string>();

  async post(run: ReleaseRun): Promise<MessageRef> {
    this.progress.push(run);
    return { channel: run.channel, ts: '1.000001' };
  }
  async update(run: ReleaseRun): Promise<void> {
    this.progress.push(run);
  }
  async showPlan(viewId: string, plan: ReleasePlan): Promise<void> {
    if (this.closedViews.has(viewId)) throw Object.assign(new Error('not_found'), { data: { error: 'not_found' } });
    this.plans.push({ viewId, plan });
  }
  async showProblem(_viewId: string, _heading: string, text: string): Promise<void> {
    this.problems.push(text);
  }
  async respond(url: string, message: SlackMessage): Promise<void> {
    this.responses.push({ url, message });
  }
}

function setup() {
  const sent: ReleaseJob[] = [];
  const reader = new FakeReader()
    .set(pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c1', token: token(1) } }))
    .set(pipelineSnapshot('shop-catalog', { StagingQA: { revisionId: 'c2', token: token(2) } }));
  const deps = {
    config: { products: {}, approvalsChannel: 'C0APPROVALS' },
    store: new MemoryApprovalStore(),
    clock: fixedClock('2025-03-04T10:00:00Z'),
    ids: counterIds('id'),
    log: memoryLog(),
    releases: {
      store: new MemoryReleaseStore(),
      queue: { send: async (job: ReleaseJob) => void sent.push(job) },
      reader,
      pipelines: new FakePipelines(),
      notifier: new FakeNotifier(),
      reporter: new FakeReporter(),
      jobResults: { succeeded: async () => {}, failed: async () => {} },
      region: 'eu-central-1',
      sleep: async () => {},
      settings: { ...RUN_SETTINGS, inlinePipelines: 10, stopMarginMs: 60_000 },
      approvalIdFor,
    },
  } satisfies ReleaseDeps;
  return { deps, sent };
}

const event = (...bodies: string[]): SqsEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i + 1}`, body })),
});

const planJob = (viewId = 'V0PLAN'): ReleaseJob => ({
  kind: 'plan',
  releaseId: 'rel-p1',
  product: 'shop',
  env: 'prod',
  viewId,
  requestedBy: { id: 'U0ALICE', name: 'Alice' },
});

describe('processReleaseJobs', () => {
  it('drops messages that are not release jobs instead of retrying them', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const response = await processReleaseJobs(
      deps,
      event('not json', '{"kind":"release"}', '{"kind":"release","releaseId":"rel-1","token":"x"}', '[]'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(deps.log.entries.filter((entry) => entry.message.startsWith('Dropped a queue message'))).toHaveLength(4);
  });

  it('plans a product for the modal, and shows the stored plan again when the job comes twice', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    deps.releases.reader.set(pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c9', token: token(9) } }));
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));

    // Assess
    const shown = deps.releases.reporter.plans.map(({ plan }) =>
      plan.items.map((item) => (item.kind === 'include' ? item.approval.token : item.pipelineName)),
    );
    expect(shown).toEqual([
      [token(1), token(2)],
      [token(1), token(2)],
    ]);
    expect((await deps.releases.store.get('rel-p1'))?.requestedBy).toEqual({
      id: 'U0ALICE',
      name: 'Alice',
      via: 'slack',
    });
  });

  it('lets a plan go when the person closed the modal meanwhile', async () => {
    // Prepare
    const { deps } = setup();
    deps.releases.reporter.closedViews.add('V0GONE');

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify(planJob('V0GONE'))));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
  });

  it('says in the modal which products there are when the product is gone', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    await processReleaseJobs(deps, event(JSON.stringify({ ...planJob(), product: 'blog' })));

    // Assess
    expect(deps.releases.reporter.problems).toEqual(['There is no product `blog`. Products: `shop`.']);
  });

  it('runs a confirmed release and answers a board request', async () => {
    // Prepare
    const { deps } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.store.confirm('rel-p1', deps.clock());

    // Act
    const response = await processReleaseJobs(
      deps,
      event(
        JSON.stringify({ kind: 'release', releaseId: 'rel-p1' }),
        JSON.stringify({ kind: 'board', product: 'shop', responseUrl: 'https://hooks.slack.com/commands/T0/1/x' }),
      ),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.releases.pipelines.calls.map((call) => call.request.pipelineName)).toEqual([
      'shop-cart',
      'shop-catalog',
    ]);
    expect(deps.releases.reporter.responses[0]?.message.text).toBe('shop: 2 pipelines, 2 waiting for approval');
  });

  it('reports a job that failed, and only that one, for SQS to deliver again', async () => {
    // Prepare
    const { deps } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.store.confirm('rel-p1', deps.clock());
    deps.releases.store.failLeases = 1;

    // Act
    const response = await processReleaseJobs(
      deps,
      event(
        JSON.stringify({ kind: 'release', releaseId: 'rel-p1' }),
        JSON.stringify({ kind: 'release', releaseId: 'rel-none' }),
      ),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('hands the rest of a release to a new job when its Lambda runs out of time', async () => {
    // Prepare
    const { deps, sent } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.store.confirm('rel-p1', deps.clock());

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' })), {
      getRemainingTimeInMillis: () => 10_000,
    });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.releases.pipelines.calls).toEqual([]);
    expect(sent).toEqual([{ kind: 'release', releaseId: 'rel-p1' }]);
  });
});

describe('InProcessReleaseQueue', () => {
  it('delivers later, never inside send, and again after a failure, up to three times', async () => {
    // Prepare
    const log = memoryLog();
    const queue = new InProcessReleaseQueue(log, 1);
    const receives: string[] = [];
    queue.consumeWith(async (sqs) => {
      const record = sqs.Records[0];
      receives.push(`${record?.body} #${record?.attributes?.ApproximateReceiveCount}`);
      if (record?.body.includes('rel-bad')) throw new Error('boom');
      return { batchItemFailures: record?.body.includes('rel-retry') ? [{ itemIdentifier: record.messageId }] : [] };
    });

    // Act
    await queue.send({ kind: 'release', releaseId: 'rel-ok' });
    const duringSend = receives.length;
    await queue.send({ kind: 'release', releaseId: 'rel-bad' });
    await queue.send({ kind: 'release', releaseId: 'rel-retry' });
    await queue.settle();

    // Assess
    expect(duringSend).toBe(0);
    expect(queue.idle()).toBe(true);
    expect(receives.filter((r) => r.includes('rel-ok'))).toHaveLength(1);
    expect(receives.filter((r) => r.includes('rel-bad')).map((r) => r.slice(-2))).toEqual(['#1', '#2', '#3']);
    expect(receives.filter((r) => r.includes('rel-retry'))).toHaveLength(3);
    expect(log.entries.filter((entry) => entry.message.includes('dead-lettered'))).toHaveLength(2);
  });
});
