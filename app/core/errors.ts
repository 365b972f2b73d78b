import type { ApprovalRecord, ApprovalRequest, Outcome } from './approval.ts';

/** Base of every error the core raises; listeners and handlers branch on these, never on SDK errors. */
export class GreenlightError extends Error {
  override name = 'GreenlightError';
}

/** No approval with that id: unknown, or a tampered button value. */
export class ApprovalNotFoundError extends GreenlightError {
  override name = 'ApprovalNotFoundError';
  constructor(readonly approvalId: string) {
    super(`No approval ${approvalId}`);
  }
}

/** Someone else decided (or is deciding) first. Carries the record as it stands now. */
export class AlreadyDecidedError extends GreenlightError {
  override name = 'AlreadyDecidedError';
  constructor(readonly record: ApprovalRecord) {
    super(`Approval ${record.request.id} is already ${record.status}`);
  }
}

/** CodePipeline no longer accepts this token: answered already, or expired. */
export class ApprovalExpiredError extends GreenlightError {
  override name = 'ApprovalExpiredError';
  constructor(request: Pick<ApprovalRequest, 'pipelineName' | 'stageName' | 'actionName'>, options?: ErrorOptions) {
    super(`The approval ${request.pipelineName}/${request.stageName}/${request.actionName} has expired`, options);
  }
}

/** The approval was completed outside Greenlight (console, CLI). */
export class DecidedElsewhereError extends GreenlightError {
  override name = 'DecidedElsewhereError';
}

/** The pipeline, stage or action no longer exists. */
export class PipelineGoneError extends GreenlightError {
  override name = 'PipelineGoneError';
  constructor(
    readonly what: 'pipeline' | 'stage' | 'action',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A passing failure (throttling, timeouts, 5xx) that outlasted the SDK's retries: try again later. */
export class TransientError extends GreenlightError {
  override name = 'TransientError';
}

/**
 * The claim of a decision whose holder died, kept because CodePipeline could not say where the
 * approval stands: the holder's PutApprovalResult may have landed. The reminder schedule queues it to
 * be settled again while it is `deciding`, so whoever settles it need not retry.
 */
export class ClaimKeptError extends TransientError {
  override name = 'ClaimKeptError';
}

/**
 * STS did not answer in time for the role Greenlight assumes in another account: nothing reached
 * CodePipeline there, and trying again soon may work. Its message is for people and names the account.
 */
export class AccountUnreachableError extends TransientError {
  override name = 'AccountUnreachableError';
  constructor(
    readonly account: string,
    readonly region: string,
    options?: ErrorOptions,
  ) {
    super(
      `Greenlight could not sign in to AWS account ${account} (${region}) just now: AWS STS did not answer. Nothing was changed: please try again in a moment.`,
      options,
    );
  }
}

/** Input that cannot be acted on: bad JSON, wrong types, unknown product. Safe to show the message. */
export class InvalidInputError extends GreenlightError {
  override name = 'InvalidInputError';
}

/** Greenlight's AWS role may not act on this pipeline (it is outside the configured products). */
export class NotPermittedError extends GreenlightError {
  override name = 'NotPermittedError';
}

/**
 * Greenlight could not assume its role in the account a pipeline lives in (the role is missing, does
 * not trust Greenlight, or wants another external id). Its message names the account and is safe to
 * show: nothing was changed there.
 */
export class RoleNotAssumedError extends NotPermittedError {
  override name = 'RoleNotAssumedError';
  constructor(
    readonly account: string,
    readonly region: string,
    options?: ErrorOptions,
  ) {
    super(
      `Greenlight could not sign in to AWS account ${account} (${region}): its role there could not be assumed. Nothing was changed. Ask your Greenlight admins to check the GreenlightAccess stack in account ${account}.`,
      options,
    );
  }
}

/** A service asked us to come back later (Slack's 429 with Retry-After). */
export class BusyError extends TransientError {
  override name = 'BusyError';
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A message was sent but its answer never came (a timeout, a dropped connection, a 5xx): Slack may
 * have shown it. Never post it again blindly; look for it first.
 */
export class MaybeDeliveredError extends TransientError {
  override name = 'MaybeDeliveredError';
}

/**
 * Another delivery of the same notification holds the post lease and may be posting right now.
 * Not a success: the delivery fails, so it is retried after the holder has posted or died.
 */
export class PostInProgressError extends TransientError {
  override name = 'PostInProgressError';
  constructor(
    readonly approvalId: string,
    readonly heldUntil: Date | undefined,
  ) {
    super(`Another delivery is posting approval ${approvalId}; retry after ${heldUntil?.toISOString() ?? 'its lease'}`);
  }
}

/**
 * CodePipeline took the decision, but Greenlight could not record it yet. Not "nothing changed":
 * the person is told their decision reached CodePipeline; the record catches up on the next attempt.
 */
export class OutcomeNotRecordedError extends GreenlightError {
  override name = 'OutcomeNotRecordedError';
  constructor(
    readonly outcome: Outcome,
    options?: ErrorOptions,
  ) {
    super(`The outcome ${outcome.kind} reached CodePipeline but was not recorded`, options);
  }
}

/** A request whose notification could not be read fully is decided in the console, not from Slack. */
export class UnreadableRequestError extends InvalidInputError {
  override name = 'UnreadableRequestError';
}

/**
 * The plain-words answer when another account could not be reached (its role refused, or STS not
 * answering): its message names the account. Undefined for any other error.
 */
export const accountProblem = (error: unknown): string | undefined =>
  error instanceof RoleNotAssumedError || error instanceof AccountUnreachableError ? error.message : undefined;
