import { type ApprovalId, type ApprovalRecord, type Decision, personOf } from './approval.ts';
import { approvalRef, voteEvent } from './audit.ts';
import { type DecideDeps, type DecideOptions, decideApproval, refreshQuietly } from './decide-approval.ts';
import { TransientError } from './errors.ts';
import { activeFreeze, type EnvPolicy, groupsIn, hasRules, onList, policyByKey } from './policy.ts';
import {
  AlreadyVotedError,
  FrozenError,
  NeedsPeopleError,
  NotAnApproverError,
  NotBreakGlassError,
  PolicyRefusalError,
  RulesMismatchError,
} from './policy-errors.ts';
import type { GroupDirectory } from './ports.ts';
import type { ProductOverride } from './products.ts';

/** What the approval rules need: the configured products, and Slack's user groups. */
export interface RulesDeps {
  products: Readonly<Record<string, ProductOverride>>;
  groups: GroupDirectory;
}

export interface RulesDecideDeps extends DecideDeps {
  /** Without it, decisions are taken as without rules (scripts, and tests of the decision itself). */
  rules?: RulesDeps;
}

export interface RulesDecideOptions extends DecideOptions {
  /** The rules the approval's message was drawn under (its button says), undefined: none. */
  rulesKey?: string;
  /** A break-glass approve during a freeze; the decision carries the required reason. */
  breakGlass?: boolean;
}

/**
 * Decides under the approval rules (docs/policy.md): who may, how many, when. Everything is checked
 * before any write, from what the click already knows (the rules by the key its button carries,
 * group membership remembered briefly, the clock); what only the approval knows (that it still
 * stands under those rules, and who is separated from it) is the claim's or vote's own condition.
 * So a click on an approval with `required: 1` costs the same three round trips as without rules.
 * With `required: N`, an approve is a vote; the one that completes the count claims and decides.
 * A refusal is audited and thrown; nothing reaches CodePipeline.
 */
export async function decideUnderRules(
  deps: RulesDecideDeps,
  id: ApprovalId,
  decision: Decision,
  options: RulesDecideOptions = {},
): Promise<ApprovalRecord> {
  const { rulesKey, breakGlass, ...decide } = options;
  if (!deps.rules) return decideApproval(deps, id, decision, decide);
  const rules = rulesKey ? policyByKey(rulesKey, deps.rules.products) : undefined;
  try {
    return await decideChecked(deps, deps.rules.groups, id, decision, rules, rulesKey, breakGlass === true, decide);
  } catch (error) {
    if (error instanceof RulesMismatchError) {
      // The message was drawn under other rules (or before them): decide under the approval's own.
      const own = error.record.request.policy;
      try {
        return await decideChecked(deps, deps.rules.groups, id, decision, own, own?.key, breakGlass === true, decide);
      } catch (again) {
        await auditRefusal(deps, id, decision, again, error.record);
        throw again;
      }
    }
    await auditRefusal(deps, id, decision, error);
    throw error;
  }
}

/**
 * Whether the person may break glass under `rules`: named in `breakGlass`, or in a group named there
 * (asked of the directory, which remembers it briefly); undefined when Slack did not say in time.
 * Asked before the break-glass modal opens.
 */
export async function mayBreakGlass(
  directory: GroupDirectory,
  rules: EnvPolicy,
  person: string,
): Promise<boolean | undefined> {
  if (onList(rules.breakGlass, person, undefined)) return true;
  const groups = groupsIn(rules.breakGlass);
  if (groups.length === 0) return false;
  const memberOf = await directory.groupsOf(person, groups);
  return memberOf === undefined ? undefined : onList(rules.breakGlass, person, memberOf);
}

