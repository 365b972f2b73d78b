import {
  type ApprovalId,
  type ApprovalRecord,
  approvalSummary,
  type Decision,
  type Outcome,
  STALE_CLAIM_MS,
} from './approval.ts';
import { approvalRef } from './audit.ts';
import {
  AlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
  DecidedElsewhereError,
  InvalidInputError,
  NotPermittedError,
  PipelineGoneError,
  TransientError,
  UnreadableRequestError,
} from './errors.ts';
import type { ApprovalStore, Clock, IdSource, Log, MessageRedraw, Metrics, PipelineGateway } from './ports.ts';

export interface DecideDeps {
  store: ApprovalStore;
  pipelines: PipelineGateway;
  notifier: MessageRedraw;
  clock: Clock;
  ids: IdSource;
  log: Log;
  metrics?: Metrics;
}

export interface DecideOptions {
  /** The release run this decision belongs to, for the audit trail. */
  releaseId?: string;
}

/**
 * Applies one person's (or one release's) decision. The first decision claims the approval with a
 * conditional write; only the claimant calls CodePipeline. Every ending is recorded and shown:
 * applied, expired, decided elsewhere, gone; a passing AWS failure gives the claim back and throws
 * TransientError so the person can try again. Losers get AlreadyDecidedError with the winner.
 */
export async function decideApproval(
  deps: DecideDeps,
  id: ApprovalId,
  decision: Decision,
  options: DecideOptions = {},
): Promise<ApprovalRecord> {
  const { store, pipelines, clock, ids, log } = deps;
  const claimId = ids();
  const base = {
    approvalId: id,
    actor: decision.actor,
    verdict: decision.verdict,
    ...(decision.reason ? { reason: decision.reason } : {}),
    ...(options.releaseId ? { releaseId: options.releaseId } : {}),
  };

  let record: ApprovalRecord;
  try {
    record = await store.claim(id, { ...decision, claimId }, new Date(decision.at.getTime() - STALE_CLAIM_MS));
  } catch (error) {
    deps.metrics?.count('DecisionRefused', {
      reason: error instanceof AlreadyDecidedError ? 'already-decided' : 'other',
    });
    if (error instanceof AlreadyDecidedError) {
      await store.append({
        ...base,
        eventId: ids(),
        type: 'decision-refused',
        at: clock(),
        approval: approvalRef(error.record.request),
        result: 'already-decided',
      });
      // Only an ended approval is worth redrawing: a loser that redraws "X is deciding…" could
      // land after the winner's final update and leave the message stuck. Its outcome event is
      // appended again (same id: a no-op) in case the winner died right after recording it.
      if (error.record.status === 'closed') {
        await appendOutcome(deps, error.record);
        await refreshQuietly(deps, error.record);
      }
    } else if (error instanceof ApprovalNotFoundError) {
      // Filed as unattributed: an id we never issued must not create items of its own.
      await store.append({
        ...base,
        approvalId: 'unknown',
        eventId: ids(),
        type: 'decision-refused',
        at: clock(),
        result: 'unknown-approval',
        detail: `no approval ${id.slice(0, 64)}`,
      });
    }
    throw error;
  }

  if (record.request.unreadable) {
    // Its message offers no buttons; a request that still gets here is refused, not guessed at.
    await store.giveClaimBack(id, claimId);
    throw new UnreadableRequestError(
      'Greenlight could not read this approval request fully, so it cannot decide it. Please decide it in the AWS console.',
    );
  }

  const giveBack = async (error: unknown) => {
    await store.giveClaimBack(id, claimId);
    await store.append({
      ...base,
      eventId: ids(),
      type: 'claim-released',
      at: clock(),
      approval: approvalRef(record.request),
      result: 'failed',
      // The name only: AWS messages may echo request values.
      detail: error instanceof Error ? error.name : 'unknown error',
    });
    deps.metrics?.count('ClaimGivenBack');
    log.warn('Decision could not be applied; claim given back', { ...logContext(record), error });
  };

  try {
    await store.append({
      ...base,
      eventId: ids(),
      type: 'decision-attempted',
      at: decision.at,
      approval: approvalRef(record.request),
    });
  } catch (error) {
    // Nothing was sent to CodePipeline yet: give the approval back rather than hold it for a minute.
    await giveBack(error);
    throw error;
  }

  const summary = approvalSummary(decision);
  const applied = (): Outcome => ({
    kind: decision.verdict === 'approve' ? 'approved' : 'rejected',
    decision,
    at: clock(),
  });
  let outcome: Outcome;
  try {
    await pipelines.putApprovalResult(record.request, decision, summary);
    outcome = applied();
  } catch (error) {
    // A timed-out call may still have landed, and its retry then hears "already answered".
    // CodePipeline keeps the summary it was given: if it is ours, the decision is ours.
    const ambiguous = !(
      error instanceof PipelineGoneError ||
      error instanceof InvalidInputError ||
      error instanceof NotPermittedError
    );
    const state = ambiguous ? await pipelines.approvalState(record.request, summary) : 'unknown';
    if (state === 'ours') {
      log.info('CodePipeline took the decision although the call failed', { ...logContext(record), error });
      outcome = applied();
    } else if (error instanceof ApprovalExpiredError) outcome = { kind: 'expired', decision, at: clock() };
    else if (error instanceof DecidedElsewhereError) outcome = { kind: 'decided-elsewhere', decision, at: clock() };
    else if (error instanceof PipelineGoneError) outcome = { kind: 'gone', what: error.what, decision, at: clock() };
    else {
      await giveBack(error);
      // CodePipeline refusing the request itself will refuse it again: not a "try again".
      if (error instanceof InvalidInputError || error instanceof NotPermittedError) throw error;
      throw new TransientError('CodePipeline did not take the decision', { cause: error });
    }
  }

  const final = await store.recordOutcome(id, outcome);
  await appendOutcome(deps, final, options.releaseId);
  deps.metrics?.count('ApprovalDecided', { outcome: outcome.kind });
  log.info('Approval decided', { ...logContext(record), outcome: outcome.kind, actor: decision.actor.id });
  await refreshQuietly(deps, final);
  return final;
}

/** The one `outcome` event of an approval, from its record (so any later caller can repair a missing one). */
async function appendOutcome(
  deps: Pick<DecideDeps, 'store'>,
  record: ApprovalRecord,
  releaseId?: string,
): Promise<void> {
  const outcome = record.outcome;
  if (!outcome) return;
  const decision = outcome.decision;
  await deps.store.append({
    eventId: `${record.request.id}#outcome`,
    type: 'outcome',
    at: outcome.at,
    approvalId: record.request.id,
    approval: approvalRef(record.request),
    result: outcome.kind,
    ...(releaseId ? { releaseId } : {}),
    ...(decision
      ? { actor: decision.actor, verdict: decision.verdict, ...(decision.reason ? { reason: decision.reason } : {}) }
      : {}),
  });
}

/** The message is a view of the record: failing to redraw it must not undo or fail a decision. */
async function refreshQuietly(deps: Pick<DecideDeps, 'notifier' | 'log'>, record: ApprovalRecord): Promise<void> {
  try {
    await deps.notifier.refresh(record);
  } catch (error) {
    deps.log.warn('Could not refresh the approval message', { ...logContext(record), error });
  }
}

export const logContext = (record: ApprovalRecord) => ({
  approvalId: record.request.id,
  pipeline: record.request.pipelineName,
  stage: record.request.stageName,
  action: record.request.actionName,
});
