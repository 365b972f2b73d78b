import type { ApprovalId, ApprovalRecord, ApprovalRequest, Decision, MessageRef, Outcome } from './approval.ts';
import type { AuditEvent } from './audit.ts';
import type { ExecutionSummary, PipelineSnapshot } from './pipeline.ts';

/**
 * Pending approvals and their audit trail. Every state change is a single-item conditional write,
 * so concurrent and repeated calls settle on exactly one winner.
 */
export interface ApprovalStore {
  /** Stores a new request; `exists` when this token was seen before (a repeated notification). */
  saveRequest(request: ApprovalRequest): Promise<'created' | 'exists'>;
  get(id: ApprovalId): Promise<ApprovalRecord | undefined>;
  /**
   * Takes the right to post the Slack message for a while. `false` when the message is posted
   * already or another delivery holds an unexpired lease.
   */
  leasePost(id: ApprovalId, until: Date, now: Date): Promise<boolean>;
  recordMessage(id: ApprovalId, message: MessageRef): Promise<void>;
  /** First decision wins: fails with AlreadyDecidedError (carrying the current record) for the others. */
  claim(id: ApprovalId, decision: Decision & { claimId: string }, staleBefore: Date): Promise<ApprovalRecord>;
  /** Gives a claim back (the decision could not be applied); only the claim's holder can. */
  releaseClaim(id: ApprovalId, claimId: string): Promise<void>;
  recordOutcome(id: ApprovalId, outcome: Outcome): Promise<ApprovalRecord>;
  /** Pending and deciding approvals, oldest first. */
  listOpen(): Promise<ApprovalRecord[]>;
  append(event: AuditEvent): Promise<void>;
  eventsForApproval(id: ApprovalId): Promise<AuditEvent[]>;
  /** Events of one UTC day (`YYYY-MM-DD`), in time order. */
  eventsForDay(day: string): Promise<AuditEvent[]>;
}

/** CodePipeline, as far as approvals go. Throws the core's errors, never the SDK's. */
export interface PipelineGateway {
  putApprovalResult(request: ApprovalRequest, decision: Decision, summary: string): Promise<void>;
}

/** Shows approvals to people (Slack). Rendering is the adapter's business. */
export interface ApprovalNotifier {
  /** Posts the approval message; returns where it landed. */
  announce(record: ApprovalRecord): Promise<MessageRef>;
  /** Redraws the message to show the record as it stands. */
  refresh(record: ApprovalRecord): Promise<void>;
}

export interface Log {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

export type Clock = () => Date;
/** Unique ids for events and claims (random in production, counters in tests). */
export type IdSource = () => string;

/**
 * Reading pipelines. Implementations bound their own concurrency and paginate fully; they throw
 * the core's errors (PipelineGoneError, TransientError), never the SDK's.
 */
export interface PipelineReader {
  /** Names of the pipelines whose name starts with `prefix`, sorted. */
  listPipelines(prefix: string): Promise<string[]>;
  /** GetPipelineState, with each stage's revision filled in. */
  snapshot(pipelineName: string): Promise<PipelineSnapshot>;
  /** Executions started at or after `since`, newest first. */
  executionsSince(pipelineName: string, since: Date): Promise<ExecutionSummary[]>;
}

/** Business counts for dashboards and alarms (CloudWatch EMF on Lambda). */
export interface Metrics {
  count(
    name: 'ApprovalPosted' | 'ApprovalDecided' | 'DecisionRefused' | 'ClaimReleased',
    dimensions?: Record<string, string>,
  ): void;
}
