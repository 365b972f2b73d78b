import {
  type Actor,
  type ApprovalRecord,
  type ApprovalRequest,
  type Decision,
  isStaleClaim,
  requestFromState,
} from './approval.ts';
import { approvalRef } from './audit.ts';
import type { DecideDeps } from './decide-approval.ts';
import { decideUnderRules, type RulesDeps } from './decide-under-rules.ts';
import { AlreadyDecidedError, ApprovalNotFoundError, InvalidInputError, TransientError } from './errors.ts';
import { mapLimit } from './map-limit.ts';
import { policyAtIngest } from './policy-at-ingest.ts';
import { AlreadyVotedError, FrozenError, PolicyRefusalError, SeparatedError } from './policy-errors.ts';
import type { PipelineReader } from './ports.ts';
import { ownValue } from './products.ts';
import {
  type IncludedItem,
  type ItemResult,
  includedItems,
  itemKey,
  type ReleaseRun,
  releaseActor,
  releaseCounts,
} from './release.ts';
import { waitingAction } from './release-plan.ts';
import type { ReleaseProgress, ReleaseStore, Sleep } from './release-ports.ts';
import { BackgroundRefresh, ensureProgressMessage, ThrottledProgress, within } from './release-progress.ts';

export interface RunSettings {
  /**
   * Pipelines worked on at once. The CodePipeline client's limiter sets the pace (it learns the
   * rate the service allows); this only needs to cover a pipeline's own time (claim, decision,
   * outcome, redraw), so that the limiter, not the fan-out, is what waits.
   */
  concurrency: number;
  /** Tries per pipeline when CodePipeline stays busy (each try is itself retried by the SDK). */
  attempts: number;
  /** Wait before the second try; the third waits twice as long, and so on. */
  retryDelayMs: number;
  /** How long one worker holds a pipeline of the release; far longer than deciding one takes. */
  leaseMs: number;
  /**
   * At most one progress-message update per interval. chat.update is Tier 3 (about 50 a minute per
   * workspace, shared with the service-message redraws of the same fan-out): one every 3 s leaves
   * most of that budget to the redraws.
   */
  progressIntervalMs: number;
  /** Service messages redrawn at once, beside the fan-out. */
  refreshConcurrency: number;
  /** How long one delivery holds the right to post the progress message; far longer than a post takes. */
  messageLeaseMs: number;
}

export const RUN_SETTINGS: Readonly<RunSettings> = Object.freeze({
  concurrency: 16,
  attempts: 3,
  retryDelayMs: 1_000,
  leaseMs: 5 * 60_000,
  progressIntervalMs: 3_000,
  refreshConcurrency: 4,
  messageLeaseMs: 30_000,
});

/** The release rules' settings beside the fan-out's: who plans, and when a worker stops or comes back. */
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

export interface RunDeps extends DecideDeps {
  releases: ReleaseStore;
  /** Reads a pipeline again when its pinned approval is gone, to tell "changed" from "not pending". */
  reader: PipelineReader;
  /** The reader where a pipeline in another account lives (through the role assumed there). */
  readerAt?: (place: { region: string; account?: string }) => Promise<PipelineReader>;
  reporter: ReleaseProgress;
  sleep: Sleep;
  settings?: Partial<RunSettings>;
  /**
   * The approval rules (docs/policy.md), held to for each pipeline when the release reaches it: a
   * freeze that began after the confirmation stops it there. Without them (scripts, tests of the
   * fan-out itself) the release approves as without rules.
   */
  rules?: RulesDeps;
}

export interface RunOptions {
  /** Unique per worker invocation: the lease holder. */
  owner: string;
  /**
   * Asked before each pipeline is started; `true` ends the run early (a Lambda nearing its timeout).
   * Once it says so, service messages still waiting to be redrawn are left as they are.
   */
  shouldStop?: () => boolean;
  /**
   * How long the end of the run may still wait, asked before each wait: for service-message redraws
   * in flight, then for the final progress update (the Lambda's remaining time, less what must
   * still follow). Unbounded when absent.
   */
  drainBudgetMs?: () => number;
  /** Told the run's status as soon as it is known, before the last progress update is drawn. */
  statusKnown?: (status: RunStatus) => void;
}

/**
 * - `finished`: every pinned approval has a result.
 * - `stopped`: `shouldStop` ended it early; run it again to go on.
 * - `incomplete`: other workers (or an interrupted earlier attempt of this release) hold some
 *   pipelines; run it again later to see them through.
 */
export type RunStatus = 'finished' | 'stopped' | 'incomplete' | 'not-confirmed' | 'not-found';

export interface RunReport {
  status: RunStatus;
  run?: ReleaseRun;
}

