import type { Actor, ApprovalId, ApprovalRequest, Verdict } from './approval.ts';

/**
 * The audit trail: append-only events, readable per approval and per day.
 * An event never carries the approval token.
 */
export type AuditEventType =
  | 'requested' // CodePipeline asked for an approval
  | 'posted' // the Slack message went out
  | 'decision-attempted' // someone clicked Approve or submitted a rejection
  | 'decision-refused' // … but the approval was already decided, or the input was bad
  | 'outcome' // the approval ended: approved, rejected, expired, decided elsewhere, gone
  | 'claim-released'; // the claim was given back: a decision could not be applied (throttling, AWS errors). Stored name, kept as it is.

export interface AuditEvent {
  /** Unique per event; also the idempotency key of the append. */
  eventId: string;
  type: AuditEventType;
  at: Date;
  /** `unknown` for events about input that named no approval we know (tampered values). */
  approvalId: ApprovalId | 'unknown';
  approval?: Pick<ApprovalRequest, 'pipelineName' | 'stageName' | 'actionName' | 'region'>;
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
});
