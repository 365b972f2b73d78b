import type { EnvPolicy } from './policy.ts';
import type { ApprovalReview } from './revision-review.ts';
import { clip } from './text.ts';

/**
 * The approval domain: a CodePipeline manual approval as Greenlight sees it, from the request
 * CodePipeline publishes to the outcome a person (or a release) gives it.
 */

/** Stable id of one approval request, derived from its token (never the token itself). */
export type ApprovalId = string;

/** What CodePipeline asks for: one pending manual approval action. */
export interface ApprovalRequest {
  id: ApprovalId;
  pipelineName: string;
  stageName: string;
  actionName: string;
  region: string;
  /**
   * The AWS account the pipeline lives in, when it is not Greenlight's own (a product's `account`,
   * found by routing: core/products.ts routeApproval). Unset: Greenlight's own account.
   */
  account?: string;
  /**
   * Secret: answers the approval. Never logged, never shown, never sent to Slack. Kept only while
   * the approval is open: a closed approval's record drops it (and the review link that ends in
   * it), and reads back with '' here, so the per-day audit trail never holds one.
   */
  token: string;
  /** When CodePipeline fails the approval if nobody answers (minute precision). */
  expiresAt: Date;
  consoleLink: string;
  /** CodePipeline's review link; it ends in the token, so it is never shown, and dropped on close. */
  reviewLink?: string;
  externalEntityLink?: string;
  customData?: string;
  receivedAt: Date;
  /**
   * When CodePipeline published the notification (SNS `Timestamp`): when the approval began waiting,
   * however late Greenlight took it in (a retried or redriven delivery). Absent on requests of older
   * versions and on those Greenlight knows only from the pipeline's state.
   */
  notifiedAt?: Date;
  /**
   * Required fields of the notification that could not be read (their names). Such a request is
   * shown with what could be read and a console link, and cannot be decided from Slack.
   */
  unreadable?: string[];
  /**
   * The rules it was posted under (docs/policy.md), as they stood at ingest, and who may not approve
   * it here for having approved the same revision into an env it is separated from. The click
   * checks the rules it holds against `policy.key` in the claim's own condition.
   */
  policy?: EnvPolicy & { separatedFrom?: string[] };
  /**
   * What it asks people to approve, read at ingest (core/revision-review.ts): the source revision and
   * its distance from production, and the CloudFormation change set it gates.
   */
  review?: ApprovalReview;
}

/** Who acted. Slack people carry their team; releases name the run that acted. */
export interface Actor {
  id: string;
  name: string;
  teamId?: string;
  /** `policy`: Greenlight itself, approving a safe change set where the env opts in (core/auto-approve.ts). */
  via: 'slack' | 'release' | 'policy';
  /**
   * A release's: what it releases (`shop → qa`) and the Slack user who asked for it (for views to
   * mention), with their name where known (votes and summaries name them).
   */
  release?: { what: string; requestedBy: string; requesterName?: string };
}

/**
 * The person behind a decision, as the approval rules count people (docs/policy.md): whoever clicked,
 * or the Slack user who asked for a release. A releasing pipeline's release has nobody behind it.
 */
export const personOf = (actor: Actor): string | undefined =>
  actor.via === 'slack' ? actor.id : actor.release?.requestedBy;

export type Verdict = 'approve' | 'reject';

export interface Decision {
  verdict: Verdict;
  actor: Actor;
  reason?: string;
  at: Date;
  /** With `required` above one: everyone whose vote made the approval, the decider last. */
  approvers?: Array<Pick<Actor, 'id' | 'name'>>;
  /** An approval given during a freeze by a break-glass member (its reason is the decision's). */
  override?: { freeze: string };
}

/** One person's approve towards a `required` count; the approval keeps them all. */
export interface Vote {
  voteId: string;
  actor: Actor;
  at: Date;
}

/**
 * How an approval ended. Only `approved` and `rejected` came from Greenlight. `releaseId`: the
 * release run whose decision ended it, for the audit trail.
 */
export type Outcome = (
  | { kind: 'approved' | 'rejected'; decision: Decision; at: Date }
  | { kind: 'expired'; decision?: Decision; at: Date }
  | {
      kind: 'decided-elsewhere';
      decision?: Decision;
      at: Date;
      /** What CodePipeline shows, when it was read: the verdict, who gave it (`lastUpdatedBy`, an IAM ARN) and its summary. */
      verdict?: Verdict;
      by?: string;
      summary?: string;
      /** When CodePipeline took it (the action's `lastStatusChange`); `at` is when Greenlight recorded it. */
      decidedAt?: Date;
    }
  | { kind: 'gone'; decision?: Decision; at: Date; what: 'pipeline' | 'stage' | 'action' }
  /**
   * It ended in CodePipeline without a decision: its execution was stopped (and the approval
   * abandoned), cancelled by a pipeline update, or CodePipeline moved on to a newer approval.
   */
  | { kind: 'stopped'; decision?: Decision; at: Date; why: 'stopped' | 'cancelled' | 'replaced' }
) & { releaseId?: string };

export type ApprovalStatus = 'pending' | 'deciding' | 'closed';

export interface MessageRef {
  channel: string;
  ts: string;
}

