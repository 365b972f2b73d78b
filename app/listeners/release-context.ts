import type { DigestMarkers } from '../core/digest-posting.ts';
import type { ApprovalStore, Clock, IdSource, Log, PipelineReader } from '../core/ports.ts';
import type { ProductOverride } from '../core/products.ts';
import type { PlanReleaseDeps } from '../core/release-plan.ts';
import type { ReleaseQueue, ReleaseReporter, ReleaseStore } from '../core/release-ports.ts';
import type { ListenerDeps } from './context.ts';

/**
 * What the release listeners (`/release`, its modal, `/release digest`) need, and nothing more:
 * core ports and plain functions, in one flat object. app/inbound/slack.ts builds it; tests can too.
 */
export interface ReleaseListenerDeps extends Pick<ListenerDeps, 'displayName' | 'rules'>, PlanReleaseDeps {
  config: { products: Record<string, ProductOverride>; approvalsChannel: string };
  /** Approvals and their audit trail (the digest reads it; refused input is recorded there). */
  store: ApprovalStore;
  clock: Clock;
  ids: IdSource;
  log: Log;
  /** Where the latest digest's window ended: the preview lists what the next digest would. */
  digestMarkers: Pick<DigestMarkers, 'posted'>;
  /** Reads pipelines for plans, boards and the digest preview, under the rate limit. */
  reader: PipelineReader;
  releases: ReleaseStore;
  queue: ReleaseQueue;
  settings: { inlinePipelines: number };
  reporter: Pick<ReleaseReporter, 'showDigest'>;
}

/**
 * Slack waits 3 s for a command's answer, and on Lambda Bolt answers only when the listener is
 * done: reads on that path get a deadline, and what misses it goes to the release worker.
 */
export const COMMAND_DEADLINES = {
  /** One ListPipelines (a few pages): which products and pipelines there are. */
  discoveryMs: 800,
  /** Reading a handful of pipelines for a product board. */
  boardMs: 1_200,
  /** Building the digest preview of a small installation (after discovery, within Slack's 3 s). */
  digestMs: 1_800,
  /**
   * All a command does before Slack hears its answer, from the listener's start: the guard's
   * directory lookup comes before it (0.8 s at most), so the answer leaves within Slack's 3 s.
   * Work that would not fit is the release worker's.
   */
  answerMs: 2_000,
  /** Of that, kept for showing a result read inline (one Slack call: views.update, response_url). */
  showMs: 500,
} as const;

/** When a command must have answered Slack by: from the listener's start (COMMAND_DEADLINES.answerMs). */
export type AnswerBy = number;

/** The time left for inline work before a command's answer, keeping `COMMAND_DEADLINES.showMs` to show it. */
export function timeToRead(clock: Clock, answerBy: AnswerBy): number {
  return Math.max(0, answerBy - COMMAND_DEADLINES.showMs - clock().getTime());
}

/** `work`'s value if it settles within `ms`; `{ done: false }` otherwise (the work goes on, unawaited). */
export async function within<T>(ms: number, work: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
