import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';

/**
 * Client-side request rates for CodePipeline, learnt from the service itself. CodePipeline publishes
 * no per-operation rate limits (its quotas page lists resources only), throttles each operation on
 * its own, and the limit an account gets depends on what else calls it. So no fixed rate is right:
 * too low wastes the limit, too high is throttled. The limiter starts from a guess, and for each
 * operation (per account and region) learns the rate the service allows from its throttling:
 *
 * - Until the first throttle, the rate doubles every second the limiter holds callers back (as TCP's
 *   slow start does): a service that limits nothing is soon not waited for at all.
 * - A throttled call means the service's bucket was empty when it arrived. Between two such moments
 *   every call that got through was paid for by the service's refill, so the calls that got through
 *   between them, divided by the time between them, are its rate (give or take one call over the
 *   span). After a throttle the rate is set just under that measurement (but cut by 30 % at most
 *   when nothing was throttled in between: callers may just have made fewer calls); without a
 *   measurement yet (the first throttle), it is cut by 30 %.
 * - Afterwards it probes upward slowly, so it finds a limit that grows, and the next throttle
 *   measures again.
 *
 * A throttled call is sent again by the limiter itself, first in line at the lowered rate, rather
 * than after the SDK's randomised backoff (which leaves the service idle and spends the client's
 * retry quota): throttling costs a request, not time.
 */
export interface RequestRates {
  /** Calls per second per operation to start from, until the service shows what it allows. */
  perSecond: number;
  /** Calls let through at once at the start: the service's own burst absorbs them. */
  burst: number;
  /** Operation → starting calls per second, where one operation needs its own. */
  perOperation?: Readonly<Record<string, number>>;
}

/** A guess to start from; the limiter learns the real limit within a couple of seconds of calls. */
export const DEFAULT_REQUEST_RATES: Readonly<RequestRates> = Object.freeze({ perSecond: 8, burst: 8 });

/** How the limiter learns. Exported for tests; the defaults need no tuning. */
export interface Learning {
  /** Before the first throttle, the rate doubles each of these while callers wait. */
  doublingMs: number;
  /** The first throttle, with nothing measured yet: the rate is multiplied by this. */
  firstCut: number;
  /** After a throttle the rate is set this fraction under the rate measured. */
  margin: number;
  /** After the first throttle the rate grows by this fraction per second while callers wait. */
  probePerSecond: number;
  /** Shortest time between two throttles to measure over (the count is ±1 call over the span). */
  measureSpanMs: number;
  /** Throttles older than this are not measured from, so a limit that drops is followed. */
  memoryMs: number;
  /** A throttled call is sent again by the limiter this many times before the SDK's retries see it. */
  resends: number;
  minPerSecond: number;
  maxPerSecond: number;
}

export const LEARNING: Readonly<Learning> = Object.freeze({
  doublingMs: 1_000,
  firstCut: 0.7,
  margin: 0.02,
  probePerSecond: 0.02,
  measureSpanMs: 1_000,
  memoryMs: 5_000,
  resends: 3,
  minPerSecond: 0.2,
  maxPerSecond: 1_000,
});

/** What the service limits by: each operation, and (once Greenlight calls several) account and region. */
export interface LimitKey {
  operation: string;
  region?: string;
  account?: string;
}

/** A bare operation name is that operation with no account or region named. */
const keyOf = (key: LimitKey | string): string =>
  typeof key === 'string' ? `//${key}` : [key.account ?? '', key.region ?? '', key.operation].join('/');

const operationOf = (key: LimitKey | string): string => (typeof key === 'string' ? key : key.operation);

/**
 * One key's rate: a token bucket whose rate is learnt. Times are milliseconds of `now`'s clock;
 * nothing here waits, so it is tested with a clock of numbers.
 */
export class AdaptiveRate {
  #perSecond: number;
  #credit: number;
  #at: number;
  /** Callers were waiting since `#at`: only then is the rate known to be what holds them back. */
  #holding = false;
  #learnt = false;
  #decidedAt = Number.NEGATIVE_INFINITY;
  /** Send times of throttled calls and of calls that got through, for `memoryMs`. */
  #throttled: number[] = [];
  #through: number[] = [];

  constructor(
    start: { perSecond: number; burst: number },
    at: number,
    readonly learning: Readonly<Learning> = LEARNING,
  ) {
    if (!(start.perSecond > 0) || !(start.burst >= 1))
      throw new RangeError('A rate needs perSecond > 0 and burst >= 1');
    this.#perSecond = clamp(start.perSecond, learning);
    this.#credit = start.burst;
    this.#at = at;
  }

