import type {
  ApprovalId,
  ApprovalRecord,
  ApprovalRequest,
  Claim,
  Decision,
  MessageRef,
  Outcome,
  Verdict,
  Vote,
} from './approval.ts';
import type { AuditEvent } from './audit.ts';
import type { ExecutionSummary, PipelineSnapshot } from './pipeline.ts';
import type { ReleaseRun } from './release.ts';

/**
 * Pending approvals and their audit trail. Every state change is a single-item conditional write,
 * so concurrent and repeated calls settle on exactly one winner.
 */
export interface ApprovalStore {
  /** Stores a new request; `exists` when this token was seen before (a repeated notification). */
  saveRequest(request: ApprovalRequest): Promise<'created' | 'exists'>;
  get(id: ApprovalId): Promise<ApprovalRecord | undefined>;
  /**
   * Takes the right to post the Slack message, as `holder`, until `until`. Refused while the
   * message is posted or another holder's lease runs; a lease whose holder died (expired) is taken
   * over, and the same holder asking again (its answer was lost) gets it again.
   */
  takePostLease(id: ApprovalId, holder: string, until: Date, now: Date): Promise<PostLease>;
  /** Gives the lease back after a failed post, so a retry may post at once; only its holder can. */
  givePostLeaseBack(id: ApprovalId, holder: string): Promise<void>;
  /** Records where the message is; the first recorded message stands and is returned. */
  recordMessage(id: ApprovalId, message: MessageRef): Promise<MessageRef>;
  /**
   * First decision wins: fails with AlreadyDecidedError (carrying the current record) for the
   * others. A claim whose `until` has passed (at `now`) may be taken over. The same write adds the
   * claim to the approval's `attempts`: its `decision-attempted` event exists once the claim does.
   */
  claim(id: ApprovalId, claim: Claim, now: Date, rules?: RulesGuard): Promise<ApprovalRecord>;
  /**
   * Counts one person's approve towards the policy's `required`, once per person, while the
   * approval is open (pending, or held by a claim that ran out) and stands under `rules`. `counted`
   * is false when the person's vote was counted before (a double click, or a retry that landed).
   * Throws AlreadyDecidedError, SeparatedError or RulesMismatchError as `claim` does.
   */
  vote(id: ApprovalId, vote: Vote, rules: RulesGuard, now: Date): Promise<{ record: ApprovalRecord; counted: boolean }>;
  /** Moves a live claim's end to `until` while its holder still works; false when it is not the holder's any more. */
  renewClaim(id: ApprovalId, claimId: string, until: Date): Promise<boolean>;
  /** Gives a claim back (the decision could not be applied); only the claim's holder can. */
  giveClaimBack(id: ApprovalId, claimId: string): Promise<void>;
  /**
   * Closes the approval; the first outcome stands and is returned. The write is also the
   * approval's `outcome` audit event (per approval and per day), so the two cannot disagree.
   */
  recordOutcome(id: ApprovalId, outcome: Outcome): Promise<ApprovalRecord>;
  /** Pending and deciding approvals, oldest first. */
  listOpen(): Promise<ApprovalRecord[]>;
  /** Files an audit event as an item of its own; appending the same event id again is a no-op. */
  append(event: AuditEvent): Promise<void>;
  /** The approval's whole trail: the events filed for it and those it carries (attempts, outcome), in time order. */
  eventsForApproval(id: ApprovalId): Promise<AuditEvent[]>;
  /** Events of one UTC day (`YYYY-MM-DD`), in time order, outcomes included. */
  eventsForDay(day: string): Promise<AuditEvent[]>;
}

/**
 * What a click assumed of the approval's rules, checked in the same conditional write: `key` the
 * rules it was decided under (undefined: the approval has none), and the decider must not be among
 * those the approval is separated from. A mismatch throws RulesMismatchError or SeparatedError.
 */
export interface RulesGuard {
  key: string | undefined;
}

/** Slack user groups (`usergroups.users.list`), remembered briefly. */
export interface GroupDirectory {
  /** Which of `groups` the person is in; undefined when Slack could not say in time (counts as none). */
  groupsOf(userId: string, groups: readonly string[]): Promise<ReadonlySet<string> | undefined>;
}

/** The answer to takePostLease. `firstTakenAt`: when any delivery first took it (a post may have landed since). */
export type PostLease =
  | { taken: true; firstTakenAt: Date; takenBefore: boolean }
  | { taken: false; message: MessageRef }
  | { taken: false; heldUntil: Date };

/** An approval as CodePipeline's own state shows it. */
export type ApprovalInPipeline =
  | { state: 'pending' }
  | { state: 'decided'; verdict: Verdict; summary?: string; updatedBy?: string; at?: Date }
  /** It ran out of time: CodePipeline failed it without anyone's decision. */
  | { state: 'expired' }
  /** The action shows a later approval (or an earlier one's result): this one has ended, no telling how. */
  | { state: 'replaced' }
  /** CodePipeline did not answer in time. */
  | { state: 'unknown' };

/** CodePipeline, as far as approvals go. Throws the core's errors, never the SDK's. */
export interface PipelineGateway {
  putApprovalResult(request: ApprovalRequest, decision: Decision, summary: string): Promise<void>;
  /**
   * Where the approval stands in CodePipeline after an unclear or refused answer, from its own
   * state (GetPipelineState): still `pending`; `decided` with the verdict, the summary it keeps,
   * who changed it (`lastUpdatedBy`) and when; `replaced` when the action shows another approval
   * since; `unknown` when CodePipeline cannot tell now. Never throws.
   */
  approvalResult(request: ApprovalRequest): Promise<ApprovalInPipeline>;
}

