import type { ApprovalRecord } from './approval.ts';
import { GreenlightError } from './errors.ts';
import type { EnvPolicy, FreezeWindow } from './policy.ts';

/** Refusals by the approval rules (docs/policy.md): each is audited and answered privately, nothing reaches CodePipeline. */
export class PolicyRefusalError extends GreenlightError {
  override name = 'PolicyRefusalError';
  /** The audit event's `result`. */
  readonly result: string = 'refused';
}

/** The person is not among the env's approvers. */
export class NotAnApproverError extends PolicyRefusalError {
  override name = 'NotAnApproverError';
  override readonly result = 'not-an-approver';
  constructor(readonly policy: EnvPolicy) {
    super(`Not an approver of ${policy.key}`);
  }
}

/** Approving is frozen now; `breakGlass`: the person may approve anyway, giving a reason. */
export class FrozenError extends PolicyRefusalError {
  override name = 'FrozenError';
  override readonly result = 'frozen';
  constructor(
    readonly freeze: FreezeWindow,
    readonly breakGlass: boolean,
  ) {
    super(`Frozen until ${freeze.endLabel} (${freeze.reason})`);
  }
}

/** The person asked to break glass, but is not among the env's `breakGlass`. */
export class NotBreakGlassError extends PolicyRefusalError {
  override name = 'NotBreakGlassError';
  override readonly result = 'not-break-glass';
  constructor(
    readonly freeze: FreezeWindow,
    readonly policy: EnvPolicy,
  ) {
    super(`Not a break-glass member of ${policy.key}`);
  }
}

/** The person approved this revision into an env this one is separated from (four eyes). */
export class SeparatedError extends PolicyRefusalError {
  override name = 'SeparatedError';
  override readonly result = 'separated';
  constructor(readonly record: ApprovalRecord) {
    super(`Approver of this revision in ${record.request.policy?.separateFrom.join(', ')}`);
  }
}

/**
 * A release with nobody behind it (a releasing pipeline's) under rules that count people: approvers
 * named, more than one approval, or four eyes across envs. People approve these in Slack.
 */
export class NeedsPeopleError extends PolicyRefusalError {
  override name = 'NeedsPeopleError';
  override readonly result = 'needs-people';
  constructor(readonly policy: EnvPolicy) {
    super(`${policy.key} is approved by people, not by a releasing pipeline`);
  }
}

/** The person's approve is counted already; it needs someone else's. */
export class AlreadyVotedError extends PolicyRefusalError {
  override name = 'AlreadyVotedError';
  override readonly result = 'already-voted';
  constructor(readonly record: ApprovalRecord) {
    super(`Already voted on ${record.request.id}`);
  }
}

/**
 * The approval stands under other rules than the click assumed (its message was drawn before the
 * rules changed, or carries none): the click is decided again under the approval's own.
 */
export class RulesMismatchError extends GreenlightError {
  override name = 'RulesMismatchError';
  constructor(readonly record: ApprovalRecord) {
    super(`Approval ${record.request.id} stands under ${record.request.policy?.key ?? 'no rules'}`);
  }
}
