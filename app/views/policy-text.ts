import {
  activeFreeze,
  type EnvPolicy,
  type FreezeWindow,
  hasRules,
  nextFreeze,
  upcomingFreezes,
} from '../core/policy.ts';
import { escapeMrkdwn, slackDate } from './format.ts';
import { frozenText, listText } from './policy-lines.ts';

/** The approval rules in plain words (`/release <product> policy`, the digest, /release refusals). */

const when = (freeze: FreezeWindow): string =>
  `${escapeMrkdwn(freeze.reason)}: ${slackDate(freeze.start)} until ${slackDate(freeze.end)}`;

/** One env's rules: who, how many, separation, freezes now and next. */
export function envRulesText(policy: EnvPolicy, now: Date): string {
  const who = policy.approvers.length > 0 ? listText(policy.approvers) : 'anyone in the workspace';
  const lines = [
    `*${escapeMrkdwn(policy.env)}*`,
    `• Who may approve: ${who}`,
    `• How many: ${policy.required === 1 ? 'one approval' : `${policy.required} approvals from different people`}`,
  ];
  if (policy.separateFrom.length > 0)
    lines.push(
      `• Four eyes: whoever approved a revision into ${policy.separateFrom.map(escapeMrkdwn).join(' or ')} may not approve it here`,
    );
  const frozen = activeFreeze(policy.freezes, now);
  if (frozen) lines.push(`• ${frozenText(frozen)}, ${escapeMrkdwn(frozen.timeZone)} time`);
  const next = nextFreeze(policy.freezes, now);
  if (next) lines.push(`• Next freeze: ${when(next)}`);
  if (policy.breakGlass.length > 0)
    lines.push(`• During a freeze, ${listText(policy.breakGlass)} may still approve, giving a reason (break glass)`);
  if (policy.autoApprove === 'safe-changes')
    lines.push('• Greenlight approves a change set that replaces, removes and grants nothing itself');
  return lines.join('\n');
}

/** Every env of the product, those without rules too (anyone approves there, once): none is left out. */
export function productRulesText(displayName: string, policies: readonly EnvPolicy[], now: Date): string {
  if (!policies.some((policy) => hasRules(policy) || policy.autoApprove))
    return `*${escapeMrkdwn(displayName)}* has no approval rules: anyone may approve.`;
  return [`*Approval rules for ${escapeMrkdwn(displayName)}*`, ...policies.map((p) => envRulesText(p, now))].join(
    '\n\n',
  );
}

/** How far ahead the digest looks for freezes: a week, so Monday's digest shows the whole week. */
const FREEZE_DIGEST_DAYS = 7;

/**
 * The digest's freeze section: the freezes in force now, each with its end, then those that start
 * within the next week, soonest first; undefined when there are none.
 */
export function freezeDigestText(policies: readonly EnvPolicy[], now: Date): string | undefined {
  const inForce: string[] = [];
  const coming: { start: number; line: string }[] = [];
  for (const policy of policies) {
    const where = `❄️ ${escapeMrkdwn(policy.product)} ${escapeMrkdwn(policy.env)}`;
    // A freeze in force is the one a release planned today runs into first.
    const frozen = activeFreeze(policy.freezes, now);
    if (frozen) inForce.push(`${where} — frozen now: ${escapeMrkdwn(frozen.reason)} until ${slackDate(frozen.end)}`);
    for (const freeze of upcomingFreezes(policy.freezes, now, FREEZE_DIGEST_DAYS))
      coming.push({ start: freeze.start.getTime(), line: `${where} — ${when(freeze)}` });
  }
  if (inForce.length + coming.length === 0) return undefined;
  const heading =
    inForce.length > 0
      ? `*Freezes now and in the next ${FREEZE_DIGEST_DAYS} days*`
      : `*Freezes in the next ${FREEZE_DIGEST_DAYS} days*`;
  coming.sort((a, b) => a.start - b.start);
  return [heading, ...inForce, ...coming.map((c) => c.line)].join('\n');
}

/** Answers of `/release` under the rules. */
export const releaseRuleNotices = {
  frozen: (policy: EnvPolicy, freeze: FreezeWindow): string =>
    `${frozenText(freeze)}: ${escapeMrkdwn(policy.product)} ${escapeMrkdwn(policy.env)} is frozen, ${escapeMrkdwn(freeze.timeZone)} time. Nothing was approved.`,
  notAnApprover: (policy: EnvPolicy): string =>
    `Only ${listText(policy.approvers)} may release *${escapeMrkdwn(policy.product)}* to ${escapeMrkdwn(policy.env)}. Nothing was approved.`,
} as const;