/**
 * An earlier attempt of this release claimed the approval moments ago and was interrupted before it
 * decided (a passing DynamoDB or Lambda failure): the claim goes stale within STALE_CLAIM_MS (core/approval.ts), and
 * a later run decides the approval then.
 */
const RETRY_LATER = 'retry-later' as const;

/**
 * The fan-out of a confirmed release: approves each pinned approval through decideApproval, so a
 * release and a button click share one claim and never both decide. Idempotent and race-safe per
 * run: each pipeline is leased by one worker and gets one result (conditional writes), so a
 * redelivered or concurrent job skips what is done. It never rejects anything (docs/concepts.md).
 */
export async function runRelease(deps: RunDeps, releaseId: string, options: RunOptions): Promise<RunReport> {
  const settings = { ...RUN_SETTINGS, ...deps.settings };
  const run = await deps.releases.get(releaseId);
  if (!run) return { status: 'not-found' };
  if (run.state === 'planned') return { status: 'not-confirmed', run };

  const shouldStop = () => options.shouldStop?.() ?? false;
  // What people see while it runs (release-progress.ts): never in the way of the approvals.
  const message = await ensureProgressMessage(deps, run, settings.messageLeaseMs);
  const progress = new ThrottledProgress(deps, message, settings.progressIntervalMs);
  const refreshes = new BackgroundRefresh(
    deps.notifier,
    deps.log,
    settings.refreshConcurrency,
    shouldStop,
    deps.settleLater,
  );
  const decideDeps: RunDeps = { ...deps, notifier: refreshes };
  const todo = includedItems(run).filter((item) => !ownValue(run.results, itemKey(item)));

  let stopped = false;
  let fault: { error: unknown } | undefined;
  await mapLimit(todo, settings.concurrency, async (item) => {
    if (fault) return;
    if (shouldStop()) {
      stopped = true;
      return;
    }
    const now = deps.clock();
    const key = itemKey(item);
    const leased = await deps.releases.leaseItem(
      releaseId,
      key,
      options.owner,
      new Date(now.getTime() + settings.leaseMs),
      now,
    );
    if (!leased) return;
    try {
      const result = await releaseOne(decideDeps, run, item, settings);
      if (result === RETRY_LATER) {
        // Not a result: give the pipeline back so a later run (or this one's retry) decides it.
        await deps.releases.giveItemBack(releaseId, key, options.owner);
        return;
      }
      if (await deps.releases.finishItem(releaseId, key, options.owner, result)) {
        run.results[key] = result;
        progress.changed(run);
      }
    } catch (error) {
      // Unexpected (the store is down …): give the pipeline back so the retried job can take it at once.
      fault ??= { error };
      await deps.releases.giveItemBack(releaseId, key, options.owner).catch(() => {});
    }
  });
  const budget = () => options.drainBudgetMs?.();
  // What people see, after the approvals: redraws in flight and the progress update, in the time left.
  const drawnInTime = () =>
    Promise.all([within(deps.sleep, progress.flush(), budget()), refreshes.drain(deps.sleep, budget())]);
  if (fault) {
    await drawnInTime();
    throw fault.error;
  }

  const latest = (await deps.releases.get(releaseId)) ?? run;
  const counts = releaseCounts(latest);
  const finished = counts.done === counts.total;
  const status: RunStatus = finished ? 'finished' : stopped ? 'stopped' : 'incomplete';
  options.statusKnown?.(status);
  const [drawn] = await drawnInTime();
  // Finished only now, just before the end is drawn: from then on the journey draws its steps on
  // the progress message (core/journey.ts), and an end drawn after them would hide them.
  if (finished && latest.state !== 'finished') {
    const at = deps.clock();
    await deps.releases.finishRun(releaseId, at);
    Object.assign(latest, { state: 'finished', finishedAt: latest.finishedAt ?? at });
    deps.log.info('Release finished', { releaseId, product: run.product.name, env: run.env, ...counts.byKind });
  }
  // A concurrent delivery that held the post may have recorded the message meanwhile: show the end there too.
  progress.follow(latest.message);
  // Slack may be slow to answer (its client waits out rate limits): the run returns in time all the
  // same, and the next run or the release's end draws the message again.
  if (!drawn || !(await within(deps.sleep, progress.show(latest), budget())))
    deps.log.warn('Left the release progress message as it was: the invocation is running out of time', {
      releaseId,
    });
  return { status, run: latest };
}

