import type { ApprovalId, ApprovalRecord, MessageRef } from './approval.ts';
import { REDRAW_AGAIN_SECONDS } from './decide-approval.ts';
import type { Clock, Log, MessageRedraw } from './ports.ts';
import type { ReleaseRun } from './release.ts';
import type { ReleaseProgress, ReleaseStore, Sleep } from './release-ports.ts';

/*
 * What a release shows while it runs, apart from its rules (release-run.ts): its progress message,
 * posted once and redrawn at most every so often, and the approval messages the fan-out decides,
 * redrawn beside it. Slack allows far fewer updates than CodePipeline allows approvals, so none of
 * this may hold up or fail the fan-out: a post or redraw that fails is logged, and the release goes on.
 */

/** What showing a release's progress needs: the store records the one message, the reporter draws it. */
export interface ProgressDeps {
  releases: Pick<ReleaseStore, 'get' | 'leaseMessage' | 'recordMessage'>;
  reporter: ReleaseProgress;
  clock: Clock;
  log: Log;
}

/** How far before a lease was first taken its holder's post may be dated by Slack (clocks differ). */
const POSTED_SKEW_MS = 5_000;

/**
 * Posts the progress message unless the release has one; a release without it still runs. One
 * delivery of the job leases the post (a conditional write), so concurrent deliveries never leave a
 * second message behind: the others follow the one it records. A delivery that takes over a lease
 * someone held before looks for that holder's message first: its post may have landed unanswered.
 */
export async function ensureProgressMessage(
  deps: ProgressDeps,
  run: ReleaseRun,
  messageLeaseMs: number,
): Promise<MessageRef | undefined> {
  if (run.message) return run.message;
  try {
    const now = deps.clock();
    const lease = await deps.releases.leaseMessage(run.releaseId, new Date(now.getTime() + messageLeaseMs), now);
    if (!lease) return (await deps.releases.get(run.releaseId))?.message;
    const earlier =
      lease.firstTakenAt.getTime() < now.getTime()
        ? await deps.reporter.find(run, new Date(lease.firstTakenAt.getTime() - POSTED_SKEW_MS))
        : undefined;
    const posted = earlier ?? (await deps.reporter.post(run));
    if (await deps.releases.recordMessage(run.releaseId, posted)) return posted;
    return (await deps.releases.get(run.releaseId))?.message ?? posted;
  } catch (error) {
    deps.log.warn('Could not post the release progress message', { releaseId: run.releaseId, error });
    return undefined;
  }
}

/** At most one chat.update per interval and one at a time; `show` always draws the latest state. */
export class ThrottledProgress {
  #lastAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #message: MessageRef | undefined;

  constructor(
    private readonly deps: Pick<ProgressDeps, 'reporter' | 'clock' | 'log'>,
    message: MessageRef | undefined,
    private readonly intervalMs: number,
  ) {
    this.#message = message;
  }

  /** Draws into `message` from now on, when this run had none (another delivery posted it). */
  follow(message: MessageRef | undefined): void {
    this.#message ??= message;
  }

  changed(run: ReleaseRun): void {
    if (!this.#message || this.#inFlight) return;
    if (this.deps.clock().getTime() - this.#lastAt < this.intervalMs) return;
    this.#inFlight = this.#send(run).finally(() => {
      this.#inFlight = undefined;
    });
  }

  async flush(): Promise<void> {
    await this.#inFlight;
  }

  async show(run: ReleaseRun): Promise<void> {
    await this.flush();
    await this.#send(run);
  }

  async #send(run: ReleaseRun): Promise<void> {
    const message = this.#message;
    if (!message) return;
    this.#lastAt = this.deps.clock().getTime();
    // A copy: the run keeps changing while the update is on its way.
    const view = { ...run, results: { ...run.results } };
    try {
      await this.deps.reporter.update(view, message);
    } catch (error) {
      this.deps.log.warn('Could not update the release progress message', { releaseId: run.releaseId, error });
    }
  }
}

