import { afterEach, describe, expect, it } from 'vitest';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, manualClock, signingSecret, webClient } from './helpers.ts';

let sim: SlackSimulator | undefined;

afterEach(() => sim?.close());

const post = (text: string, channel = 'C0APPROVALS') =>
  fetch(`${sim?.apiUrl}chat.postMessage`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${botToken}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ channel, text }).toString(),
  });

describe('chat.postMessage rate limit', () => {
  it('allows a burst of ten per channel, then answers 429 with Retry-After until the clock refills it', async () => {
    // Prepare
    const time = manualClock();
    sim = await startSlackSimulator({ botToken, signingSecret, clock: time.clock, rateLimit: true });
    // Act
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => post(`message ${i}`)));
    const over = await post('one too many');
    const otherChannel = await post('elsewhere', 'C0RELEASES');
    time.advance(1000);
    const later = await post('after a second');
    // Assess
    expect(burst.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(await over.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect(otherChannel.status).toBe(200);
    expect(later.status).toBe(200);
    expect(sim.messages('C0APPROVALS')).toHaveLength(11);
  });

  it('surfaces as slack_webapi_rate_limited_error in a WebClient that rejects rate-limited calls', async () => {
    // Prepare
    const time = manualClock();
    sim = await startSlackSimulator({
      botToken,
      signingSecret,
      clock: time.clock,
      rateLimit: { perSecond: 1, burst: 1 },
    });
    // The default WebClient would instead wait Retry-After seconds and retry (or fail as a request error).
    const client = webClient(sim, { rejectRateLimitedCalls: true });
    await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'first' });
    // Act
    const second = client.chat.postMessage({ channel: 'C0APPROVALS', text: 'second' });
    // Assess
    await expect(second).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 1 });
  });

  it('is off unless asked for', async () => {
    // Prepare
    sim = await startSlackSimulator({ botToken, signingSecret, clock: manualClock().clock });
    // Act
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => post(`message ${i}`)));
    // Assess
    expect(responses.every((response) => response.status === 200)).toBe(true);
  });
});