/** Decides one pipeline's pinned approval, and says how it ended for the release. */
async function releaseOne(
  deps: RunDeps,
  run: ReleaseRun,
  item: IncludedItem,
  settings: RunSettings,
): Promise<ItemResult | typeof RETRY_LATER> {
  const { approval } = item;
  const policy = await ensureRequest(deps, run, item);
  const actor = releaseActor(run);
  for (let attempt = 1; ; attempt += 1) {
    const decision: Decision = { verdict: 'approve', actor, at: deps.clock() };
    try {
      // Under the env's rules as a click is: the requester's vote where more are required.
      const record = await decideUnderRules(deps, approval.approvalId, decision, {
        releaseId: run.releaseId,
        ...(policy ? { rulesKey: policy.key } : {}),
      });
      return votedOn(record, actor, deps.clock()) ?? (await resultOf(deps, run, item, record));
    } catch (error) {
      if (error instanceof AlreadyDecidedError) return resultOf(deps, run, item, error.record);
      if (error instanceof AlreadyVotedError) {
        // The requester's vote is counted: the approval is still open for more, or it ended meanwhile
        // (rejected, expired, answered in the console), which is then the pipeline's result.
        const voted = votedOn(error.record, actor, deps.clock());
        if (voted) return voted;
        return error.record.outcome ? resultOf(deps, run, item, error.record) : retryLater(deps);
      }
      if (error instanceof PolicyRefusalError) return { kind: 'refused', why: refusalText(error), at: deps.clock() };
      if (error instanceof TransientError && attempt < settings.attempts) {
        deps.log.info('CodePipeline busy; trying the pipeline again', {
          releaseId: run.releaseId,
          pipeline: itemKey(item),
          attempt,
        });
        await deps.sleep(settings.retryDelayMs * attempt);
        continue;
      }
      if (error instanceof TransientError)
        return failed(deps, `CodePipeline did not take it after ${attempt} tries (${causeName(error)})`);
      // Only the error's name: AWS messages may echo request values.
      if (error instanceof InvalidInputError)
        return failed(deps, `CodePipeline refused the request (${causeName(error)})`);
      if (error instanceof ApprovalNotFoundError) return failed(deps, 'Greenlight lost track of this approval');
      throw error;
    }
  }
}

/**
 * A vote counted for the release's requester where the rules ask for more approvals; undefined when
 * the release decided (or found the approval decided).
 */
function votedOn(record: ApprovalRecord, actor: Actor, at: Date): ItemResult | undefined {
  const required = record.request.policy?.required ?? 1;
  const votes = record.votes ?? [];
  if (record.outcome || required <= 1 || votes.length >= required) return undefined;
  if (!votes.some((vote) => vote.actor.id === actor.release?.requestedBy)) return undefined;
  return { kind: 'voted', votes: votes.length, required, at };
}

/** Why the rules kept the release from approving, in the words of its progress message and job result. */
function refusalText(error: PolicyRefusalError): string {
  if (error instanceof FrozenError) return `frozen until ${error.freeze.endLabel} (${error.freeze.reason})`;
  if (error instanceof SeparatedError)
    return `the requester approved this revision in ${error.record.request.policy?.separateFrom.join(', ')} (four eyes)`;
  switch (error.result) {
    case 'not-an-approver':
      return 'the requester is not among its approvers';
    case 'needs-people':
      return 'its rules ask for people to approve it in Slack, not a releasing pipeline';
    default:
      return 'its approval rules do not allow it';
  }
}

const retryLater = (deps: Pick<RunDeps, 'log'>): typeof RETRY_LATER => {
  deps.log.info('A vote of this release was counted but its approval moved on meanwhile; trying it again later');
  return RETRY_LATER;
};

/**
 * Approvals normally reach the store through their SNS notification; when it has not arrived (or
 * the topic is not wired), the release stores the request from the pipeline state it pinned, under
 * the env's rules as the notification would have. Answers the rules the approval stands under.
 */
async function ensureRequest(
  deps: RunDeps,
  run: ReleaseRun,
  item: IncludedItem,
): Promise<ApprovalRequest['policy'] | undefined> {
  const { approval } = item;
  const stored = await deps.store.get(approval.approvalId);
  if (stored) return stored.request.policy;
  const found = requestFromPlan(run, item, deps.clock());
  // The rules' four eyes read the pipeline where it lives: in another account, through its role.
  const policy = deps.rules
    ? await policyAtIngest(deps.rules.products, await readerAt(deps, placeOf(run, item)), found)
    : undefined;
  const request = policy ? { ...found, policy } : found;
  if ((await deps.store.saveRequest(request)) !== 'created')
    return (await deps.store.get(approval.approvalId))?.request.policy;
  await deps.store.append({
    // The same key requestApproval uses: a notification arriving later appends nothing more.
    eventId: `${request.id}#requested`,
    type: 'requested',
    at: request.receivedAt,
    approvalId: request.id,
    approval: approvalRef(request),
    detail: `found in the pipeline state by release ${run.releaseId}; expiry estimated from CodePipeline's default`,
    releaseId: run.releaseId,
  });
  return policy;
}

