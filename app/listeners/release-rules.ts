import { activeFreeze, groupsIn, hasRules, onList, policyByKey } from '../core/policy.ts';
import { releaseRuleNotices } from '../views/policy-text.ts';
import type { ReleaseListenerDeps } from './release-context.ts';

/**
 * Why `/release <product> <env>` may not approve now under the env's rules (docs/policy.md), in
 * plain words; undefined when it may. Asked when the command arrives and again when the person
 * confirms, so a freeze that began in between still stops it (and the worker asks again for each
 * change it reaches). Where the rules ask for several people, the release is the requester's vote.
 */
export async function releaseRefusal(
  deps: Pick<ReleaseListenerDeps, 'config' | 'clock' | 'rules'>,
  product: string,
  env: string,
  userId: string,
): Promise<string | undefined> {
  const policy = policyByKey(`${product}/${env}`, deps.config.products);
  if (!policy || !hasRules(policy)) return undefined;
  const freeze = activeFreeze(policy.freezes, deps.clock());
  if (freeze) return releaseRuleNotices.frozen(policy, freeze);
  if (policy.approvers.length > 0) {
    const groups = groupsIn(policy.approvers);
    const memberOf = groups.length > 0 ? await deps.rules?.groups.groupsOf(userId, groups) : new Set<string>();
    if (!onList(policy.approvers, userId, memberOf)) return releaseRuleNotices.notAnApprover(policy);
  }
  // More approvals than one, and four eyes across envs, are held to per change when the release
  // reaches it (core/release-run.ts): the release counts as the requester's approval.
  return undefined;
}