/** Redraws an approval's message to show the record as it stands (all a decision needs). */
export interface MessageRedraw {
  refresh(record: ApprovalRecord): Promise<void>;
}

/** Shows approvals to people (Slack). Rendering is the adapter's business. */
export interface ApprovalNotifier extends MessageRedraw {
  /**
   * Posts the approval message once; returns where it landed. Throws MaybeDeliveredError when
   * Slack may have shown it without answering: it is never posted twice blindly.
   */
  announce(record: ApprovalRecord): Promise<MessageRef>;
  /** The approval's message posted at or after `since`, found by its metadata; undefined when there is none. */
  find(record: ApprovalRecord, since: Date): Promise<MessageRef | undefined>;
  /** Removes a message that should not have been posted (a second one for the same approval). */
  withdraw(message: MessageRef): Promise<void>;
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
    name:
      | 'ApprovalPosted'
      | 'ApprovalDecided'
      | 'DecisionRefused'
      | 'ClaimGivenBack'
      | 'RoleNotAssumed'
      | 'ApprovalNotPosted'
      | 'ApprovalNotNotified'
      | 'SlackActionFailed'
      | 'SlackRequestRefused',
    dimensions?: Record<string, string>,
  ): void;
}

/**
 * Where a change goes after Greenlight approved it (core/journey.ts), and which thread posts went
 * out. Single-item conditional writes: the first link of an execution to an approval stands, and
 * each post is taken by one holder (a lease, as the approval post's), so a step is posted once
 * however often and in whatever order its events come.
 */
export interface JourneyStore {
  /** Links the execution to the approval that waits in it; the first link of that approval's stage stands. */
  linkJourney(link: JourneyLink): Promise<void>;
  /** The links of one execution (one per approval it met), in no particular order. */
  journeysOf(pipelineName: string, executionId: string): Promise<JourneyLink[]>;
  /**
   * Takes the right to post `post` (one step of a journey, or an approval's reminder) as `holder`
   * until `until`. False when it was posted, or another holder's lease still runs at `now`.
   */
  takePost(post: ThreadPost, holder: string, until: Date, now: Date): Promise<boolean>;
  /** The post went out: nobody takes it again. */
  postDone(post: ThreadPost, holder: string, at: Date): Promise<void>;
  /** The post failed: a retry may take it at once. Only its holder can give it back. */
  givePostBack(post: ThreadPost, holder: string): Promise<void>;
}

/** One execution of a pipeline passing one approval (a Greenlight one or not: its record says). */
export interface JourneyLink {
  pipelineName: string;
  executionId: string;
  /** The approval's stage; its approval id; the pipeline's stages in order, as they were then. */
  stageName: string;
  approvalId: ApprovalId;
  stages: string[];
  region: string;
}

/** What one post in a thread is, for its idempotency marker. */
export type ThreadPost =
  | { kind: 'journey'; pipelineName: string; executionId: string; stageName: string; step: string }
  | { kind: 'reminder'; approvalId: ApprovalId };

/** Posts into an approval message's thread (Slack). Rendering is the adapter's business. */
export interface ThreadNotifier {
  journeyStep(record: ApprovalRecord, step: JourneyStepPost): Promise<void>;
  reminder(record: ApprovalRecord, reminder: ReminderPost): Promise<void>;
}

/** One step of the change's journey after an approval, as a post shows it. */
export type JourneyStepPost = (
  | { kind: 'started' | 'succeeded'; stageName: string }
  | { kind: 'failed'; stageName: string; actionName?: string; summary?: string; mention: string[]; link: string }
  | { kind: 'production'; approvedAt: Date; elapsedMs: number }
) & { pipelineName: string; executionId: string };

/** A reminder that an approval still waits: when it expires, and whom it calls (user and group ids, or `here`). */
export interface ReminderPost {
  expiresAt: Date;
  at: Date;
  mention: string[] | 'here';
}

/** A pipeline's latest step after a release approved it: one line on the release's progress message. */
export interface ReleaseStep {
  /**
   * `waiting`: the stage's own approval waits, so what the stage deploys before it is done.
   * `stopped`: that approval was rejected or expired, so the change goes no further in this execution.
   */
  kind: 'started' | 'waiting' | 'succeeded' | 'failed' | 'stopped' | 'production';
  stageName?: string;
  /** Its place in the journey (later steps rank higher): an older step never replaces a newer one. */
  rank: number;
  at: Date;
}

/** Each released pipeline's latest step, kept with the release (core/journey-release.ts). */
export interface ReleaseStepStore {
  /**
   * Records the pipeline's step (by the release's itemKey, core/release.ts) if it ranks above the one
   * recorded; answers the release's steps version after the write, or undefined when the step was
   * not newer (nothing changed).
   */
  recordReleaseStep(releaseId: string, key: string, step: ReleaseStep): Promise<number | undefined>;
  /** Every released pipeline's latest step (by itemKey), the version they stand at (0: none yet), and when they were last drawn. */
  releaseSteps(releaseId: string): Promise<{ steps: Record<string, ReleaseStep>; version: number; drawnAt?: Date }>;
  /** Takes the right to draw the release's progress message until `until`; false while another holder has it. */
  takeReleaseDraw(releaseId: string, holder: string, until: Date, now: Date): Promise<boolean>;
  /** Gives the right to draw back, noting when the holder last drew (if it did); only its holder can. */
  giveReleaseDrawBack(releaseId: string, holder: string, drawnAt?: Date): Promise<void>;
}

/** Shows a release's progress message with its pipelines' latest steps (Slack). */
export interface ReleaseStepView {
  showSteps(run: ReleaseRun, steps: Readonly<Record<string, ReleaseStep>>): Promise<void>;
}
