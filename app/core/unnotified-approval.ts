import { type ApprovalId, type ApprovalRequest, requestFromState } from './approval.ts';
import { PipelineGoneError } from './errors.ts';
import { pendingApprovalIn } from './pipeline.ts';
import { policyAtIngest } from './policy-at-ingest.ts';
import type { PipelineReader } from './ports.ts';
import { discoverProducts, ownsPipeline, type ProductOverride } from './products.ts';
import { type RequestDeps, requestApproval, WORKER_POSTING } from './request-approval.ts';

/*
 * An approval CodePipeline started but never told Greenlight about: its notification was not
 * published, or not to Greenlight's topic (the action names no topic or another one; the topic
 * policy or its KMS key refuses the pipeline's role). That failure happens in the pipeline's
 * account, where Greenlight sees nothing, and the approval would wait unseen until it expired.
 * CodePipeline's own event says the approval started (core/journey.ts), so Greenlight looks again
 * a while later and, when no notification came, posts it from the pipeline's state.
 */

/** Where an approval started, as its Action Execution State Change event and the state say. */
export interface StartedApproval {
  approvalId: ApprovalId;
  pipelineName: string;
  stageName: string;
  actionName: string;
  region: string;
  /** Set for a pipeline in another account than Greenlight's. */
  account?: string;
}

/**
 * How long after an approval started its notification may take before Greenlight posts it from
 * the pipeline's state: SNS delivers in seconds, and a delivery that fails is tried for about three
 * and a half minutes (and then posted by the schedule, core/pipeline-events.ts `postUnposted`), so
 * by then a missing request means no notification came. Short enough that the job, delayed this
 * long, stays well inside the release queue's 15-minute age alarm.
 */
export const NOTIFICATION_GRACE_SECONDS = 360;

export interface UnnotifiedDeps extends RequestDeps {
  readerAt: (place: Pick<ApprovalRequest, 'region' | 'account'>) => Promise<Pick<PipelineReader, 'snapshot'>>;
  approvalIdFor: (token: string, place?: Pick<ApprovalRequest, 'region' | 'account'>) => ApprovalId;
  /** The approval rules (docs/policy.md): the request is posted under them, as a notification would be. */
  rules?: { products: Readonly<Record<string, ProductOverride>> };
}

/**
 * An approval younger than this may yet be notified, and is left to its notification: the job that
 * looks comes NOTIFICATION_GRACE_SECONDS after the start on AWS; the sandbox's queue runs it at
 * once, and its notifications are never lost.
 */
const NOT_BEFORE_MS = 5 * 60_000;

export type UnnotifiedResult = 'notified' | 'ended' | 'young' | 'not-an-env' | 'posted';

/**
 * Posts the approval that started at `started` if no notification brought it: `notified` when its
 * request is stored, `ended` when CodePipeline no longer shows it waiting (answered in the console,
 * expired, superseded, or the pipeline is gone), `young` when it started too recently to tell,
 * `not-an-env` for an approval in a stage none of its product's envs names (perhaps deliberately
 * not Greenlight's), `posted` otherwise. Posted as a notification
 * would be (core/request-approval.ts), under the env's rules, with an expiry estimated from
 * CodePipeline's default; logged and counted (`ApprovalNotNotified`, which alarms): the
 * notification path needs fixing.
 */
export async function postUnnotified(deps: UnnotifiedDeps, started: StartedApproval): Promise<UnnotifiedResult> {
  if (await deps.store.get(started.approvalId)) return 'notified';
  const place = { region: started.region, ...(started.account ? { account: started.account } : {}) };
  const reader = await deps.readerAt(place);
  let waiting: ReturnType<typeof pendingApprovalIn>;
  try {
    const stage = (await reader.snapshot(started.pipelineName)).stages.find((s) => s.name === started.stageName);
    waiting = stage ? pendingApprovalIn(stage) : undefined;
  } catch (error) {
    if (error instanceof PipelineGoneError) return 'ended';
    throw error;
  }
  if (!waiting || deps.approvalIdFor(waiting.token, place) !== started.approvalId) return 'ended';
  if (!inEnvStage(started, waiting.name, deps.rules?.products ?? {})) return 'not-an-env';
  const now = deps.clock();
  if (waiting.lastChange && now.getTime() - waiting.lastChange.getTime() < NOT_BEFORE_MS) return 'young';
  const request = requestFromState(
    {
      id: started.approvalId,
      pipelineName: started.pipelineName,
      stageName: started.stageName,
      actionName: waiting.name,
      ...place,
      token: waiting.token,
    },
    waiting.lastChange ?? now,
    now,
  );
  const policy = deps.rules ? await policyAtIngest(deps.rules.products, reader, request) : undefined;
  deps.metrics?.count('ApprovalNotNotified');
  deps.log.warn('CodePipeline started an approval whose notification never reached Greenlight; posting it', {
    approvalId: request.id,
    pipeline: request.pipelineName,
    stage: request.stageName,
    region: request.region,
    ...(request.account ? { account: request.account } : {}),
  });
  // For people to decide: never approved by policy here (there is no review of its change set).
  const { pipelines: _notToApprove, ...poster } = deps;
  await requestApproval({ ...poster, policyFor: async () => policy, posting: WORKER_POSTING }, request);
  return 'posted';
}

/** Whether the approval is the one an env of its product waits on (its stage, and its action if named). */
function inEnvStage(
  started: StartedApproval,
  actionName: string,
  products: Readonly<Record<string, ProductOverride>>,
): boolean {
  const candidates = discoverProducts([started.pipelineName], { ...products });
  const product = candidates.find((candidate) => ownsPipeline(candidate, started.pipelineName, candidates));
  return Object.values(product?.envs ?? {}).some(
    (env) => env.stage === started.stageName && (env.action === undefined || env.action === actionName),
  );
}
