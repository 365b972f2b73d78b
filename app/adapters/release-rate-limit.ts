import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';

/**
 * Client-side request rates for the release fan-out, so a release of hundreds of pipelines does not
 * trip CodePipeline's throttling (its limits are not published: the default stays under the
 * smallest we have seen). Each operation has its own token bucket, as CodePipeline throttles per
 * operation; every attempt takes a token, retries included.
 */
export interface RequestRates {
  /** Calls per second per operation. */
  perSecond: number;
  /** Calls allowed at once after a quiet spell. Keep it well under CodePipeline's own burst. */
  burst: number;
  /** Operation → calls per second, where one operation needs its own rate. */
  perOperation?: Readonly<Record<string, number>>;
}

export const DEFAULT_REQUEST_RATES: Readonly<RequestRates> = Object.freeze({ perSecond: 8, burst: 8 });

/**
 * A token bucket that queues callers in order: each `take` reserves the next free slot (the
 * balance may go negative) and waits until it comes, so concurrent callers never wake up together.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError('A rate needs perSecond > 0 and burst >= 1');
    this.#tokens = burst;
    this.#at = now();
  }

  /** Reserves a slot; returns how many milliseconds until it comes (0: now). */
  reserve(): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.perSecond) * 1000;
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** The service throttled us anyway: give up the saved-up burst, so the next calls come at the steady rate. */
  penalize(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
  }
}

/** One bucket per operation, shared by every client it is applied to. */
export class OperationRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  /** Throttling answers seen, by operation: what got past the limiter. */
  readonly throttled = new Map<string, number>();

  constructor(
    readonly rates: RequestRates = DEFAULT_REQUEST_RATES,
    private readonly now?: () => number,
  ) {}

  take(operation: string): Promise<void> {
    return this.#bucket(operation).take();
  }

  penalize(operation: string): void {
    this.throttled.set(operation, (this.throttled.get(operation) ?? 0) + 1);
    this.#bucket(operation).penalize();
  }

  #bucket(operation: string): TokenBucket {
    let bucket = this.#buckets.get(operation);
    if (!bucket) {
      const perSecond = this.rates.perOperation?.[operation] ?? this.rates.perSecond;
      bucket = new TokenBucket(perSecond, Math.min(this.rates.burst, Math.max(1, perSecond)), this.now);
      this.#buckets.set(operation, bucket);
    }
    return bucket;
  }
}

type Middleware = Parameters<CodePipelineClient['middlewareStack']['addRelativeTo']>[0];
type Handler = (args: unknown) => Promise<unknown>;

/**
 * Puts the limiter in the client's middleware stack inside the retry loop: each attempt waits for a
 * token, and a throttled attempt drains the bucket's burst before the SDK backs off and retries.
 */
export function limitRequestRate(client: CodePipelineClient, limiter: OperationRateLimiter): CodePipelineClient {
  const middleware =
    (next: Handler, context: { commandName?: string }): Handler =>
    async (args) => {
      const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
      await limiter.take(operation);
      try {
        return await next(args);
      } catch (error) {
        if (isThrottling(error)) limiter.penalize(operation);
        throw error;
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

function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = error as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  return (
    error.name === 'ThrottlingException' ||
    meta.$retryable?.throttling === true ||
    meta.$metadata?.httpStatusCode === 429
  );
}
