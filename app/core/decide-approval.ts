import {
  type ApprovalId,
  type ApprovalRecord,
  approvalSummary,
  type Claim,
  type Decision,
  type Outcome,
  STALE_CLAIM_MS,
  summaryHead,
} from './approval.ts';
import { type AuditEvent, approvalRef, attemptEvent, attemptsToFile } from './audit.ts';
import {
  AccountUnreachableError,
  AlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
  BusyError,
  DecidedElsewhereError,
  InvalidInputError,
  NotPermittedError,
  OutcomeNotRecordedError,
  PipelineGoneError,
  TransientError,
  UnreadableRequestError,
} from './errors.ts';
import type {
  ApprovalStore,
  Clock,
  IdSource,
  Log,
  MessageRedraw,
  Metrics,
  PipelineGateway,
  RulesGuard,
} from './ports.ts';

/** A redraw Slack refused without saying when to come back is tried again this much later. */
export const REDRAW_AGAIN_SECONDS = 10;

export interface DecideDeps {
  store: ApprovalStore;
  pipelines: PipelineGateway;
  notifier: MessageRedraw;
  clock: Clock;
  ids: IdSource;
  log: Log;
  metrics?: Metrics;
  /**
   * Settles the approval again later, off the click path (a `settle` job): records what CodePipeline
   * took when the record lags behind it, and redraws the message. Without it (tests, scripts) a
   * failed redraw is only logged.
   */
  settleLater?: (approvalId: ApprovalId, delaySeconds: number) => Promise<void>;
}

export interface DecideOptions {
  /** The release run this decision belongs to, for the audit trail. */
  releaseId?: string;
  /** The approval rules the decision was checked under, held to in the claim's write (core/decide-under-rules.ts). */
  rules?: RulesGuard;
  /**
   * Told when the decision was taken but Slack would not redraw its message now, and a settle job
   * was queued to redraw it later: whoever clicked sees no change meanwhile, and should be told.
   */
  onMessageBehind?: () => void;
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
  const release = options.releaseId ? { releaseId: options.releaseId } : {};
  const claim: Claim = {
    ...decision,
    claimId: ids(),
    until: new Date(decision.at.getTime() + STALE_CLAIM_MS),
    ...release,
  };

  // 1st round trip: the claim, carrying its `decision-attempted` event.
  let record: ApprovalRecord;
  try {
    record = await store.claim(id, claim, decision.at, options.rules);
  } catch (error) {
    if (!(error instanceof AlreadyDecidedError) && !(error instanceof ApprovalNotFoundError)) {
      // An unclear answer: the claim may have landed although no answer reached us. Give it back
      // (only ours can be), and should that fail too, let a settle job free it once it runs out.
      await store.giveClaimBack(id, claim.claimId).catch(async () => {
        await deps.settleLater?.(id, Math.ceil(STALE_CLAIM_MS / 1000)).catch(() => {});
      });
    }
    await refused(deps, id, decision, error, release);
    throw error;
  }

  if (record.request.unreadable) {
    // Its message offers no buttons; a request that still gets here is refused, not guessed at.
    await store.giveClaimBack(id, claim.claimId);
    throw new UnreadableRequestError(
      'Greenlight could not read this approval request fully, so it cannot decide it. Please decide it in the AWS console.',
    );
  }

  const giveBack = async (error: unknown) => {
    // The attempt did not close the approval: it is filed for the per-day index on its own, beside
    // giving the claim back (not before it: this path runs when AWS is slow, within Slack's 3 s).
    const [filed] = await Promise.all([
      fileAttempts(deps, record, [attemptEvent(record.request, claim)]),
      (async () => {
        await store.giveClaimBack(id, claim.claimId);
        await store.append({
          approvalId: id,
          actor: decision.actor,
          verdict: decision.verdict,
          ...(decision.reason ? { reason: decision.reason } : {}),
          ...release,
          eventId: ids(),
          type: 'claim-released',
          at: clock(),
          approval: approvalRef(record.request),
          result: 'failed',
          // The name only: AWS messages may echo request values.
          detail: error instanceof Error ? error.name : 'unknown error',
        });
      })(),
    ]);
    if (!filed) await deps.settleLater?.(id, REDRAW_AGAIN_SECONDS).catch(() => {});
    deps.metrics?.count('ClaimGivenBack');
    log.warn('Decision could not be applied; claim given back', { ...logContext(record), error });
  };