export function requestFromPlan(run: ReleaseRun, item: IncludedItem, now: Date): ApprovalRequest {
  const { approval } = item;
  return requestFromState(
    {
      id: approval.approvalId,
      pipelineName: item.pipelineName,
      stageName: approval.stageName,
      actionName: approval.actionName,
      ...placeOf(run, item),
      token: approval.token,
    },
    approval.waitingSince ?? run.createdAt,
    now,
  );
}

/**
 * The reader where a pipeline lives: Greenlight's own, or in another account the one reading through
 * the role assumed there. Never Greenlight's own credentials for another account's pipeline.
 */
async function readerAt(deps: RunDeps, place: { region: string; account?: string }): Promise<PipelineReader> {
  if (!place.account) return deps.reader;
  if (!deps.readerAt) throw new Error(`No reader for pipelines in account ${place.account}`);
  return deps.readerAt(place);
}

/** Where an item's pipeline lives: its own place (an env in several accounts), else the release's. */
const placeOf = (run: ReleaseRun, item: IncludedItem): { region: string; account?: string } =>
  item.place ?? { region: run.region, ...(run.account ? { account: run.account } : {}) };

/** How the approval's record ended, in the release's words. */
async function resultOf(
  deps: RunDeps,
  run: ReleaseRun,
  item: IncludedItem,
  record: ApprovalRecord,
): Promise<ItemResult | typeof RETRY_LATER> {
  const at = deps.clock();
  const outcome = record.outcome;
  if (!outcome) {
    const claim = record.claim;
    if (claim?.actor.id === run.releaseId) {
      if (!isStaleClaim(claim, at)) {
        deps.log.info('An earlier attempt of this release still holds the approval; trying it again later', {
          releaseId: run.releaseId,
          pipeline: itemKey(item),
        });
        return RETRY_LATER;
      }
      return failed(
        deps,
        'an earlier attempt of this release was interrupted while deciding it; run the release again',
      );
    }
    return {
      kind: 'already-decided',
      ...(claim ? { by: claim.actor, verdict: claim.verdict } : {}),
      inProgress: true,
      at,
    };
  }
  switch (outcome.kind) {
    case 'approved':
    case 'rejected':
      // A redelivered job finds what an earlier delivery of the same release did.
      if (outcome.decision.actor.id === run.releaseId && outcome.kind === 'approved')
        return { kind: 'approved', at: outcome.at };
      return { kind: 'already-decided', by: outcome.decision.actor, verdict: outcome.decision.verdict, at };
    case 'expired':
    case 'stopped':
    case 'decided-elsewhere': {
      const changed = await changedSincePlan(deps, run, item);
      if (changed) return changed;
      // What CodePipeline shows, when the decision read it: a rejection in the console is one.
      if (outcome.kind === 'decided-elsewhere')
        return { kind: 'already-decided', ...(outcome.verdict ? { verdict: outcome.verdict } : {}), at };
      return { kind: 'not-pending', detail: 'it expired or was answered outside Greenlight', at };
    }
    case 'gone':
      return failed(deps, `the ${outcome.what} no longer exists`);
  }
}

/** A newer revision holds the stage (or waits for approval there) instead of the pinned one. */
async function changedSincePlan(deps: RunDeps, run: ReleaseRun, item: IncludedItem): Promise<ItemResult | undefined> {
  try {
    const reader = await readerAt(deps, placeOf(run, item));
    const snapshot = await reader.snapshot(item.pipelineName);
    const stage = snapshot.stages.find((candidate) => candidate.name === item.approval.stageName);
    if (!stage) return undefined;
    const waiting = waitingAction(stage, { stage: stage.name, action: item.approval.actionName });
    const otherToken = typeof waiting === 'object' && waiting.token !== item.approval.token;
    const pinned = item.approval.revision?.revisionId;
    const current = stage.latest?.revision;
    const otherRevision = pinned !== undefined && current !== undefined && current.revisionId !== pinned;
    if (!otherToken && !otherRevision) return undefined;
    return { kind: 'changed', ...(current ? { revision: current } : {}), at: deps.clock() };
  } catch (error) {
    deps.log.warn('Could not read the pipeline to explain an ended approval', {
      releaseId: run.releaseId,
      pipeline: itemKey(item),
      error,
    });
    return undefined;
  }
}

const failed = (deps: Pick<RunDeps, 'clock'>, why: string): ItemResult => ({ kind: 'failed', why, at: deps.clock() });

/** The name of the deepest cause: the AWS error beneath the core's wrappers. */
function causeName(error: Error): string {
  let deepest = error;
  while (deepest.cause instanceof Error) deepest = deepest.cause;
  return deepest.name;
}
