export interface RateLimit {
  /** Sustained messages per second per channel. */
  perSecond: number;
  /** Messages allowed at once before the sustained rate applies. */
  burst: number;
}

/** Slack allows "about one message per second per channel, with short bursts". */
export const defaultRateLimit: RateLimit = { perSecond: 1, burst: 10 };

/** A token bucket per key, refilled from the simulator's clock so tests can step time instead of sleeping. */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit, now: () => number) {
    this.#limit = limit;
    this.#now = now;
  }

  /** Takes one token: undefined when allowed, otherwise the whole seconds to wait (Slack's `Retry-After`). */
  take(key: string): number | undefined {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#limit.burst, at: now };
    const tokens = Math.min(this.#limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#limit.perSecond);
    if (tokens >= 1) {
      this.#buckets.set(key, { tokens: tokens - 1, at: now });
      return undefined;
    }
    this.#buckets.set(key, { tokens, at: now });
    return Math.max(1, Math.ceil((1 - tokens) / this.#limit.perSecond));
  }
}
