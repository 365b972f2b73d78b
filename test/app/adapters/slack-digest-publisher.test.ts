import { afterEach, describe, expect, it } from 'vitest';
import { SlackDigestPublisher } from '../../../app/adapters/slack-digest-publisher.ts';
import type { MessageRef } from '../../../app/core/approval.ts';
import type { Digest, WaitingApproval } from '../../../app/core/digest.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, manualClock, signingSecret, webClient } from '../../sandbox/slack/helpers.ts';
import { memoryLog } from '../../support/fakes.ts';

const NOW = new Date('2026-11-20T07:00:00Z');

let sim: SlackSimulator | undefined;
afterEach(() => sim?.close());

const waiting = (i: number, message?: MessageRef): WaitingApproval => ({
  approvalId: `approval-${i}`,
  pipelineName: `shop-service-${String(i).padStart(3, '0')}`,
  stageName: 'StagingDEV',
  actionName: 'Approve',
  requestedAt: new Date(NOW.getTime() - 3_600_000),
  expiresAt: new Date(NOW.getTime() + 6 * 86_400_000),
  expiresSoon: false,
  ...(message ? { message } : {}),
  consoleLink: `https://console.aws.amazon.com/codepipeline/home?region=us-east-2#/view/shop-service-${i}`,
});

const digest = (waitingApprovals: WaitingApproval[]): Digest => ({
  day: '2026-11-20',
  now: NOW,
  waiting: waitingApprovals,
  outdated: 0,
  decided: [],
  products: [],
  unreadable: [],
});

describe('posting the digest to Slack', () => {
  it('posts the top message, then its thread, waiting out Slack’s rate limit instead of failing', async () => {
    // Prepare: Slack allows one message a second in a channel
    const time = manualClock(NOW.getTime());
    sim = await startSlackSimulator({
      botToken,
      signingSecret,
      clock: time.clock,
      rateLimit: { perSecond: 1, burst: 1 },
    });
    const waits: number[] = [];
    const publisher = new SlackDigestPublisher(
      webClient(sim, { rejectRateLimitedCalls: true }),
      'C0DIGEST',
      memoryLog(),
      async (ms) => {
        waits.push(ms);
        time.advance(ms);
      },
    );
    const recorded: MessageRef[] = [];
    const many = digest(Array.from({ length: 1200 }, (_, i) => waiting(i)));

    // Act
    const top = await publisher.publish(many, async (message) => {
      recorded.push(message);
    });

    // Assess
    const messages = sim.messages('C0DIGEST');
    const replies = messages.filter((m) => m.thread_ts === top.ts && m.ts !== top.ts);
    expect(recorded).toEqual([top]);
    expect(replies.length).toBeGreaterThanOrEqual(2);
    expect(messages).toHaveLength(replies.length + 1);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((ms) => ms === 1000)).toBe(true);
    const everything = messages.map((m) => JSON.stringify(m.blocks)).join('\n');
    for (const i of [0, 599, 1199])
      expect(everything).toContain(`|shop-service-${String(i).padStart(3, '0')}> › StagingDEV*`);
  });

  it('links the approval messages Slack knows, and leaves out a link Slack cannot give', async () => {
    // Prepare
    sim = await startSlackSimulator({ botToken, signingSecret });
    const client = webClient(sim);
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'Approval needed: shop-cart › StagingDEV',
    });
    const log = memoryLog();
    const publisher = new SlackDigestPublisher(client, 'C0DIGEST', log);

    // Act
    await publisher.publish(
      digest([
        waiting(1, { channel: 'C0APPROVALS', ts: posted.ts ?? '' }),
        waiting(2, { channel: 'C0APPROVALS', ts: '1000000000.000001' }),
        waiting(3),
      ]),
      async () => {},
    );

    // Assess
    const text = JSON.stringify(sim.messages('C0DIGEST')[0]?.blocks);
    expect(text).toContain(`/archives/C0APPROVALS/p${posted.ts?.replace('.', '')}|approval message>`);
    expect(text.split('|approval message>')).toHaveLength(2);
    expect(log.entries.filter((e) => e.message.startsWith('No permalink'))).toHaveLength(1);
  });
});
