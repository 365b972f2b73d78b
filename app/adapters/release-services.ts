import type { Actor, ApprovalId } from '../core/approval.ts';
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
import { planRelease } from '../core/release-plan.ts';
import type { ReleaseProgress, ReleaseQueue, ReleaseStore, Sleep } from '../core/release-ports.ts';
import type { RunDeps, RunSettings } from '../core/release-run.ts';
import type { TargetLookup } from '../core/release-target.ts';
import type { SlackMessage } from '../views/approval-message.ts';
import type { OperationRateLimiter } from './release-rate-limit.ts';

/** What releases show in Slack beside the progress message: the modal's plan, answers to a command. */
export interface ReleaseReporter extends ReleaseProgress {
  showPlan(viewId: string, plan: ReleasePlan): Promise<void>;
  showProblem(viewId: string, heading: string, text: string): Promise<void>;
  respond(responseUrl: string, message: SlackMessage): Promise<void>;
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
}

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
  /** The CodePipeline request limiter, for its count of throttled calls. */
  limiter?: OperationRateLimiter;
}

/** The part of app/deps.ts's Deps that releases use. */
export interface ReleaseDeps {
  config: { products: Record<string, ProductOverride>; approvalsChannel: string };
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

/**
 * Plans the release and stores the plan. A repeated job (same release id) gets the plan stored the
 * first time, so what a person sees is always what a confirmation approves.
 */
export async function planAndSave(
  deps: ReleaseDeps,
  found: Extract<TargetLookup, { ok: true }>,
  input: { releaseId: string; requestedBy: Actor; source: ReleasePlan['source'] },
): Promise<ReleasePlan> {
  const { releases } = deps;
  const plan = await planRelease(
    { reader: releases.reader, clock: deps.clock, approvalIdFor: releases.approvalIdFor },
    {
      releaseId: input.releaseId,
      product: found.product,
      env: found.env,
      target: found.target,
      pipelines: found.pipelines,
      requestedBy: input.requestedBy,
      source: input.source,
      channel: found.product.channel ?? deps.config.approvalsChannel,
      region: releases.region,
    },
  );
  if ((await releases.store.savePlan(plan)) === 'created') {
    deps.log.info('Release planned', {
      releaseId: plan.releaseId,
      product: plan.product.name,
      env: plan.env,
      pipelines: plan.items.length,
      included: plan.items.filter((item) => item.kind === 'include').length,
    });
    return plan;
  }
  return (await releases.store.get(input.releaseId)) ?? plan;
}

/** Release ids: short, unique, safe in Slack, logs and CodePipeline summaries. */
export const newReleaseId = (ids: IdSource): string => `rel-${ids()}`;
