import { type Actor, type ApprovalRecord, type ApprovalRequest, isOpenToDecision } from './approval.ts';
import { approvalRef } from './audit.ts';
import { safeChanges } from './change-set.ts';
import { type DecideDeps, decideApproval } from './decide-approval.ts';
import { AlreadyDecidedError } from './errors.ts';
import { activeFreeze } from './policy.ts';

/**
 * Policy auto-approve (docs/what-am-i-approving.md): where an env opts in with
 * `"autoApprove": "safe-changes"`, an approval whose change set replaces nothing, removes nothing and
 * grants nothing is approved by Greenlight itself, through the same claim as a click, so it happens
 * once however often the notification comes, and never over a person's decision. It is refused where
 * the env needs more than one approver (a policy is nobody's vote) or is frozen.
 */

/** Who approves: Greenlight's policy, named in the audit trail, the message and CodePipeline's summary. */
export const POLICY_ACTOR: Actor = { id: 'safe-changes', name: 'Greenlight policy', via: 'policy' };

export type AutoApproveVerdict = { approve: true; reason: string } | { approve: false; reason: string };

/**
 * Whether the policy approves this request now, and why (or why not). Undefined where the env does
 * not opt in. Pure: the message shows the same reason the policy acted on.
 */
export function autoApproveVerdict(request: ApprovalRequest, now: Date): AutoApproveVerdict | undefined {
  const policy = request.policy;
  if (policy?.autoApprove !== 'safe-changes') return undefined;
  if (policy.required > 1)
    return {
      approve: false,
      reason: `${policy.env} needs ${policy.required} approvers, and a policy is nobody's vote`,
    };
  const freeze = activeFreeze(policy.freezes, now);
  if (freeze) return { approve: false, reason: `${policy.env} is frozen${freeze.reason ? ` (${freeze.reason})` : ''}` };
  if (!request.review || request.review.unread)
    return { approve: false, reason: 'what it changes could not be read when it arrived' };
  const { safe, reason } = safeChanges(request.review.changeSet);
  return safe ? { approve: true, reason } : { approve: false, reason };
}

export type AutoApproveResult = 'not-configured' | 'declined' | 'approved' | 'decided-already';

/**
 * Approves the approval by policy when its verdict says so. Run after its message is posted, on every
 * delivery of the notification (one that died before approving is made good by its retry); the claim's
 * conditional write lets only one of them, or a person's click, decide.
 */
export async function autoApprove(deps: DecideDeps, record: ApprovalRecord): Promise<AutoApproveResult> {
  const now = deps.clock();
  const verdict = autoApproveVerdict(record.request, now);
  if (!verdict) return 'not-configured';
  if (!isOpenToDecision(record, now)) return 'decided-already';
  if (!verdict.approve) {
    deps.log.info('Auto-approve declined; a person decides', { approvalId: record.request.id, why: verdict.reason });
    // In the audit trail as the policy's refused decision; one event however often the notification comes.
    await deps.store.append({
      eventId: `${record.request.id}#auto-approve-declined`,
      type: 'decision-refused',
      at: now,
      approvalId: record.request.id,
      approval: approvalRef(record.request),
      actor: POLICY_ACTOR,
      verdict: 'approve',
      result: 'auto-approve-declined',
      detail: verdict.reason,
    });
    return 'declined';
  }
  const policy = record.request.policy;
  try {
    await decideApproval(
      deps,
      record.request.id,
      { verdict: 'approve', actor: POLICY_ACTOR, reason: `Safe changes: ${verdict.reason}`, at: now },
      { rules: { key: policy?.key } },
    );
  } catch (error) {
    if (error instanceof AlreadyDecidedError) return 'decided-already';
    throw error;
  }
  return 'approved';
}
