export type Log = (message: string, details?: Record<string, unknown>) => void;

/**
 * The emulator's notion of now: an injected or real clock plus whatever `advance` added, so tests
 * can let seven days pass (approval expiry) without waiting for them.
 */
export class EmulatorClock {
  #offsetMs = 0;

  constructor(private readonly base: () => Date = () => new Date()) {}

  now(): Date {
    return new Date(this.base().getTime() + this.#offsetMs);
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advanceClock needs a non-negative number of ms, got ${ms}`);
    this.#offsetMs += ms;
  }
}

/**
 * Background work the emulator owes (actions finishing, notifications being delivered), counted so
 * `settle()` can wait for quiescence instead of tests sleeping for a guessed while.
 */
export class WorkTracker {
  #pending = 0;
  #closed = false;
  readonly #cancels = new Set<() => void>();
  #idleWaiters: Array<() => void> = [];

  constructor(private readonly log: Log) {}

  /** Runs `task` after `delayMs` real milliseconds (0: on the next turn of the event loop). */
  later(delayMs: number, task: () => void): void {
    if (this.#closed) return;
    this.#pending += 1;
    const run = () => {
      this.#cancels.delete(cancel);
      try {
        if (!this.#closed) task();
      } catch (error) {
        this.log('codepipeline emulator: background step failed', { error });
      } finally {
        this.#finish();
      }
    };
    let cancel: () => void;
    if (delayMs > 0) {
      const timeout = setTimeout(run, delayMs);
      cancel = () => clearTimeout(timeout);
    } else {
      const immediate = setImmediate(run);
      cancel = () => clearImmediate(immediate);
    }
    this.#cancels.add(cancel);
  }

  /** Counts an in-flight promise (e.g. a notification callback) as pending work; never rejects. */
  track(work: () => Promise<unknown>, onError: (error: unknown) => void): void {
    if (this.#closed) return;
    this.#pending += 1;
    Promise.resolve()
      .then(work)
      .catch(onError)
      .finally(() => this.#finish());
  }

  /** Resolves once nothing is pending; work started by work is waited for too. */
  async settle(): Promise<void> {
    while (this.#pending > 0 && !this.#closed) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  close(): void {
    this.#closed = true;
    for (const cancel of this.#cancels) cancel();
    this.#cancels.clear();
    this.#pending = 0;
    this.#wakeIdle();
  }

  #finish(): void {
    this.#pending -= 1;
    if (this.#pending === 0) this.#wakeIdle();
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
