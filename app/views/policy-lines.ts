import type { ApprovalRecord, Decision } from '../core/approval.ts';
import { activeFreeze, type EnvPolicy, type FreezeWindow, GROUP_ID, voteCount } from '../core/policy.ts';
import { escapeMrkdwn, mention } from './format.ts';

/** The approval rules in messages, answers and the break-glass modal (docs/policy.md). */

/** A user or group as Slack shows it: a group mention renders as its current @handle. */
export const whoText = (id: string): string => (GROUP_ID.test(id) ? `<!subteam^${id}>` : mention(id));

export const listText = (list: readonly string[]): string => {
  const shown = list.map(whoText);
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
};

/** `❄️ Frozen until Mon 08:00 (Weekend)`. */
export const frozenText = (freeze: FreezeWindow): string =>
  `❄️ Frozen until ${freeze.endLabel} (${escapeMrkdwn(freeze.reason)})`;

/** The freeze an approval's message shows now, from the rules it was posted under. */
export const freezeOf = (record: ApprovalRecord, now: Date): FreezeWindow | undefined =>
  record.request.policy ? activeFreeze(record.request.policy.freezes, now) : undefined;

/** "1 of 2 approvals: @alice", while the count is not complete. */
export function votesText(record: ApprovalRecord): string | undefined {
  const policy = record.request.policy;
  const votes = record.votes ?? [];
  if (!policy || policy.required <= 1 || votes.length === 0) return undefined;
  return `${voteCount(votes.length, policy.required)}: ${votes.map((vote) => mention(vote.actor.id)).join(', ')}`;
}

/** Who approved, for the outcome line: everyone whose vote counted, and a freeze override. */
export function approversSuffix(decision: Decision): string {
  const others = (decision.approvers ?? []).filter((approver) => approver.id !== decision.actor.id);
  const also = others.length > 0 ? ` with ${others.map((approver) => mention(approver.id)).join(', ')}` : '';
  const override = decision.override ? ` — ❄️ *freeze override* (${escapeMrkdwn(decision.override.freeze)})` : '';
  return `${also}${override}`;
}

/** Private answers for refusals by the rules. */
export const policyNotices = {
  notAnApprover: (policy: EnvPolicy): string =>
    `Only ${listText(policy.approvers)} may decide *${escapeMrkdwn(policy.product)} ${escapeMrkdwn(policy.env)}* approvals. Nothing was changed.`,
  frozen: (freeze: FreezeWindow, breakGlass: boolean): string =>
    `${frozenText(freeze)}, ${escapeMrkdwn(freeze.timeZone)} time: approving waits until then. Nothing was changed.${
      breakGlass ? ' As a break-glass member you may still approve: press *Break glass…* and say why.' : ''
    }`,
  notBreakGlass: (policy: EnvPolicy, freeze: FreezeWindow): string =>
    `Only ${listText(policy.breakGlass)} may break glass for *${escapeMrkdwn(policy.product)} ${escapeMrkdwn(policy.env)}*. ${frozenText(freeze)}, ${escapeMrkdwn(freeze.timeZone)} time: approving waits until then. Nothing was changed.`,
  separated: (record: ApprovalRecord): string =>
    `You approved this revision into ${escapeMrkdwn(record.request.policy?.separateFrom.join(' or ') ?? 'an earlier env')}, so someone else must approve it here (four eyes). Nothing was changed.`,
  alreadyVoted: (record: ApprovalRecord): string =>
    `Your approval is counted already (${votesText(record) ?? 'waiting for others'}). It needs someone else's.`,
  counted: (record: ApprovalRecord): string =>
    `Your approval counts: ${votesText(record) ?? ''}. The approval goes to CodePipeline when the count is complete.`,
  freezeEnded: 'The freeze has ended: the message shows Approve again.',
} as const;
