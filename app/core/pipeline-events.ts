import {
  type ApprovalId,
  type ApprovalRecord,
  type ApprovalRequest,
  isStaleClaim,
  type Outcome,
  personOf,
} from './approval.ts';
import { logContext } from './decide-approval.ts';
import { PipelineGoneError, TransientError } from './errors.ts';
import { mapLimit } from './map-limit.ts';
import type { Metrics, PipelineReader } from './ports.ts';
import { allTargets, type ProductOverride } from './products.ts';
import { type SettleDeps, settleApproval } from './settle-approval.ts';

/**
 * Keeping approvals true to CodePipeline from its own events (docs/architecture.md, "Messages follow
 * CodePipeline"). An event is a hint that something changed in a pipeline, never the truth: events
 * come at least once and in any order, so each one only makes Greenlight look again, at CodePipeline's
 * state, for the approvals it may concern. What ended there is closed once (the first outcome stands,
 * its audit event has a fixed id); what still waits is left alone, without a write or a redraw.
 */

/** Where CodePipeline says something changed. */
export interface PipelineChange {
  pipelineName: string;
  /** Stage and action events name their stage; pipeline events concern every stage. */
  stageName?: string;
  /** The pipeline's region (the event's `region`), when known. */
  region?: string;
  /** The pipeline's account when a product names it (eventPlace); absent: Greenlight's own account. */
  account?: string;
}

/** Where a pipeline lives, as an approval's request says it: a region and, in another account, that account. */
export type PipelinePlace = Pick<ApprovalRequest, 'region' | 'account'>;

/**
 * Reads pipelines where they live: in another account through the role Greenlight assumes there,
 * never with Greenlight's own credentials (deps.ts `readerAt`).
 */
export type ReaderAt = (place: PipelinePlace) => Promise<Pick<PipelineReader, 'snapshot'>>;

export type FollowDeps = SettleDeps & { readerAt: ReaderAt };

export interface EventPlace {
  region?: string;
  /** Absent: Greenlight's own account. */
  account?: string;
}

/**
 * Where an event comes from, in the records' terms (docs/architecture.md, "Many accounts and
 * regions"). EventBridge puts the source account and region at the top of every event, also when
 * another account's rule forwards it to Greenlight's bus. An account a product names is that
 * account; any other is Greenlight's own (only those accounts may put events on its bus), whose
 * approvals carry no account. `undefined`: a product account in a region no product of it lives in,
 * or without a region: nothing Greenlight approves can be there.
 */
export function eventPlace(
  event: { account?: string | undefined; region?: string | undefined },
  products: Readonly<Record<string, ProductOverride>>,
): EventPlace | undefined {
  const { account, region } = event;
  const there = allTargets(products).filter((target) => target.account === account);
  if (!account || there.length === 0) return region ? { region } : {};
  if (!region || !there.some((target) => target.region === region)) return undefined;
  return { account, region };
}

/** Whether an approval lives where a change happened: the same account (both absent for Greenlight's own). */
export const sameAccount = (request: Pick<ApprovalRequest, 'account'>, account: string | undefined): boolean =>
  (request.account || undefined) === (account || undefined);

/** `checked`: open approvals the change may concern; `closed`: those found ended and closed now. */
export interface FollowResult {
  checked: number;
  closed: number;
}

/**
 * Closes every open approval of the changed pipeline (and stage) that has ended in CodePipeline:
 * decided in the console or CLI (credited to a Greenlight decision when it was one), expired,
 * stopped, cancelled or replaced, or gone. Throws when CodePipeline could not be read for one of
 * them, after trying the others, so the event is delivered again.
 */
