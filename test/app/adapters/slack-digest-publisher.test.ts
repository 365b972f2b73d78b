import { afterEach, describe, expect, it } from 'vitest';
import { permalinksOf, SlackDigestPublisher } from '../../../app/adapters/slack-digest-publisher.ts';
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
  decidedSince: new Date(NOW.getTime() - 24 * 60 * 60 * 1000),
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
    const client = webClient(sim, { rejectRateLimitedCalls: true });
    const publisher = new SlackDigestPublisher(client, client, 'C0DIGEST', memoryLog(), {
      rateLimitWaitMs: 60_000,
      sleep: async (ms) => {
        waits.push(ms);
        time.advance(ms);
      },
    });
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

  it('posts one top message when Slack takes it but answers after the client gave up: it finds that one instead of posting again', async () => {
    // Prepare: Slack shows the digest at once but answers a second after the client's timeout
    sim = await startSlackSimulator({ botToken, signingSecret });
    const poster = webClient(sim, { timeout: 300, rejectRateLimitedCalls: true });
    const publisher = new SlackDigestPublisher(webClient(sim), poster, 'C0DIGEST', memoryLog(), {
      rateLimitWaitMs: 0,
    });
    sim.faults.holdAnswers('chat.postMessage', 1_300, 1);
    const recorded: MessageRef[] = [];
    const today = digest(Array.from({ length: 30 }, (_, i) => waiting(i)));

    // Act
    const top = await publisher.publish(today, async (message) => {
      recorded.push(message);
    });

    // Assess: one top message, and it is the one recorded
    const tops = sim.messages('C0DIGEST').filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts);
    expect(tops).toHaveLength(1);
    expect(top.ts).toBe(tops[0]?.ts);
    expect(recorded).toEqual([top]);
  });

  it('finishes the thread of a digest an earlier run posted without an answer, instead of posting it again', async () => {
    // Prepare: a first run's post landed, but the run died before learning where
    sim = await startSlackSimulator({ botToken, signingSecret });
    const client = webClient(sim);
    const today = digest(Array.from({ length: 30 }, (_, i) => waiting(i)));
    const earlier = await client.chat.postMessage({
      channel: 'C0DIGEST',
      text: 'Daily digest',
      metadata: { event_type: 'greenlight_digest', event_payload: { day: today.day } },
    });

    // Act: the retry
    const retry = new SlackDigestPublisher(client, client, 'C0DIGEST', memoryLog(), { rateLimitWaitMs: 0 });
    const top = await retry.publish(today, async () => {});

    // Assess
    const tops = sim.messages('C0DIGEST').filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts);
    expect(tops.map((m) => m.ts)).toEqual([earlier.ts]);
    expect(top.ts).toBe(earlier.ts);
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
    const publisher = new SlackDigestPublisher(client, client, 'C0DIGEST', log, { rateLimitWaitMs: 0 });

    // Act
    await publisher.publish(
      digest([
        waiting(1, { channel: 'C0APPROVALS', ts: '1000000000.000001' }),
        waiting(2, { channel: 'C0APPROVALS', ts: posted.ts ?? '' }),
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

  it('asks Slack for one permalink and builds the others alike, as Slack would give them', async () => {
    // Prepare: 30 approval messages in two channels
    sim = await startSlackSimulator({ botToken, signingSecret });
    const client = webClient(sim);
    const approvals: WaitingApproval[] = [];
    for (let i = 0; i < 30; i++) {
      const channel = i % 2 === 0 ? 'C0APPROVALS' : 'C0DIGEST';
      const { ts } = await client.chat.postMessage({ channel, text: `Approval needed: shop-service-${i}` });
      approvals.push(waiting(i, { channel, ts: ts ?? '' }));
    }
    const asked = sim.calls('chat.getPermalink').length;

    // Act
    const links = await permalinksOf(client, digest(approvals), memoryLog());

    // Assess
    expect(sim.calls('chat.getPermalink').length - asked).toBe(1);
    expect(links.size).toBe(30);
    for (const { approvalId, message } of approvals) {
      const { permalink } = await client.chat.getPermalink({
        channel: message?.channel ?? '',
        message_ts: message?.ts ?? '',
      });
      expect(links.get(approvalId)).toBe(permalink);
    }
  });
});
