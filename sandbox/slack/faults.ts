/**
 * Faults a test can switch on in the simulator, to see what the app does when Slack misbehaves the
 * way it does in production: an answer that comes late after the call took effect (the client
 * times out, though the message is in the channel), a 5xx before anything happened, or a rate
 * limit (HTTP 429 with `Retry-After`) before anything happened.
 */
export interface SlackFaults {
  /** The next `times` calls of `method` take effect at once but answer only after `ms`. */
  holdAnswers(method: string, ms: number, times?: number): void;
  /** The next `times` calls of `method` fail with HTTP `status` and change nothing. */
  failCalls(method: string, status: number, times?: number): void;
  /**
   * The next `times` calls of `method` are refused as rate-limited and change nothing: HTTP 429,
   * `Retry-After: <seconds>` and `{"ok":false,"error":"ratelimited"}`, as Slack answers
   * (https://docs.slack.dev/apis/web-api/rate-limits).
   */
  rateLimitCalls(method: string, retryAfterSeconds: number, times?: number): void;
  /** Back to a well-behaved Slack. */
  clear(): void;
}

type Fault =
  | { kind: 'hold'; ms: number; left: number }
  | { kind: 'fail'; status: number; left: number }
  | { kind: 'limit'; retryAfter: number; left: number };

export class FaultPlan implements SlackFaults {
  readonly #faults = new Map<string, Fault[]>();

  holdAnswers(method: string, ms: number, times = Number.POSITIVE_INFINITY): void {
    this.#add(method, { kind: 'hold', ms, left: times });
  }

  failCalls(method: string, status: number, times = Number.POSITIVE_INFINITY): void {
    this.#add(method, { kind: 'fail', status, left: times });
  }

  rateLimitCalls(method: string, retryAfterSeconds: number, times = Number.POSITIVE_INFINITY): void {
    this.#add(method, { kind: 'limit', retryAfter: retryAfterSeconds, left: times });
  }

  clear(): void {
    this.#faults.clear();
  }

  /** The fault for this call of `method`, used up as it is taken. */
  take(method: string): { holdMs?: number; failStatus?: number; retryAfter?: number } {
    const fault = this.#faults.get(method)?.find((f) => f.left > 0);
    if (!fault) return {};
    fault.left -= 1;
    if (fault.kind === 'hold') return { holdMs: fault.ms };
    return fault.kind === 'fail' ? { failStatus: fault.status } : { retryAfter: fault.retryAfter };
  }

  #add(method: string, fault: Fault): void {
    this.#faults.set(method, [...(this.#faults.get(method) ?? []), fault]);
  }
}
