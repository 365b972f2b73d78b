import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import type { MessageRef } from '../../../app/core/approval.ts';
import type { Digest } from '../../../app/core/digest.ts';
import type { ProductBoard } from '../../../app/core/product-board.ts';
import type { ReleasePlan, ReleaseRun } from '../../../app/core/release.ts';
import type { JobResults, ReleaseJob, ReleaseReporter } from '../../../app/core/release-ports.ts';
import { RELEASE_SETTINGS } from '../../../app/core/release-run.ts';
import type { ActionDeps } from '../../../app/inbound/release-action.ts';
import type { SlackMessage } from '../../../app/views/approval-message.ts';
import { productBoardMessage } from '../../../app/views/product-board.ts';
import { counterIds, FakeNotifier, FakePipelines, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader, MemoryReleaseStore, pipelineSnapshot, token } from '../core/release-fakes.ts';

/** The worker's Slack, recorded. */
export class FakeReporter implements ReleaseReporter {
  readonly plans: Array<{ viewId: string; plan: ReleasePlan; viewHash?: string }> = [];
  readonly digests: Array<{ url: string; digest: Digest }> = [];
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
  async showPlan(viewId: string, plan: ReleasePlan, viewHash?: string): Promise<void> {
    if (this.closedViews.has(viewId)) throw Object.assign(new Error('not_found'), { data: { error: 'not_found' } });
    this.plans.push({ viewId, plan, ...(viewHash ? { viewHash } : {}) });
  }
  async showProblem(_viewId: string, _heading: string, text: string): Promise<void> {
    this.problems.push(text);
  }
  async respond(url: string, text: string): Promise<void> {
    this.responses.push({ url, message: { text, blocks: [] } });
  }
  async showBoard(url: string, board: ProductBoard): Promise<void> {
    this.responses.push({ url, message: productBoardMessage(board, new Date('2025-03-04T10:00:00Z')) });
  }
  async showDigest(url: string, digest: Digest): Promise<void> {
    this.digests.push({ url, digest });
  }
}

/** The release worker's and action's deps, of fakes: two shop pipelines wait in StagingQA; the queue and CodePipeline job results record. */
export function releaseDeps() {
  const sent: ReleaseJob[] = [];
  const delays: Array<number | undefined> = [];
  const jobs: Array<{ jobId: string; succeeded?: unknown; failed?: unknown }> = [];
  const sleeps: number[] = [];
  let whileSleeping: () => Promise<void> | void = () => {};
  const reader = new FakeReader()
    .set(pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c1', token: token(1) } }))
    .set(pipelineSnapshot('shop-catalog', { StagingQA: { revisionId: 'c2', token: token(2) } }));
  const deps = {
    config: { products: {}, approvalsChannel: 'C0APPROVALS', slackApiUrl: 'http://127.0.0.1:4390/api/' },
    store: new MemoryApprovalStore(),
    clock: fixedClock('2025-03-04T10:00:00Z'),
    ids: counterIds('id'),
    log: memoryLog(),
    releases: new MemoryReleaseStore(),
    queue: {
      send: async (job: ReleaseJob, options?: { delaySeconds?: number }) => {
        sent.push(job);
        delays.push(options?.delaySeconds);
      },
    },
    reader,
    pipelines: new FakePipelines(),
    notifier: new FakeNotifier(),
    reporter: new FakeReporter(),
    jobResults: {
      succeeded: async (jobId: string, result: Parameters<JobResults['succeeded']>[1]) =>
        void jobs.push({ jobId, succeeded: result }),
      failed: async (jobId: string, failure: Parameters<JobResults['failed']>[1]) =>
        void jobs.push({ jobId, failed: failure }),
    },
    region: 'eu-central-1',
    sleep: async (ms: number) => {
      sleeps.push(ms);
      await whileSleeping();
    },
    settings: { ...RELEASE_SETTINGS },
    approvalIdFor,
  } satisfies ActionDeps;
  const duringSleep = (hook: () => Promise<void> | void) => {
    whileSleeping = hook;
  };
  return { deps, sent, delays, jobs, sleeps, duringSleep };
}
