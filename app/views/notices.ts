import type { ApprovalRecord } from '../core/approval.ts';
import { actorText, relative, shownAt } from './format.ts';

/** Plain-words answers shown only to the person who acted (ephemeral). */
export const notices = {
  alreadyDecided(record: ApprovalRecord, now: Date): string {
    const outcome = record.outcome;
    if (outcome && (outcome.kind === 'approved' || outcome.kind === 'rejected')) {
      // actorText, never the name as it is: a release's name quotes a display name anyone can choose.
      return `This was already ${outcome.kind} by ${actorText(outcome.decision.actor)} ${relative(shownAt(outcome), now)}. Nothing more to do.`;
    }
    if (outcome) return `${notices.ended(record)} Nothing more to do.`;
    if (record.claim) {
      const verb = record.claim.verdict === 'approve' ? 'approving' : 'rejecting';
      return `${actorText(record.claim.actor)} is ${verb} this right now; the message will show the result.`;
    }
    return 'This approval is no longer open.';
  },
  ended(record: ApprovalRecord): string {
    switch (record.outcome?.kind) {
      case 'expired':
        return 'CodePipeline no longer accepts a decision for this approval: it expired or was answered already.';
      case 'decided-elsewhere':
        return 'This approval was decided outside Slack (in the console or CLI).';
      case 'gone':
        return `The ${record.outcome.what} of this approval no longer exists.`;
      case 'stopped':
        return 'This approval ended in CodePipeline without a decision (its execution was stopped or moved on).';
      default:
        return 'This approval is no longer open.';
    }
  },
  /** The decision stands, but Slack would not redraw its message just now. */
  decidedMessageLater(record: ApprovalRecord): string {
    const verdict = record.outcome?.kind === 'rejected' ? 'Rejected' : 'Approved';
    return `${verdict}: CodePipeline has your decision. Slack is busy, so the message will show it in a moment.`;
  },
  tryAgain:
    'CodePipeline did not take the decision just now (it is busy or unreachable). Nothing was changed: please try again in a moment.',
  notPermitted:
    'Greenlight is not allowed to decide approvals of this pipeline: its AWS role covers only the products it was deployed for. Nothing was changed. Ask your Greenlight admins to add the product (PRODUCTS).',
  unknownApproval:
    'Greenlight does not know this approval. It may come from another installation. Nothing was changed.',
  malformed: 'This button is not one Greenlight made, so it was ignored. Nothing was changed.',
  failed:
    'Something went wrong on our side and nothing was changed. Please try again; if it keeps failing, tell your Greenlight admins.',
  /** CodePipeline took the decision; Greenlight's record of it lags (OutcomeNotRecordedError). */
  notRecorded(verdict: 'approve' | 'reject'): string {
    const done = verdict === 'approve' ? 'approval' : 'rejection';
    return `Your ${done} reached CodePipeline, but Greenlight could not record it just now. The message will show it once recorded; there is no need to click again.`;
  },
} as const;