  // 2nd round trip: CodePipeline. A holder that works long (a release's retries) keeps its claim.
  const keeping = keepClaim(deps, record, claim);
  let outcome: Outcome;
  try {
    await pipelines.putApprovalResult(record.request, decision, approvalSummary(decision));
    outcome = { kind: decision.verdict === 'approve' ? 'approved' : 'rejected', decision, at: clock(), ...release };
  } catch (error) {
    keeping.stop();
    const found = await outcomeInPipeline(deps, record, decision, error).catch(async (lookError: unknown) => {
      log.warn('Could not tell what CodePipeline took; asking to try again', { ...logContext(record), lookError });
      await deps.settleLater?.(id, REDRAW_AGAIN_SECONDS).catch(() => {});
      return undefined;
    });
    if (!found) {
      await giveBack(error);
      // CodePipeline refusing the request itself will refuse it again: not a "try again". An account
      // whose sign-in (STS) did not answer is named, so the person knows which one is slow.
      if (
        error instanceof InvalidInputError ||
        error instanceof NotPermittedError ||
        error instanceof AccountUnreachableError
      )
        throw error;
      throw new TransientError('CodePipeline did not take the decision', { cause: error });
    }
    outcome = { ...found, ...release };
  } finally {
    keeping.stop();
  }

  // 3rd round trip, two calls at once: the outcome (which is its audit event) and the message,
  // drawn from the outcome we know. Should another outcome stand, the message is drawn again.
  const { claim: _claim, ...rest } = record;
  const drawn: ApprovalRecord = { ...rest, status: 'closed', outcome };
  const [recorded, redrawn] = await Promise.allSettled([
    recordOutcomeOnce(deps, id, outcome),
    deps.notifier.refresh(drawn),
  ]);
  if (recorded.status === 'rejected') {
    // CodePipeline has the decision; only our record of it failed. The claim stays (the message
    // says who decided) until it runs out; the settle job then finds the decision in CodePipeline
    // and records it, credited to whoever gave it.
    log.error('CodePipeline took the decision but Greenlight could not record it yet', {
      ...logContext(record),
      outcome: outcome.kind,
      error: recorded.reason,
    });
    await deps.settleLater?.(id, Math.ceil(STALE_CLAIM_MS / 1000)).catch(() => {});
    throw new OutcomeNotRecordedError(outcome, { cause: recorded.reason });
  }
  const final = recorded.value;
  // Usually none: only an attempt made on another day than the approval closed (a click at
  // midnight, a claim whose holder died yesterday) is not found on the approval by the day index.
  const unfiled = attemptsToFile(final);
  const filed = unfiled.length === 0 || (await fileAttempts(deps, final, unfiled));
  deps.metrics?.count('ApprovalDecided', { outcome: outcome.kind });
  log.info('Approval decided', { ...logContext(record), outcome: outcome.kind, actor: decision.actor.id });
  const redrawLaterToo = sameOutcome(final.outcome, outcome) && redrawn.status === 'rejected';
  if (!sameOutcome(final.outcome, outcome)) await refreshQuietly(deps, final);
  else if (redrawn.status === 'rejected' && (await redrawLater(deps, final, redrawn.reason)))
    options.onMessageBehind?.();
  // A settle job files what could not be filed now; the one a later redraw queues does it too.
  if (!filed && !redrawLaterToo) await deps.settleLater?.(id, REDRAW_AGAIN_SECONDS).catch(() => {});
  return final;
}

