import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { SlackReleaseReporter } from '../../../app/adapters/slack-release-reporter.ts';
import { fixedClock, memoryLog } from '../../support/fakes.ts';

describe('SlackReleaseReporter.respond', () => {
  it('gives up on a response_url that does not answer, instead of holding the worker', async () => {
    // Prepare: a response_url whose server never answers, until the request is aborted.
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

    // Assess: the post carries a deadline (RESPONSE_TIMEOUT_MS, 5 s), and it ends the post when it passes.
    expect(posts[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(posts[0]?.signal?.aborted).toBe(false);
    await expect(answered).rejects.toThrow(/timed out|aborted/i);
  }, 10_000);
});
