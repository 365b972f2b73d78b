import type { Actor, ApprovalId, ApprovalRecord, ApprovalRequest, Attempt, Verdict, Vote } from './approval.ts';

/**
 * The audit trail: append-only events, readable per approval and per day.
 * An event never carries the approval token.
 */
export type AuditEventType =
  | 'requested' // CodePipeline asked for an approval
  | 'posted' // the Slack message went out
  | 'decision-attempted' // someone clicked Approve or submitted a rejection
  | 'vote' // an approve counted towards the policy's `required` (docs/policy.md); the approval carries it
  | 'decision-refused' // … but the approval was already decided, or the input was bad
  | 'outcome' // the approval ended: approved, rejected, expired, decided elsewhere, gone
  | 'claim-released'; // the claim was given back: a decision could not be applied (throttling, AWS errors). Stored name, kept as it is.

export interface AuditEvent {
  /** Unique per event; also the idempotency key of the append. */
  eventId: string;
  type: AuditEventType;
  /** When Greenlight recorded it: the per-day trail files it under this day. */
  at: Date;
  /** An outcome decided outside Greenlight: when CodePipeline took the decision (`lastStatusChange`). */
  decidedAt?: Date;
  /** `unknown` for events about input that named no approval we know (tampered values). */
  approvalId: ApprovalId | 'unknown';
  approval?: Pick<ApprovalRequest, 'pipelineName' | 'stageName' | 'actionName' | 'region' | 'account'>;
  actor?: Actor;
  verdict?: Verdict;
  reason?: string;
  /** What happened, in a word or two: `approved`, `already-decided`, `expired`, `tampered`, … */
  result?: string;
  /** Free-form context for the curious (never secrets). */
  detail?: string;
  /** The release run this event belongs to, if any. */
  releaseId?: string;
}

export const approvalRef = (request: ApprovalRequest): NonNullable<AuditEvent['approval']> => ({
  pipelineName: request.pipelineName,
  stageName: request.stageName,
  actionName: request.actionName,
  region: request.region,
  ...(request.account ? { account: request.account } : {}),
});

/**
 * The `decision-attempted` event of a claim. The approval keeps its attempts in the claim's own
 * write, so the event exists from that moment; the per-day index finds it on the approval once the
 * approval closes that day, and otherwise it is filed as an item of its own (`attemptsToFile`).
 */
export const attemptEvent = (request: ApprovalRequest, attempt: Attempt): AuditEvent => ({
  eventId: attempt.claimId,
  type: 'decision-attempted',
  at: attempt.at,
  approvalId: request.id,
  approval: approvalRef(request),
  actor: attempt.actor,
  verdict: attempt.verdict,
  ...(attempt.reason ? { reason: attempt.reason } : {}),
  ...(attempt.releaseId ? { releaseId: attempt.releaseId } : {}),
  ...(attempt.override ? { detail: overrideDetail(attempt.override) } : {}),
});

/** How the audit trail marks an approval given during a freeze. */
export const overrideDetail = (override: { freeze: string }): string => `freeze override (${override.freeze})`;

const ELSEWHERE_BY = 'by ';

/** Who gave a decision outside Greenlight (an IAM ARN), from its outcome event's detail. */
export const decidedElsewhereBy = (event: Pick<AuditEvent, 'result' | 'detail'>): string | undefined =>
  event.result === 'decided-elsewhere' && event.detail?.startsWith(ELSEWHERE_BY)
    ? event.detail.slice(ELSEWHERE_BY.length)
    : undefined;

/** Whether an outcome's detail marks a freeze override (rather than the approvers of a count, say). */
export const isOverrideDetail = (detail: string | undefined): detail is string =>
  detail?.startsWith('freeze override (') === true;

/** The `vote` event of a counted approve: the vote's write on the approval is the event. */
export const voteEvent = (request: ApprovalRequest, vote: Vote): AuditEvent => ({
  eventId: vote.voteId,
  type: 'vote',
  at: vote.at,
  approvalId: request.id,
  approval: approvalRef(request),
  actor: vote.actor,
  verdict: 'approve',
  result: 'counted',
});

/** The id of an approval's one `outcome` event. */
export const outcomeEventId = (id: ApprovalId): string => `${id}#outcome`;