/** A refused claim is audited; a loser that finds the approval ended redraws it (its winner may have died before). */
async function refused(
  deps: DecideDeps,
  id: ApprovalId,
  decision: Decision,
  error: unknown,
  release: { releaseId?: string },
): Promise<void> {
  const { store, clock, ids } = deps;
  deps.metrics?.count('DecisionRefused', {
    reason: error instanceof AlreadyDecidedError ? 'already-decided' : 'other',
  });
  const base = {
    actor: decision.actor,
    verdict: decision.verdict,
    ...(decision.reason ? { reason: decision.reason } : {}),
    ...release,
  };
  if (error instanceof AlreadyDecidedError) {
    await store.append({
      ...base,
      approvalId: id,
      eventId: ids(),
      type: 'decision-refused',
      at: clock(),
      approval: approvalRef(error.record.request),
      result: 'already-decided',
    });
    // Only an ended approval is worth redrawing: a loser that redraws "X is deciding…" could
    // land after the winner's final update and leave the message stuck.
    if (error.record.status === 'closed') await refreshQuietly(deps, error.record);
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
}

/**
 * Renews the claim while its holder waits for CodePipeline, so a takeover can never interleave
 * with a live holder. A click's call ends long before the first renewal; a release's
 * PutApprovalResult with its retries and backoff may not.
 */
function keepClaim(deps: DecideDeps, record: ApprovalRecord, claim: Claim): { stop(): void } {
  const every = STALE_CLAIM_MS / 3;
  let timer: NodeJS.Timeout | undefined;
  const renew = () => {
    timer = setTimeout(async () => {
      const until = new Date(deps.clock().getTime() + STALE_CLAIM_MS);
      const kept = await deps.store.renewClaim(record.request.id, claim.claimId, until).catch((error: unknown) => {
        deps.log.warn('Could not renew the claim; trying again', { ...logContext(record), error });
        return true;
      });
      if (kept) renew();
      else deps.log.warn('The claim was taken over while CodePipeline was answering', logContext(record));
    }, every);
    timer.unref?.();
  };
  renew();
  return { stop: () => clearTimeout(timer) };
}

const sameOutcome = (a: Outcome | undefined, b: Outcome): boolean =>
  a?.kind === b.kind && a.decision?.actor.id === b.decision?.actor.id && a.decision?.verdict === b.decision?.verdict;

/**
 * What happened, from CodePipeline's own state, after a call that failed or was refused: a call
 * that timed out may have landed, and "already answered" may mean an earlier attempt of ours (a
 * holder that died after its call landed) rather than the console. The result CodePipeline keeps
 * is matched against every decision attempt in the audit trail, so the outcome is credited to the
 * person whose call CodePipeline applied. Undefined when the approval still waits (or nobody can
 * tell): the decision was not applied.
 */
async function outcomeInPipeline(
  deps: DecideDeps,
  record: ApprovalRecord,
  decision: Decision,
  error: unknown,
): Promise<Outcome | undefined> {
  const { clock, log } = deps;
  if (error instanceof PipelineGoneError) return { kind: 'gone', what: error.what, decision, at: clock() };
  if (error instanceof InvalidInputError || error instanceof NotPermittedError) return undefined;
  const seen = await deps.pipelines.approvalResult(record.request);
  if (seen.state === 'decided') {
    const landed = await creditedDecision(deps, record, seen, decision);
    if (landed) {
      if (landed.actor.id !== decision.actor.id || landed.verdict !== decision.verdict)
        log.warn('An earlier attempt had decided this approval; crediting it', {
          ...logContext(record),
          decidedBy: landed.actor.id,
          attemptBy: decision.actor.id,
        });
      else log.info('CodePipeline took the decision although the call failed', { ...logContext(record), error });
      return { kind: landed.verdict === 'approve' ? 'approved' : 'rejected', decision: landed, at: clock() };
    }
    // What CodePipeline shows, as for an answer in the console that its events report, whichever
    // way it refused ours: "no such token" is also its answer to one already answered
    // (InvalidApprovalTokenException: "already received a response or has expired").
    return {
      kind: 'decided-elsewhere',
      decision,
      at: clock(),
      verdict: seen.verdict,
      ...(seen.updatedBy ? { by: seen.updatedBy } : {}),
      ...(seen.summary ? { summary: seen.summary } : {}),
      ...(seen.at ? { decidedAt: seen.at } : {}),
    };
  }
  if (seen.state === 'expired') return { kind: 'expired', decision, at: clock() };
  if (seen.state === 'replaced') {
    // Ours is no longer the action's approval: it ended, as CodePipeline's answer said. "No such
    // token" means answered or expired: expired only once its time is up, else CodePipeline moved on.
    if (error instanceof ApprovalExpiredError)
      return clock().getTime() >= record.request.expiresAt.getTime()
        ? { kind: 'expired', decision, at: clock() }
        : { kind: 'stopped', why: 'replaced', decision, at: clock() };
    if (error instanceof DecidedElsewhereError) return { kind: 'decided-elsewhere', decision, at: clock() };
    return undefined;
  }
  // Still waiting (`pending`), or CodePipeline did not answer (`unknown`).
  if (seen.state === 'unknown' && (error instanceof ApprovalExpiredError || error instanceof DecidedElsewhereError)) {
    // "Already answered" may be an earlier attempt of ours, and "no such token" an answered one:
    // without CodePipeline's state nobody can tell whose. Nothing is recorded now; a settle job
    // looks again once CodePipeline answers, and the person is asked to try again.
    await deps.settleLater?.(record.request.id, REDRAW_AGAIN_SECONDS).catch(() => {});
  }
  return undefined;
}

/**
 * Whose decision CodePipeline took: `current`, or an attempt the approval keeps (whole, with the
 * approvers and freeze override it was given with), whose verdict and summary match the result
 * CodePipeline keeps. Only when none does is the audit trail read, for an older version's attempts.
 * Undefined when none matches there either: it was decided outside Greenlight.
 */
export async function creditedDecision(
  deps: Pick<DecideDeps, 'store' | 'log'>,
  record: ApprovalRecord,
  seen: { verdict: Decision['verdict']; summary?: string },
  current?: Decision,
): Promise<Decision | undefined> {
  const kept = (record.attempts ?? []).map(({ claimId: _claim, releaseId: _release, ...decision }) => decision);
  const ours = matchingAttempt([...(current ? [current] : []), ...kept], seen);
  if (ours) return ours;
  // Not swallowed: without the attempts, a decision of ours would be recorded, for good, as
  // decided outside Greenlight. The caller tries again later instead.
  const events: AuditEvent[] = await deps.store.eventsForApproval(record.request.id);
  const filed = events.flatMap((event): Decision[] =>
    event.type === 'decision-attempted' && event.actor && event.verdict
      ? [
          {
            verdict: event.verdict,
            actor: event.actor,
            at: event.at,
            ...(event.reason ? { reason: event.reason } : {}),
          },
        ]
      : [],
  );
  return matchingAttempt(filed, seen);
}

/**
 * The attempt CodePipeline's result came from. The whole summary tells apart two attempts of one
 * person (another reason, an override); the head alone is what an attempt without its approvers
 * (an older version's audit event) still matches.
 */
function matchingAttempt(
  attempts: readonly Decision[],
  seen: { verdict: Decision['verdict']; summary?: string },
): Decision | undefined {
  const candidates = attempts.filter((attempt) => attempt.verdict === seen.verdict);
  return (
    candidates.find((attempt) => seen.summary === approvalSummary(attempt)) ??
    candidates.find(
      (attempt) => seen.summary === summaryHead(attempt) || seen.summary?.startsWith(`${summaryHead(attempt)}:`),
    )
  );
}

/**
 * Files decision attempts as events of their own (for the per-day index). A failure is only
 * logged: the approval carries its attempts, and the settle job files them again.
 */
async function fileAttempts(deps: DecideDeps, record: ApprovalRecord, events: AuditEvent[]): Promise<boolean> {
  try {
    await Promise.all(events.map((event) => deps.store.append(event)));
    return true;
  } catch (error) {
    deps.log.warn('Could not file the decision-attempted event yet; settling it later', {
      ...logContext(record),
      error,
    });
    return false;
  }
}

/** The outcome write, tried twice: a passing DynamoDB failure must not leave a decided approval open. */
async function recordOutcomeOnce(deps: DecideDeps, id: ApprovalId, outcome: Outcome): Promise<ApprovalRecord> {
  try {
    return await deps.store.recordOutcome(id, outcome);
  } catch (error) {
    deps.log.warn('Could not record an outcome; trying once more', { approvalId: id, error });
    return deps.store.recordOutcome(id, outcome);
  }
}

/**
 * The message is a view of the record: failing to redraw it must not undo or fail a decision. A
 * redraw Slack refused (rate limit, a slow answer) is settled later, off the click path, so the
 * message never keeps live buttons for an ended approval.
 */
export async function refreshQuietly(
  deps: Pick<DecideDeps, 'notifier' | 'log' | 'settleLater'>,
  record: ApprovalRecord,
): Promise<void> {
  try {
    await deps.notifier.refresh(record);
  } catch (error) {
    await redrawLater(deps, record, error);
  }
}

/**
 * Redraws an ended approval's message where nothing else will: a redraw Slack refuses is a settle
 * job's, and without a queue (or with one that refuses) the failure is thrown, so what brought us
 * here is delivered again.
 */
export async function redrawOrSettleLater(
  deps: Pick<DecideDeps, 'notifier' | 'log' | 'settleLater'>,
  record: ApprovalRecord,
): Promise<void> {
  try {
    await deps.notifier.refresh(record);
  } catch (error) {
    if (!(await redrawLater(deps, record, error))) throw error;
  }
}

/** A redraw Slack refused is done again by a settle job, after the wait Slack asked for; whether one was queued. */
async function redrawLater(
  deps: Pick<DecideDeps, 'log' | 'settleLater'>,
  record: ApprovalRecord,
  error: unknown,
): Promise<boolean> {
  const retryAfterSeconds = error instanceof BusyError ? error.retryAfterSeconds : REDRAW_AGAIN_SECONDS;
  deps.log.warn('Could not refresh the approval message; redrawing it later', {
    ...logContext(record),
    retryAfterSeconds,
    error,
  });
  if (!deps.settleLater) return false;
  return deps.settleLater(record.request.id, retryAfterSeconds).then(
    () => true,
    (queueError: unknown) => {
      deps.log.error('Could not schedule a later redraw of the approval message', {
        ...logContext(record),
        error: queueError,
      });
      return false;
    },
  );
}

export const logContext = (record: ApprovalRecord) => ({
  approvalId: record.request.id,
  pipeline: record.request.pipelineName,
  stage: record.request.stageName,
  action: record.request.actionName,
});
