import type { ApprovalId } from '../core/approval.ts';
import type { Digest } from '../core/digest.ts';
import type {
  ApprovalNotifier,
  ApprovalStore,
  Clock,
  IdSource,
  Log,
  Metrics,
  PipelineGateway,
  PipelineReader,
} from '../core/ports.ts';
import type { ProductOverride } from '../core/products.ts';
import type { ReleasePlan } from '../core/release.ts';
import type { SavePlanDeps } from '../core/release-plan.ts';
import type { ReleaseProgress, ReleaseQueue, ReleaseStore, Sleep } from '../core/release-ports.ts';
import { RUN_SETTINGS, type RunDeps, type RunSettings } from '../core/release-run.ts';
import type { SlackMessage } from '../views/approval-message.ts';

/** What releases show in Slack beside the progress message: the modal's plan, answers to a command. */
export interface ReleaseReporter extends ReleaseProgress {
  /** `viewHash`: Slack refuses the update (`hash_conflict`) when the modal changed since that hash. */
  showPlan(viewId: string, plan: ReleasePlan, viewHash?: string): Promise<void>;
  showProblem(viewId: string, heading: string, text: string, viewHash?: string): Promise<void>;
  respond(responseUrl: string, message: SlackMessage): Promise<void>;
  /** The digest preview, with links to the approval messages, through a command's response_url. */
  showDigest(responseUrl: string, digest: Digest): Promise<void>;
}

/** Reports a CodePipeline job's result (the releasing pipeline's Lambda invoke action). */
export interface JobResults {
  succeeded(
    jobId: string,
    result: { summary: string; percentComplete?: number; continuationToken?: string },
  ): Promise<void>;
  failed(jobId: string, failure: { type: 'JobFailed' | 'ConfigurationError'; message: string }): Promise<void>;
}

export interface ReleaseSettings extends RunSettings {
  /** Products with more pipelines than this are planned by the worker, not within the slash command's 3 s. */
  inlinePipelines: number;
  /** Time a worker keeps in hand before its Lambda's timeout: it stops starting pipelines then. */
  stopMarginMs: number;
  /**
   * A release the worker found held by others (`incomplete`) comes back this much later, as a new
   * job: soon enough to see a long release through, without waiting out the queue's visibility
   * timeout (30 minutes) and without spending the message's receives.
   */
  incompleteDelaySeconds: number;
  /** How long the release action waits before looking again at pipelines others hold. */
  incompleteWaitMs: number;
}

export const RELEASE_SETTINGS: Readonly<ReleaseSettings> = Object.freeze({
  ...RUN_SETTINGS,
  inlinePipelines: 10,
  stopMarginMs: 60_000,
  incompleteDelaySeconds: 60,
  incompleteWaitMs: 10_000,
});

/** What releases need beside the approval loop's dependencies; built in app/deps.ts. */
export interface ReleaseServices {
  store: ReleaseStore;
  queue: ReleaseQueue;
  /** Reads pipelines at a limited rate, patiently. */
  reader: PipelineReader;
  /** PutApprovalResult at a limited rate, with more retries than a click can afford. */
  pipelines: PipelineGateway;
  /** Redraws service messages with a Slack client that waits out rate limits. */
  notifier: ApprovalNotifier;
  reporter: ReleaseReporter;
  jobResults: JobResults;
  /** The region the pipelines are in. */
  region: string;
  sleep: Sleep;
  settings: ReleaseSettings;
  approvalIdFor: (token: string) => ApprovalId;
}

/** The part of app/deps.ts's Deps that releases use. */
export interface ReleaseDeps {
  config: {
    products: Record<string, ProductOverride>;
    approvalsChannel: string;
    /** Slack's Web API (SLACK_API_URL): its origin may serve response URLs too (the sandbox's do). */
    slackApiUrl?: string;
  };
  store: ApprovalStore;
  clock: Clock;
  ids: IdSource;
  log: Log;
  metrics?: Metrics;
  releases: ReleaseServices;
}

/** The fan-out's dependencies: the release's own clients in place of the click path's. */
export function runDeps(deps: ReleaseDeps): RunDeps {
  const { releases } = deps;
  return {
    store: deps.store,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    pipelines: releases.pipelines,
    notifier: releases.notifier,
    releases: releases.store,
    reader: releases.reader,
    progress: releases.reporter,
    sleep: releases.sleep,
    settings: releases.settings,
  };
}

/** What planning a release needs, from the release's own clients. */
export function savePlanDeps(deps: ReleaseDeps): SavePlanDeps {
  return {
    reader: deps.releases.reader,
    clock: deps.clock,
    approvalIdFor: deps.releases.approvalIdFor,
    releases: deps.releases.store,
    log: deps.log,
  };
}
