import type { MessageRef } from './approval.ts';
import type { Digest } from './digest.ts';
import type { ProductBoard } from './product-board.ts';
import type { ItemResult, ReleasePlan, ReleaseRun } from './release.ts';
import type { StartedApproval } from './unnotified-approval.ts';

/*
 * Ports of releases: the release store and queue, what releases show people, and the releasing
 * pipeline's job results. The rules are those of ports.ts: single-item conditional writes, core
 * errors only.
 */

/**
 * Releases and their per-pipeline results. Every change is a single-item conditional write: a plan
 * is saved once, confirmed once, each pipeline is worked on by one lease holder and gets one result.
 */
export interface ReleaseStore {
  /** Saves a new plan (state `planned`); `exists` when a release with this id was saved before. */
  savePlan(plan: ReleasePlan): Promise<'created' | 'exists'>;
  /** The release with its plan and every result so far (strongly consistent). */
  get(releaseId: string): Promise<ReleaseRun | undefined>;
  /** `planned` → `confirmed`. `already` when it was confirmed (or finished) before. */
  confirm(releaseId: string, at: Date): Promise<'confirmed' | 'already' | 'not-found'>;
  /**
   * Takes the right to post the progress message until `until`. `false` when a message is recorded
   * already, or another delivery's lease has not expired. `firstTakenAt`: when any delivery first
   * took it (now, unless an earlier holder's post may have landed without being recorded).
   */
  leaseMessage(releaseId: string, until: Date, now: Date): Promise<{ firstTakenAt: Date } | false>;
  /** Records the progress message; `false` when another one was recorded first. */
  recordMessage(releaseId: string, message: MessageRef): Promise<boolean>;
  /**
   * Takes the right to work on one pipeline of the release (by its itemKey, core/release.ts) until
   * `until`. `false` when it has a result already, or another holder's lease has not expired.
   */
  leaseItem(releaseId: string, key: string, owner: string, until: Date, now: Date): Promise<boolean>;
  /** Gives a lease back without a result (the holder stops early); only the holder can. */
  giveItemBack(releaseId: string, key: string, owner: string): Promise<void>;
  /** Records the pipeline's result; only the lease holder can, and only once. */
  finishItem(releaseId: string, key: string, owner: string, result: ItemResult): Promise<boolean>;
  /** `confirmed` → `finished`; `false` when it was finished before. */
  finishRun(releaseId: string, at: Date): Promise<boolean>;
}

/** The progress message of a release (Slack). */
export interface ReleaseProgress {
  post(run: ReleaseRun): Promise<MessageRef>;
  /** The release's progress message posted since `since`, when Slack shows one (found by its metadata). */
  find(run: ReleaseRun, since: Date): Promise<MessageRef | undefined>;
  update(run: ReleaseRun, message: MessageRef): Promise<void>;
}

/** What releases show people beside the progress message (Slack). Rendering is the adapter's business. */
export interface ReleaseReporter extends ReleaseProgress {
  /** Fills in the confirmation modal. `viewHash`: refused when the modal changed since that hash. */
  showPlan(viewId: string, plan: ReleasePlan, viewHash?: string): Promise<void>;
  showProblem(viewId: string, heading: string, text: string, viewHash?: string): Promise<void>;
  /** A short answer to the person who typed the command (through its response_url). */
  respond(responseUrl: string, text: string): Promise<void>;
  /** A product's board, to the person who asked for it. */
  showBoard(responseUrl: string, board: ProductBoard): Promise<void>;
  /** The digest preview, with links to the approval messages. */
  showDigest(responseUrl: string, digest: Digest): Promise<void>;
}

/** Reports a CodePipeline job's result (the releasing pipeline's Lambda invoke action). */
export interface JobResults {
  succeeded(
    jobId: string,
    result: { summary: string; percentComplete?: number; continuationToken?: string },
  ): Promise<void>;
  failed(jobId: string, failure: { type: 'JobFailed' | 'ConfigurationError'; message: string }): Promise<void>;
}

/** Jobs for the worker (releases, and approvals to settle): they carry ids and names, never tokens. */
export type ReleaseJob =
  | { kind: 'release'; releaseId: string }
  | {
      kind: 'plan';
      releaseId: string;
      product: string;
      env: string;
      /** The loading modal to fill in. */
      viewId: string;
      /** The loading modal's hash: a repeated job cannot draw over what came after it. */
      viewHash?: string;
      requestedBy: { id: string; name: string; teamId?: string };
    }
  | { kind: 'board'; product: string; responseUrl: string }
  /** The digest preview (`/release digest`) of an installation too big to read within the command's 3 s. */
  | { kind: 'digest'; responseUrl: string; userId: string }
  /** Bring an approval's record and message in line with CodePipeline (core/settle-approval.ts). */
  | { kind: 'settle'; approvalId: string }
  /**
   * Post an approval its notification stored but never posted (Slack down longer than the
   * notification's retries): core/pipeline-events.ts `postUnposted`, core/request-approval.ts.
   */
  | { kind: 'post'; approvalId: string }
  /**
   * Post an approval CodePipeline started whose notification never came, from the pipeline's state
   * (core/unnotified-approval.ts); queued when its start event comes, run a grace period later.
   */
  | ({ kind: 'unnotified' } & StartedApproval);

/** At-least-once delivery of jobs to the release worker (SQS, or in-process locally). */
export interface ReleaseQueue {
  /** `delaySeconds` (at most 900) holds the job back before its first delivery. */
  send(job: ReleaseJob, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * A delivered job that failed comes back after `seconds` rather than the queue's visibility
   * timeout (SQS ChangeMessageVisibility on its receipt handle). Unset: the queue's own timing.
   */
  retryIn?(receiptHandle: string, seconds: number): Promise<void>;
}

/** Waits; injected so tests do not. */
export type Sleep = (ms: number) => Promise<void>;