async function decideChecked(
  deps: RulesDecideDeps,
  directory: GroupDirectory,
  id: ApprovalId,
  decision: Decision,
  rules: EnvPolicy | undefined,
  key: string | undefined,
  breakGlass: boolean,
  options: DecideOptions,
): Promise<ApprovalRecord> {
  if (!rules || !hasRules(rules)) return decideApproval(deps, id, decision, { ...options, rules: { key } });
  const guarded = { ...options, rules: { key: rules.key } };
  // A click's person is the clicker; a `/release`'s the one who asked for it (core/approval.ts, personOf).
  const person = personOf(decision.actor);
  const freeze = decision.verdict === 'approve' ? activeFreeze(rules.freezes, decision.at) : undefined;
  if (person === undefined) {
    // A releasing pipeline's release: it may approve only where the rules count no people, and never in a freeze.
    if (freeze) throw new FrozenError(freeze, false);
    if (rules.approvers.length > 0 || rules.required > 1 || rules.separateFrom.length > 0)
      throw new NeedsPeopleError(rules);
    return decideApproval(deps, id, decision, guarded);
  }
  const groups = [...new Set([...groupsIn(rules.approvers), ...groupsIn(rules.breakGlass)])];
  const memberOf = groups.length > 0 ? await directory.groupsOf(person, groups) : new Set<string>();
  const breakGlassMember = onList(rules.breakGlass, person, memberOf);
  // Asked to break glass without being among those who may: said as such, not as a plain freeze;
  // when Slack did not say who is in the groups, the person is asked to try again.
  if (breakGlass && freeze && !breakGlassMember) {
    if (memberOf === undefined && groupsIn(rules.breakGlass).length > 0)
      throw new TransientError('Slack did not say in time who may break glass');
    throw new NotBreakGlassError(freeze, rules);
  }
  // Break-glass members are named for the emergency: during a freeze they may approve though not approvers.
  const breaking = breakGlass && breakGlassMember && freeze !== undefined;
  if (rules.approvers.length > 0 && !onList(rules.approvers, person, memberOf) && !breaking)
    throw new NotAnApproverError(rules);
  if (decision.verdict === 'reject') return decideApproval(deps, id, decision, guarded);

  if (freeze) {
    if (!breaking || !decision.reason) throw new FrozenError(freeze, breakGlassMember);
    // Breaking glass is for the emergency: it approves at once, whatever the count, marked as such.
    return decideApproval(deps, id, { ...decision, override: { freeze: freeze.reason } }, guarded);
  }
  if (rules.required <= 1) return decideApproval(deps, id, decision, guarded);

  // A release's vote is its requester's: they cannot count a second time by clicking.
  const voter = { ...decision.actor, id: person, name: decision.actor.release?.requesterName ?? decision.actor.name };
  const vote = { voteId: deps.ids(), actor: voter, at: decision.at };
  const { record, counted } = await deps.store.vote(id, vote, { key: rules.key }, decision.at);
  const votes = record.votes ?? [];
  if (votes.length < rules.required) {
    if (!counted) throw new AlreadyVotedError(record);
    // Filed for the per-day trail of the day it was given (the approval may close on another day):
    // under its vote id, so filing again is a no-op; the approval keeps it whatever happens here.
    await deps.store.append(voteEvent(record.request, vote)).catch((error: unknown) =>
      deps.log.warn('Could not file a vote in the per-day audit trail; the approval keeps it', {
        approvalId: id,
        error,
      }),
    );
    await refreshQuietly(deps, record);
    // A vote's redraw may land after the deciding vote's: the message must not keep "1 of 2" then.
    const now = await deps.store.get(id);
    if (now?.status === 'closed') await refreshQuietly(deps, now);
    deps.log.info('Approval vote counted', { approvalId: id, votes: votes.length, required: rules.required });
    return record;
  }
  // This vote (or a repeated one whose claim never came) completes the count: it decides for all of them.
  const approvers = votes.map((vote) => ({ id: vote.actor.id, name: vote.actor.name }));
  return decideApproval(deps, id, { ...decision, approvers }, guarded);
}

async function auditRefusal(
  deps: RulesDecideDeps,
  id: ApprovalId,
  decision: Decision,
  error: unknown,
  record?: ApprovalRecord,
): Promise<void> {
  if (!(error instanceof PolicyRefusalError)) return;
  deps.metrics?.count('DecisionRefused', { reason: error.result });
  const request = record?.request ?? ('record' in error ? (error.record as ApprovalRecord).request : undefined);
  await deps.store
    .append({
      approvalId: id,
      eventId: deps.ids(),
      type: 'decision-refused',
      at: deps.clock(),
      actor: decision.actor,
      verdict: decision.verdict,
      ...(decision.reason ? { reason: decision.reason } : {}),
      ...(request ? { approval: approvalRef(request) } : {}),
      result: error.result,
      detail: error.message,
    })
    .catch((appendError: unknown) =>
      deps.log.warn('Could not audit a refusal by the approval rules', { approvalId: id, error: appendError }),
    );
}