export async function followPipelineChange(deps: FollowDeps, change: PipelineChange): Promise<FollowResult> {
  const open = (await deps.store.listOpen()).filter((record) => concerns(record, change));
  const failures: unknown[] = [];
  let closed = 0;
  for (const record of open) {
    try {
      if (await closeIfEnded(deps, record)) closed += 1;
    } catch (error) {
      deps.log.warn('Could not bring an approval in line with CodePipeline; the event will be retried', {
        ...logContext(record),
        error,
      });
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} approvals could not be settled`);
  return { checked: open.length, closed };
}

/**
 * An approval a change may concern: same pipeline, stage (if named), region (if known) and always the
 * same account. Two accounts may each have a `shop-cart` in one region: a name says nothing alone.
 */
const concerns = (record: ApprovalRecord, change: PipelineChange): boolean =>
  sameAccount(record.request, change.account) &&
  record.request.pipelineName === change.pipelineName &&
  (change.stageName === undefined || record.request.stageName === change.stageName) &&
  (change.region === undefined || record.request.region === change.region) &&
  // A request Greenlight could not read fully names no action it could look up: the console decides it.
  !record.request.unreadable;

/** True when the approval had ended and is closed now. */
async function closeIfEnded(deps: FollowDeps, record: ApprovalRecord): Promise<boolean> {
  const id = record.request.id;
  // The cheap look first: most events concern approvals that still wait, which need nothing.
  const seen = await deps.pipelines.approvalResult(record.request);
  if (seen.state === 'pending') return false;
  if (seen.state === 'unknown') throw new TransientError(`CodePipeline did not say where ${id} stands`);
  const result = await settleApproval(deps, id, { endedHow: (open) => endedHow(deps, open) });
  // `busy`: a decision is being applied right now (a Greenlight click's own PutApprovalResult sends
  // these events while its claim is live), and its holder closes the approval. In case that holder
  // dies (a Lambda timed out between its PutApprovalResult and its outcome), a settle job looks once
  // the claim has run out: the approval is closed within a minute, not at the next schedule run, and
  // the journey's steps that wait for it are not retried into the dead-letter queue.
  if (result.status === 'busy' && deps.settleLater) {
    const delaySeconds = Math.ceil((result.until.getTime() - deps.clock().getTime()) / 1000) + 1;
    // Only a safety net: the holder most likely closes it, and the reminder schedule settles stale
    // claims, so a queue that refuses fails nothing.
    await deps.settleLater(id, Math.max(delaySeconds, 1)).catch((error: unknown) =>
      deps.log.warn('Could not queue a look at an approval being decided; the reminder schedule settles it', {
        ...logContext(record),
        error,
      }),
    );
  }
  return result.status === 'recorded';
}

const STALE_CLAIMS_AT_ONCE = 8;

/**
 * `stale`: approvals held by a claim whose holder died; `queued`: those this run queued to settle (the
 * others were given back, or could not be queued).
 */
export interface StaleClaimsResult {
  stale: number;
  queued: number;
}

export type StaleClaimsDeps = Pick<FollowDeps, 'store' | 'clock' | 'log'> & {
  settleLater: (approvalId: ApprovalId, delaySeconds: number) => Promise<void>;
};

/**
 * Finds the approvals held by a claim whose holder died (a click's or release's Lambda that timed
 * out or crashed between its claim and its outcome) and queues a settle job for each, now. Until
 * settled such an approval is `deciding` for good unless someone clicks it again: it gets no
 * reminder (reminders go to approvals that wait), the digest shows someone "deciding" it, its
 * attempt is missing from that day's audit, and where CodePipeline did take the decision its
 * message still offers the buttons (the events CodePipeline sent found the claim live and left the
 * approval to its holder). The worker settles it (core/settle-approval.ts) with its own time budget
 * and retries: it files the attempt, then records how the approval ended in CodePipeline (a decision
 * credited to whoever gave it) or gives the claim back, and redraws the message. An approval given
 * back is reminded by the schedule's next run. A request Greenlight could not read names no action
 * to look up, and no decision reaches CodePipeline for it (the click gives its claim back first):
 * its claim is given back here. Does all it can, then throws when one could not be queued or given
 * back, so Lambda runs the schedule's event again; a second job for one approval changes nothing.
 */
export async function settleStaleClaims(deps: StaleClaimsDeps): Promise<StaleClaimsResult> {
  const now = deps.clock();
  const stale = (await deps.store.listOpen()).filter(
    (record) => record.status === 'deciding' && record.claim && isStaleClaim(record.claim, now),
  );
  const failures: unknown[] = [];
  let queued = 0;
  await mapLimit(stale, STALE_CLAIMS_AT_ONCE, async (record) => {
    const context = {
      ...logContext(record),
      claimedBy: record.claim ? personOf(record.claim.actor) : undefined,
      claimedAt: record.claim?.at.toISOString(),
    };
    try {
      if (record.request.unreadable && record.claim) {
        await deps.store.giveClaimBack(record.request.id, record.claim.claimId);
        deps.log.info('Gave back the claim of a decision never finished on a request that did not read', context);
        return;
      }
      await deps.settleLater(record.request.id, 0);
      queued += 1;
      deps.log.info('Queued to settle an approval whose decision was never finished', context);
    } catch (error) {
      deps.log.warn('Could not settle an approval whose decision was never finished; the schedule tries again', {
        ...context,
        error,
      });
      failures.push(error);
    }
  });
  throwCollected(failures, 'settle');
  return { stale: stale.length, queued };
}

/**
 * How long an approval waits before the schedule asks CodePipeline about it itself, in case every
 * event of its ending was lost (a CodePipeline outage longer than an event's retries, forwarding from
 * another account that failed for 24 hours).
 */
export const RECONCILE_AFTER_MS = 30 * 60_000;

/** At most this many approvals are asked about in one run (a random choice when more wait). */
const RECONCILE_PER_RUN = 300;

/**
 * How long a run may spend asking: it starts no look after that, so the reminders after it still
 * run within the schedule's 5 minutes when CodePipeline or STS answer slowly (the case it is for).
 */
const RECONCILE_BUDGET_MS = 90_000;

/**
 * Closes the open approvals CodePipeline shows as ended without Greenlight having heard of it:
 * answered in the console, or expired, while the events that said so were lost. Only what
 * CodePipeline says unambiguously is acted on (a verdict given after the approval arrived, an
 * expiry); an approval CodePipeline no longer shows as the action's current one is left to its
 * events, a click or a release. Approvals never posted are asked about too, so one that ended is
 * not posted again and again. A failure is logged and left for the next run (every 15 minutes).
 */
export async function reconcileOpen(deps: FollowDeps): Promise<FollowResult> {
  const now = deps.clock().getTime();
  const waiting = (await deps.store.listOpen()).filter(
    (record) =>
      record.status === 'pending' &&
      !record.request.unreadable &&
      now - record.request.receivedAt.getTime() >= RECONCILE_AFTER_MS,
  );
  const stopAt = performance.now() + RECONCILE_BUDGET_MS;
  const chosen =
    waiting.length > RECONCILE_PER_RUN
      ? waiting
          .map((record) => ({ record, order: Math.random() }))
          .sort((a, b) => a.order - b.order)
          .slice(0, RECONCILE_PER_RUN)
          .map(({ record }) => record)
      : waiting;
  let closed = 0;
  await mapLimit(chosen, STALE_CLAIMS_AT_ONCE, async (record) => {
    if (performance.now() > stopAt) return;
    try {
      const seen = await deps.pipelines.approvalResult(record.request);
      if (seen.state !== 'decided' && seen.state !== 'expired') return;
      const result = await settleApproval(deps, record.request.id, { endedHow: (open) => endedHow(deps, open) });
      if (result.status !== 'recorded') return;
      closed += 1;
      deps.log.info('Closed an approval that ended in CodePipeline without an event saying so', logContext(record));
    } catch (error) {
      deps.log.warn('Could not check an open approval against CodePipeline; the next run tries again', {
        ...logContext(record),
        error,
      });
    }
  });
  return { checked: chosen.length, closed };
}

/**
 * How long an approval may wait without a Slack message before the schedule has the worker post it:
 * longer than its notification's own tries take (SNS, then Lambda's two retries, 1 and 2 minutes
 * apart, each waiting out Slack's rate limit), so a delivery still at work is left to it.
 */
export const UNPOSTED_AFTER_MS = 10 * 60_000;

export type UnpostedDeps = Pick<FollowDeps, 'store' | 'clock' | 'log'> & {
  metrics?: Metrics;
  postLater: (approvalId: ApprovalId) => Promise<void>;
};

export interface UnpostedResult {
  unposted: number;
  queued: number;
}

/**
 * Finds the approvals stored but never posted (Slack down, a revoked token or an archived channel
 * for longer than their notification's retries, which then sits in the dead-letter queue) and
 * queues a `post` job for each: the worker posts it as the notification would have
 * (core/request-approval.ts: once, under the post lease, looking for a message first), and applies
 * the auto-approve policy. Without this the pipeline would wait unseen until it expired. Each is
 * logged and counted (`ApprovalNotPosted`, which alarms): what made it late may need fixing. Throws
 * once all were tried when one could not be queued, so the schedule runs again.
 */
export async function postUnposted(deps: UnpostedDeps): Promise<UnpostedResult> {
  const now = deps.clock().getTime();
  const unposted = (await deps.store.listOpen()).filter(
    (record) =>
      record.status === 'pending' &&
      !record.message &&
      // One past its expiry is reconcileOpen's to close, not to post.
      now < record.request.expiresAt.getTime() &&
      now - record.request.receivedAt.getTime() >= UNPOSTED_AFTER_MS,
  );
  const failures: unknown[] = [];
  let queued = 0;
  await mapLimit(unposted, STALE_CLAIMS_AT_ONCE, async (record) => {
    const context = { ...logContext(record), receivedAt: record.request.receivedAt.toISOString() };
    try {
      await deps.postLater(record.request.id);
      queued += 1;
      deps.metrics?.count('ApprovalNotPosted');
      deps.log.warn('An approval was never posted to Slack; the worker posts it now', context);
    } catch (error) {
      deps.log.warn('Could not queue the post of an approval never posted; the schedule tries again', {
        ...context,
        error,
      });
      failures.push(error);
    }
  });
  throwCollected(failures, 'post');
  return { unposted: unposted.length, queued };
}

/** After trying every approval: the one failure, or all of them, so the schedule runs again. */
function throwCollected(failures: unknown[], job: 'settle' | 'post'): void {
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, `${failures.length} approvals could not be queued to ${job}`);
}

/**
 * How an approval ended that CodePipeline no longer shows as the action's current one, from the
 * pipeline's state (GetPipelineState): an abandoned action or a stopped stage execution is
 * `stopped` (StopPipelineExecution, stop and abandon); a cancelled one `cancelled` (the pipeline
 * was updated); a missing pipeline, stage or action `gone`; otherwise CodePipeline moved on to
 * a newer approval (`replaced`). (Never asked in a PARALLEL pipeline: approvalResult does not
 * read another execution's state as this approval's ending there.)
 */
export async function endedHow(
  deps: Pick<FollowDeps, 'readerAt' | 'clock'>,
  record: ApprovalRecord,
): Promise<Outcome | undefined> {
  const { pipelineName, stageName, actionName } = record.request;
  const at = deps.clock();
  let snapshot: Awaited<ReturnType<PipelineReader['snapshot']>>;
  try {
    // In the approval's own account: there through its role, never with Greenlight's credentials.
    snapshot = await (await deps.readerAt(record.request)).snapshot(pipelineName);
  } catch (error) {
    if (error instanceof PipelineGoneError) return { kind: 'gone', what: 'pipeline', at };
    throw error;
  }
  const stage = snapshot.stages.find((s) => s.name === stageName);
  if (!stage) return { kind: 'gone', what: 'stage', at };
  const action = stage.actions.find((a) => a.name === actionName);
  if (!action) return { kind: 'gone', what: 'action', at };
  const stageStatus = stage.latest?.status;
  if (action.status === 'Abandoned' || stageStatus === 'Stopped' || stageStatus === 'Stopping')
    return { kind: 'stopped', why: 'stopped', at };
  if (stageStatus === 'Cancelled') return { kind: 'stopped', why: 'cancelled', at };
  return { kind: 'stopped', why: 'replaced', at };
}