/**
 * Redraws service messages beside the fan-out instead of in its path: Slack's limits on chat.update
 * are far below what CodePipeline allows, and a redraw must never hold up (or fail) an approval.
 * Once the run is told to stop (its Lambda nears the timeout), redraws not yet started are dropped:
 * the messages stay as they were, and a click on one still answers with the outcome.
 */
export class BackgroundRefresh implements MessageRedraw {
  readonly #queue: ApprovalRecord[] = [];
  /** The redraws in flight, each with the approval it redraws. */
  readonly #running = new Map<Promise<void>, ApprovalId>();
  readonly #dropped: ApprovalId[] = [];
  readonly #failed: ApprovalId[] = [];

  constructor(
    private readonly notifier: MessageRedraw,
    private readonly log: Log,
    private readonly concurrency: number,
    private readonly stopped: () => boolean,
    /** A settle job redraws a message this could not (it failed, or the run stopped first). */
    private readonly settleLater?: (approvalId: ApprovalId, delaySeconds: number) => Promise<void>,
  ) {}

  async refresh(record: ApprovalRecord): Promise<void> {
    if (!record.message) return;
    this.#queue.push(record);
    this.#pump();
  }

  /** Waits for the redraws in flight, at most `budgetMs` when given. */
  async drain(sleep: Sleep, budgetMs?: number): Promise<void> {
    const all = (async () => {
      while (this.#running.size > 0) await Promise.all([...this.#running.keys()]);
    })();
    const inTime = this.#running.size === 0 ? await all.then(() => true) : await within(sleep, all, budgetMs);
    if (!inTime)
      this.log.warn('Stopped waiting for service-message redraws: the invocation is running out of time', {
        unfinished: this.#running.size + this.#queue.length,
      });
    if (this.#dropped.length > 0)
      this.log.info('Left service messages to settle jobs: the release stopped early', {
        messages: this.#dropped.length,
      });
    // What was not redrawn, in time or at all, a settle job redraws (it redraws a closed approval
    // as it stands, and is no harm for one that was redrawn after all).
    const behind = [...this.#dropped.splice(0), ...this.#failed.splice(0), ...(inTime ? [] : this.#unfinished())];
    await Promise.all(
      [...new Set(behind)].map((approvalId) =>
        this.settleLater?.(approvalId, REDRAW_AGAIN_SECONDS).catch((error: unknown) =>
          this.log.warn('Could not queue the redraw of a service message', { approvalId, error }),
        ),
      ),
    );
  }

  /** The approvals whose redraw is queued or in flight. */
  #unfinished(): ApprovalId[] {
    return [...this.#queue.map((record) => record.request.id), ...this.#running.values()];
  }

  #pump(): void {
    if (this.stopped()) {
      this.#dropped.push(...this.#queue.splice(0).map((record) => record.request.id));
      return;
    }
    while (this.#running.size < this.concurrency && this.#queue.length > 0) {
      const record = this.#queue.shift() as ApprovalRecord;
      const id = record.request.id;
      const job: Promise<void> = this.notifier
        .refresh(record)
        .catch((error: unknown) => {
          this.#failed.push(id);
          this.log.warn('Could not refresh an approval message during a release', {
            approvalId: id,
            pipeline: record.request.pipelineName,
            error,
          });
        })
        .finally(() => {
          this.#running.delete(job);
          this.#pump();
        });
      this.#running.set(job, id);
    }
  }
}

/**
 * Waits for `work` at most `budgetMs` (for ever when undefined): true when it ended in time. Work
 * not waited for goes on; what it leaves undone, a later run or a settle job does.
 */
export async function within(sleep: Sleep, work: Promise<unknown>, budgetMs: number | undefined): Promise<boolean> {
  if (budgetMs === undefined) return work.then(() => true);
  return Promise.race([work.then(() => true), sleep(Math.max(0, budgetMs)).then(() => false)]);
}
