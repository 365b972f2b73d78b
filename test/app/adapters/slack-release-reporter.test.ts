import type { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RESPONSE_TIMEOUT_MS, SlackReleaseReporter } from '../../../app/adapters/slack-release-reporter.ts';
import { fixedClock, memoryLog } from '../../support/fakes.ts';

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/**
 * AbortSignal.timeout runs on Node's internal timers, which fake timers do not reach: this one
 * aborts the same way (a TimeoutError) on the faked setTimeout, so the test waits no real seconds.
 */
function fakeTimeoutSignals(): number[] {
  const deadlines: number[] = [];
  vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms: number) => {
    deadlines.push(ms);
    const controller = new AbortController();
    setTimeout(
      () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      ms,
    );
    return controller.signal;
  });
  return deadlines;
}

describe('SlackReleaseReporter.respond', () => {
  it('gives up on a response_url that does not answer, instead of holding the worker', async () => {
    // Prepare: a response_url whose server never answers, until the request is aborted.
    vi.useFakeTimers();
    const deadlines = fakeTimeoutSignals();
    const posts: RequestInit[] = [];
    const hangs = ((_url: string, init: RequestInit) => {
      posts.push(init);
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }) as unknown as typeof fetch;
    const reporter = new SlackReleaseReporter({} as WebClient, fixedClock('2025-03-04T10:00:00Z'), memoryLog(), hangs);

    // Act
    const answered = reporter.respond('https://hooks.slack.com/commands/T0/1/x', 'Board');
    vi.advanceTimersByTime(RESPONSE_TIMEOUT_MS - 1);
    const abortedBeforeDeadline = posts[0]?.signal?.aborted;
    vi.advanceTimersByTime(1);

    // Assess: the post carries a 5 s deadline, and it ends the post when it passes, not before.
    expect(RESPONSE_TIMEOUT_MS).toBe(5_000);
    expect(deadlines).toEqual([RESPONSE_TIMEOUT_MS]);
    expect(posts[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(abortedBeforeDeadline).toBe(false);
    expect(posts[0]?.signal?.aborted).toBe(true);
    await expect(answered).rejects.toThrow(/timed out|aborted/i);
  });
});
