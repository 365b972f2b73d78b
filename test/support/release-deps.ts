import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import type { JobResults, ReleaseJob, ReleaseQueue } from '../../app/core/release-ports.ts';
import { RELEASE_SETTINGS } from '../../app/core/release-run.ts';
import type { ActionDeps } from '../../app/inbound/release-action.ts';
import { MemoryMarkers } from './digest-fakes.ts';
import { counterIds, FakeNotifier, FakePipelines, fixedClock, memoryLog } from './fakes.ts';
import { MemoryApprovalStore } from './memory-store.ts';
import { FakeReader, FakeReporter, MemoryReleaseStore, pipelineSnapshot, token } from './release-fakes.ts';

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
    } as ReleaseQueue,
    reader,
    pipelines: new FakePipelines(),
    notifier: new FakeNotifier(),
    reporter: new FakeReporter(),
    digestMarkers: new MemoryMarkers(),
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