/** A stored approval: the request, where it is shown, and where it stands. */
export interface ApprovalRecord {
  request: ApprovalRequest;
  status: ApprovalStatus;
  message?: MessageRef;
  /** The decision being applied right now (status `deciding`); `until` is missing on claims of older versions. */
  claim?: Decision & { claimId: string; until?: Date };
  /**
   * Every claim ever taken, in order: the decisions attempted, kept with the approval in the same
   * write as the claim (each is also filed as a `decision-attempted` audit event). What CodePipeline
   * took is matched against these, so it is credited to whoever gave it.
   */
  attempts?: Attempt[];
  /** Approves counted so far towards the policy's `required` (one per person); each is an audit event. */
  votes?: Vote[];
  outcome?: Outcome;
}

/** How long CodePipeline waits for a decision when the action sets no timeout. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 7 * 24 * 60 * 60_000;

/**
 * The request of an approval Greenlight knows only from the pipeline's state, not from its
 * notification: the pipeline's console page as both links (the console's approval link would carry
 * the token), and CodePipeline's default expiry from when it started waiting.
 */
export function requestFromState(
  found: Pick<ApprovalRequest, 'id' | 'pipelineName' | 'stageName' | 'actionName' | 'region' | 'account' | 'token'>,
  waitingSince: Date,
  now: Date,
): ApprovalRequest {
  const consoleLink = `https://console.aws.amazon.com/codepipeline/home?region=${found.region}#/view/${found.pipelineName}`;
  return {
    ...found,
    expiresAt: new Date(waitingSince.getTime() + DEFAULT_APPROVAL_TIMEOUT_MS),
    consoleLink,
    reviewLink: consoleLink,
    receivedAt: now,
  };
}

/**
 * How long a claim fences the approval: its holder may apply its decision until then, and nobody
 * else may claim it. Far longer than a holder can work (a click's Lambda stops after 10 s, a
 * release's PutApprovalResult with all its retries after about 30 s), so a live holder is never
 * overtaken; a holder that died leaves the approval open again once it runs out.
 */
export const STALE_CLAIM_MS = 60_000;

/** A claim whose holder must have died: it may be taken over. */
export const isStaleClaim = (claim: { at: Date; until?: Date }, now: Date): boolean =>
  (claim.until ?? new Date(claim.at.getTime() + STALE_CLAIM_MS)).getTime() < now.getTime();

/** Open to a decision: pending, or held by a stale claim (decideApproval takes it over). */
export const isOpenToDecision = (record: ApprovalRecord, now: Date): boolean =>
  record.status === 'pending' || (record.status === 'deciding' && (!record.claim || isStaleClaim(record.claim, now)));

/**
 * A decision being applied: who holds the approval, and until when nobody else may claim it. The
 * claim id is also the event id of its `decision-attempted` audit event.
 */
export type Claim = Decision & { claimId: string; until: Date; releaseId?: string };

/** A decision attempted: a claim as the approval keeps it after the claim itself is gone. */
export type Attempt = Decision & { claimId: string; releaseId?: string };

/** The identity of an approval for people and logs: everything but the token. */
export const describe = (request: ApprovalRequest): string =>
  `${request.pipelineName} › ${request.stageName} › ${request.actionName}`;

/** The summary CodePipeline records with the result (its limit is 512 characters; the SDK does not check). */
export const SUMMARY_LIMIT = 512;

/** The part of a summary that names the decision and who gave it (`Approved by Alice (U0ALICE) via Slack`). */
export function summaryHead(decision: Pick<Decision, 'verdict' | 'actor'>): string {
  const verb = decision.verdict === 'approve' ? 'Approved' : 'Rejected';
  const channel =
    decision.actor.via === 'slack'
      ? 'via Slack'
      : decision.actor.via === 'policy'
        ? 'via Greenlight policy'
        : 'via Greenlight release';
  return `${verb} by ${decision.actor.name} (${decision.actor.id}) ${channel}`;
}

/**
 * The summary CodePipeline keeps with the result: who decided, and why. Read back after an unclear
 * answer by its head (summaryHead), which names the attempt it came from.
 */
export function approvalSummary(decision: Decision): string {
  const head = summaryHead(decision);
  // After the head, so an attempt is still recognised by it (creditedDecision).
  const approvers =
    decision.approvers && decision.approvers.length > 1
      ? `approvals from ${decision.approvers.map((a) => `${a.name} (${a.id})`).join(', ')}`
      : undefined;
  const override = decision.override ? `freeze override (${decision.override.freeze})` : undefined;
  // A release names the person who asked for it, whom four eyes across envs keep out next time (core/policy-at-ingest.ts).
  const requester = decision.actor.release ? `asked by Slack user ${decision.actor.release.requestedBy}` : undefined;
  const details = [approvers, requester, override, decision.reason].filter(Boolean).join(': ');
  return clip(details ? `${head}: ${details}` : head, SUMMARY_LIMIT);
}

/** Reasons a person gives for a rejection: required, trimmed, bounded. */
export const REASON_LIMIT = 500;

export type ReasonCheck = { ok: true; reason: string } | { ok: false; problem: string };

export function checkReason(raw: string | null | undefined): ReasonCheck {
  const reason = (raw ?? '').trim();
  if (reason.length === 0) return { ok: false, problem: 'Please say why you reject this change.' };
  if (reason.length > REASON_LIMIT)
    return {
      ok: false,
      problem: `Please keep the reason within ${REASON_LIMIT} characters (it has ${reason.length}).`,
    };
  return { ok: true, reason };
}