  /** Calls per second it lets through now. */
  get perSecond(): number {
    return this.#perSecond;
  }

  /** A throttle has been seen: the rate is measured, not guessed. */
  get learnt(): boolean {
    return this.#learnt;
  }

  /** Takes a slot if one is free now (0); otherwise how many milliseconds until one is. */
  reserve(now: number): number {
    this.#advance(now);
    // A timer set for the slot may fire a hair early in floating point: that is the slot.
    if (this.#credit >= 1 - 1e-9) {
      this.#credit -= 1;
      return 0;
    }
    return ((1 - this.#credit) / this.#perSecond) * 1000;
  }

  /** Whether callers are waiting from now on (the rate grows only while they are). */
  hold(now: number, holding: boolean): void {
    this.#advance(now);
    this.#holding = holding;
  }

  /** A call sent at `sentAt` got through (answered, whatever the answer). */
  passed(sentAt: number): void {
    this.#through.push(sentAt);
    if (this.#through.length > 4 * this.learning.maxPerSecond) this.#forget(sentAt);
  }

  /** A call sent at `sentAt` was throttled: the service's bucket was empty then. */
  throttled(sentAt: number, now: number): void {
    this.#advance(now);
    // Calls already let through spent what was saved: the next one waits a full slot.
    this.#credit = Math.min(this.#credit, 0);
    this.#forget(now);
    const { margin, measureSpanMs } = this.learning;
    // One decision per span: the throttles right after one answer for the rate before it.
    if (now - this.#decidedAt >= measureSpanMs) {
      const since = this.#throttled.find((at) => sentAt - at >= measureSpanMs);
      if (since !== undefined) {
        const through = this.#through.filter((at) => at > since && at <= sentAt).length;
        const measured = through / ((sentAt - since) / 1000);
        // Fewer calls get through than the service allows when fewer are made. Throttles within the
        // span show that callers wanted more than got through; without them, no cut is deeper than the first.
        const crowded = this.#throttled.some((at) => at > since && at < sentAt);
        const floor = crowded ? 0 : this.#perSecond * this.learning.firstCut;
        this.#perSecond = clamp(Math.max(floor, Math.min(this.#perSecond, measured) * (1 - margin)), this.learning);
      } else {
        this.#perSecond = clamp(this.#perSecond * (this.#learnt ? 1 - margin : this.learning.firstCut), this.learning);
      }
      this.#decidedAt = now;
      this.#learnt = true;
    }
    this.#throttled.push(sentAt);
  }

  /** Refills the bucket up to `now`, and grows the rate for the time callers waited. */
  #advance(now: number): void {
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#credit = Math.min(Math.max(1, this.#perSecond), this.#credit + (elapsed / 1000) * this.#perSecond);
    if (!this.#holding || elapsed === 0) return;
    const grown = this.#learnt
      ? this.#perSecond * (1 + this.learning.probePerSecond * (elapsed / 1000))
      : this.#perSecond * 2 ** (elapsed / this.learning.doublingMs);
    this.#perSecond = clamp(grown, this.learning);
  }

  #forget(now: number): void {
    const horizon = now - this.learning.memoryMs;
    this.#throttled = this.#throttled.filter((at) => at >= horizon);
    this.#through = this.#through.filter((at) => at >= horizon);
  }
}

const clamp = (perSecond: number, { minPerSecond, maxPerSecond }: Learning) =>
  Math.min(maxPerSecond, Math.max(minPerSecond, perSecond));

/** Timers of the limiter's queue (tests pass virtual ones). */
export interface Timers {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Callers of one key, let through in order at its rate; a call sent again goes first. */
class Pacer {
  readonly #waiting: Array<(sentAt: number) => void> = [];
  #timer: unknown;

  constructor(
    readonly rate: AdaptiveRate,
    private readonly timers: Timers,
  ) {}

  take(again: boolean): Promise<number> {
    return new Promise((resolve) => {
      if (again) this.#waiting.unshift(resolve);
      else this.#waiting.push(resolve);
      this.pump();
    });
  }

  /** Lets through whoever may go now, and sets a timer for the next; call again when the rate changes. */
  pump(): void {
    if (this.#timer !== undefined) this.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#waiting.length > 0) {
      const now = this.timers.now();
      const wait = this.rate.reserve(now);
      if (wait > 0) {
        this.rate.hold(now, true);
        this.#timer = this.timers.setTimeout(() => {
          this.#timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.#waiting.shift()?.(now);
    }
    this.rate.hold(this.timers.now(), false);
  }
}

/** One learnt rate per key (operation, account, region), shared by every client it is applied to. */
export class OperationRateLimiter {
  readonly #pacers = new Map<string, Pacer>();
  /** Throttling answers seen, by operation: what the service refused. */
  readonly throttles = new Map<string, number>();

  constructor(
    readonly rates: RequestRates = DEFAULT_REQUEST_RATES,
    private readonly timers: Timers = realTimers,
    readonly learning: Readonly<Learning> = LEARNING,
  ) {}

  /** Waits for the key's next slot; resolves with the time the call may be sent (the timers' clock). */
  take(key: LimitKey | string, options: { again?: boolean } = {}): Promise<number> {
    return this.#pacer(key).take(options.again ?? false);
  }

  /** The service answered a call sent at `sentAt` (anything but a throttle). */
  passed(key: LimitKey | string, sentAt: number): void {
    this.#pacer(key).rate.passed(sentAt);
  }

  /** The service throttled a call sent at `sentAt`. */
  throttled(key: LimitKey | string, sentAt: number): void {
    const operation = operationOf(key);
    this.throttles.set(operation, (this.throttles.get(operation) ?? 0) + 1);
    const pacer = this.#pacer(key);
    pacer.rate.throttled(sentAt, this.timers.now());
    pacer.pump();
  }

  /** The rate the key is let through at now (undefined before its first call). */
  perSecond(key: LimitKey | string): number | undefined {
    return this.#pacers.get(keyOf(key))?.rate.perSecond;
  }

  #pacer(key: LimitKey | string): Pacer {
    const id = keyOf(key);
    let pacer = this.#pacers.get(id);
    if (!pacer) {
      const perSecond = this.rates.perOperation?.[operationOf(key)] ?? this.rates.perSecond;
      const start = { perSecond, burst: Math.max(1, Math.min(this.rates.burst, Math.floor(perSecond))) };
      pacer = new Pacer(new AdaptiveRate(start, this.timers.now(), this.learning), this.timers);
      this.#pacers.set(id, pacer);
    }
    return pacer;
  }
}

type Middleware = Parameters<CodePipelineClient['middlewareStack']['addRelativeTo']>[0];
type Handler = (args: unknown) => Promise<unknown>;

/**
 * Puts the limiter in the client's middleware stack inside the SDK's retry loop: each attempt waits
 * for its operation's slot, and a throttled attempt is sent again by the limiter (up to
 * `learning.resends` times) before the SDK's own retries see the throttle. `scope` names the account
 * and region the client calls, where the limiter serves several.
 */
export function limitRequestRate(
  client: CodePipelineClient,
  limiter: OperationRateLimiter,
  scope: Omit<LimitKey, 'operation'> = {},
): CodePipelineClient {
  const middleware =
    (next: Handler, context: { commandName?: string }): Handler =>
    async (args) => {
      const key: LimitKey = { ...scope, operation: (context.commandName ?? 'unknown').replace(/Command$/, '') };
      for (let sent = 0; ; sent++) {
        const sentAt = await limiter.take(key, { again: sent > 0 });
        try {
          const output = await next(args);
          limiter.passed(key, sentAt);
          return output;
        } catch (error) {
          if (!isThrottling(error)) {
            // An answer (a refusal, a 5xx) still passed the service's limit; a timeout tells nothing.
            if (answered(error)) limiter.passed(key, sentAt);
            throw error;
          }
          limiter.throttled(key, sentAt);
          if (sent >= limiter.learning.resends) throw error;
        }
      }
    };
  // The stack's type is a union over its steps; this middleware is the same at any step.
  client.middlewareStack.addRelativeTo(middleware as unknown as Middleware, {
    name: 'greenlightRequestRate',
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    override: true,
  });
  return client;
}

type ServiceError = Error & { $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };

function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = error as ServiceError;
  return (
    error.name === 'ThrottlingException' ||
    meta.$retryable?.throttling === true ||
    meta.$metadata?.httpStatusCode === 429
  );
}

const answered = (error: unknown): boolean =>
  error instanceof Error && (error as ServiceError).$metadata?.httpStatusCode !== undefined;