/**
 * The one `outcome` event of an approval, from its record: the outcome write is the event, so
 * recording how an approval ended and auditing it can never disagree.
 */
export function outcomeEvent(record: ApprovalRecord): AuditEvent | undefined {
  const outcome = record.outcome;
  if (!outcome) return undefined;
  // Whose decision it was: the person's whose call CodePipeline applied, or, answered in the console
  // or CLI, CodePipeline's verdict, who gave it and their comment. Never that of a click that found
  // the approval ended (answered, expired, stopped): that click's attempt is its own
  // decision-attempted event.
  const applied = outcome.kind === 'approved' || outcome.kind === 'rejected' ? outcome.decision : undefined;
  const elsewhere = outcome.kind === 'decided-elsewhere' ? outcome : undefined;
  const verdict = elsewhere ? elsewhere.verdict : applied?.verdict;
  const reason = elsewhere ? elsewhere.summary : applied?.reason;
  const approvers =
    applied?.approvers && applied.approvers.length > 1
      ? `approvals from ${applied.approvers.map((approver) => `${approver.name} (${approver.id})`).join(', ')}`
      : undefined;
  const detail = elsewhere?.by
    ? `${ELSEWHERE_BY}${elsewhere.by}`
    : applied?.override
      ? overrideDetail(applied.override)
      : approvers;
  return {
    eventId: outcomeEventId(record.request.id),
    type: 'outcome',
    at: outcome.at,
    approvalId: record.request.id,
    approval: approvalRef(record.request),
    result: outcome.kind,
    ...(outcome.releaseId ? { releaseId: outcome.releaseId } : {}),
    ...(applied ? { actor: applied.actor } : {}),
    ...(reason ? { reason } : {}),
    ...(verdict ? { verdict } : {}),
    ...(detail ? { detail } : {}),
    ...(elsewhere?.decidedAt ? { decidedAt: elsewhere.decidedAt } : {}),
  };
}

/**
 * The audit events an approval carries itself (its attempts and its outcome) merged with the
 * events filed as items of their own, each once, in time order.
 */
export function withCarriedEvents(record: ApprovalRecord | undefined, filed: AuditEvent[]): AuditEvent[] {
  const carried = record
    ? [
        ...(record.votes ?? []).map((vote) => voteEvent(record.request, vote)),
        ...(record.attempts ?? []).map((attempt) => attemptEvent(record.request, attempt)),
        outcomeEvent(record),
      ]
    : [];
  // The approval's own copy comes first: it is the record itself (an earlier version filed outcomes too).
  const byId = new Map<string, AuditEvent>();
  for (const event of [...carried, ...filed]) if (event && !byId.has(event.eventId)) byId.set(event.eventId, event);
  return [...byId.values()].sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The UTC day a moment falls on (`2025-03-04`): the per-day audit index's key, and the digest's day. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * The events a closed approval brings to the per-day index of the day it closed: its outcome, and
 * the votes and decision attempts made that day. The approval is in that index itself (its outcome write puts
 * it there), so a click's attempt needs no write of its own. An open approval is in no day's index.
 */
export function carriedIntoClosingDay(record: ApprovalRecord): AuditEvent[] {
  const outcome = outcomeEvent(record);
  if (!outcome) return [];
  const day = dayOf(outcome.at);
  const attempts = (record.attempts ?? [])
    .filter((attempt) => dayOf(attempt.at) === day)
    .map((attempt) => attemptEvent(record.request, attempt));
  // Votes are filed as they are given; those of the closing day are carried too, should one filing have failed.
  const votes = (record.votes ?? [])
    .filter((vote) => dayOf(vote.at) === day)
    .map((vote) => voteEvent(record.request, vote));
  return [...votes, ...attempts, outcome];
}

/**
 * The decision attempts the per-day index cannot find on the approval itself, to be filed as
 * events of their own: every attempt of an approval still open (given back, or its holder died),
 * and a closed approval's attempts made on another day than it closed. Filing is keyed by the
 * attempt's claim id, so filing one again is a no-op.
 */
export function attemptsToFile(record: ApprovalRecord): AuditEvent[] {
  const carried = new Set(carriedIntoClosingDay(record).map((event) => event.eventId));
  return (record.attempts ?? [])
    .map((attempt) => attemptEvent(record.request, attempt))
    .filter((event) => !carried.has(event.eventId));
}
