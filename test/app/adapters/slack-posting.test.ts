import { afterEach, describe, expect, it } from 'vitest';
import { postOnce } from '../../../app/adapters/slack-posting.ts';
import { MaybeDeliveredError, TransientError } from '../../../app/core/errors.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, manualClock, signingSecret, webClient } from '../../sandbox/slack/helpers.ts';

let sim: SlackSimulator | undefined;
afterEach(() => sim?.close());

describe('postOnce', () => {
  it('waits out Slack’s rate limit only within its budget, then gives up without posting, to be retried', async () => {
    // Prepare: one message a second in a channel, and one is out already
    const time = manualClock();
    sim = await startSlackSimulator({
      botToken,
      signingSecret,
      clock: time.clock,
      rateLimit: { perSecond: 1, burst: 1 },
    });
    const client = webClient(sim, { rejectRateLimitedCalls: true });
    await postOnce(client, { channel: 'C0APPROVALS', text: 'first' }, { rateLimitWaitMs: 0 });
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      time.advance(ms);
    };
    // Act
    const refused = postOnce(client, { channel: 'C0APPROVALS', text: 'second' }, { rateLimitWaitMs: 500, sleep });
    // Assess: Retry-After (1 s) is past the budget: nothing waited for, nothing posted
    await expect(refused).rejects.toBeInstanceOf(TransientError);
    expect(waits).toEqual([]);
    expect(sim.messages('C0APPROVALS').map((m) => m.text)).toEqual(['first']);

    // Act: within a budget that allows it
    await postOnce(client, { channel: 'C0APPROVALS', text: 'third' }, { rateLimitWaitMs: 5_000, sleep });
    // Assess
    expect(waits).toEqual([1_000]);
    expect(sim.messages('C0APPROVALS').map((m) => m.text)).toEqual(['first', 'third']);
  });

  it('never repeats a post Slack may have shown: a 5xx is reported as maybe delivered', async () => {
    // Prepare
    sim = await startSlackSimulator({ botToken, signingSecret });
    sim.faults.failCalls('chat.postMessage', 503, 1);
    // Act
    const answer = postOnce(webClient(sim), { channel: 'C0APPROVALS', text: 'once' }, { rateLimitWaitMs: 0 });
    // Assess
    await expect(answer).rejects.toBeInstanceOf(MaybeDeliveredError);
    expect(sim.calls('chat.postMessage')).toHaveLength(1);
  });
});
