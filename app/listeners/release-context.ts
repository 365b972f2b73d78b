import type { ApprovalId } from '../core/approval.ts';
import type { Digest } from '../core/digest.ts';
import type { ApprovalStore, Clock, IdSource, Log, PipelineReader } from '../core/ports.ts';
import type { ProductOverride } from '../core/products.ts';
import type { ReleaseQueue, ReleaseStore } from '../core/release-ports.ts';
import type { ListenerDeps } from './context.ts';

/**
 * What the release listeners (`/release`, its modal, `/release digest`) need, and nothing more:
 * core ports and plain functions. The composition root's Deps satisfies it; tests can too.
 */
export interface ReleaseListenerDeps extends Pick<ListenerDeps, 'displayName'> {
  config: { products: Record<string, ProductOverride>; approvalsChannel: string };
  /** Approvals and their audit trail (the digest reads it; refused input is recorded there). */
  store: ApprovalStore;
  clock: Clock;
  ids: IdSource;
  log: Log;
  /** Reads pipelines for the digest preview. */
  reader: PipelineReader;
  releases: {
    store: ReleaseStore;
    queue: ReleaseQueue;
    /** Reads pipelines for plans and boards. */
    reader: PipelineReader;
    region: string;
    approvalIdFor: (token: string) => ApprovalId;
    settings: { inlinePipelines: number };
    reporter: { showDigest(responseUrl: string, digest: Digest): Promise<void> };
  };
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
} as const;

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
