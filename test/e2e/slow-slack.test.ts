import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TIMEOUTS } from '../../app/deps.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  approvalAwaitingDelivery,
  approvalMessages,
  auditStore,
  messageApprovalId,
  postsFor,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
});

const messagesFor = (approvalId: string) => approvalMessages(world).filter((m) => messageApprovalId(m) === approvalId);

describe('when Slack answers slowly', () => {
  it('shows one message per approval when Slack takes the post but answers after the client gave up, and tracks that one', async () => {
    // Prepare: Slack puts the message in the channel at once, but answers past the ingest path's post timeout
    const approval = await approvalAwaitingDelivery(world, 'slow-answer');
    world.slack.faults.holdAnswers('chat.postMessage', TIMEOUTS.ingest.slackPost.timeout + 1_000, 1);
    // Act
    await world.handlers.approvalNotification(approval.event);
    // Assess
    const messages = messagesFor(approval.approvalId);
    expect(messages).toHaveLength(1);
    expect((await (await auditStore()).get(approval.approvalId))?.message?.ts).toBe(messages[0]?.ts);
    // Found by its metadata, not posted again.
    expect(postsFor(world, approval.approvalId)).toHaveLength(1);
  }, 20_000);

  it('posts once the retry comes when Slack failed a post with a 5xx and showed nothing', async () => {
    // Prepare
    const approval = await approvalAwaitingDelivery(world, 'slack-5xx');
    world.slack.faults.failCalls('chat.postMessage', 503, 1);
    // Act: the first delivery fails (nothing in the channel, so nothing is found); Lambda retries it
    await expect(world.handlers.approvalNotification(approval.event)).rejects.toThrow();
    await world.handlers.approvalNotification(approval.event);
    // Assess
    const messages = messagesFor(approval.approvalId);
    expect(messages).toHaveLength(1);
    expect((await (await auditStore()).get(approval.approvalId))?.message?.ts).toBe(messages[0]?.ts);
  }, 20_000);
});

describe('when Slack is down for longer than a notification is tried', () => {
  it('posts the approval from the next schedule run once 10 minutes have passed, once, with its buttons', async () => {
    // Prepare: SNS delivers the notification, and Lambda tries it twice more, while Slack fails every post
    const approval = await approvalAwaitingDelivery(world, 'slack-down');
    world.slack.faults.failCalls('chat.postMessage', 503, 3);
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(world.handlers.approvalNotification(approval.event)).rejects.toThrow();
    expect(messagesFor(approval.approvalId)).toEqual([]);
    // Act: the reminder schedule runs a quarter of an hour later (then the worker takes the job)
    const later = new Date(Date.now() + 15 * 60_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(later);
    try {
      // The schedule's run and, 15 minutes on, the next one (EventBridge's Scheduled Event shape)
      for (const id of ['schedule-1', 'schedule-2']) {
        await world.handlers.pipelineEvents({
          version: '0',
          id,
          source: 'aws.events',
          'detail-type': 'Scheduled Event',
          account: world.emulator.accountId,
          time: later.toISOString(),
          region: world.emulator.region,
          resources: [],
          detail: {},
        });
        await world.settle();
      }
    } finally {
      vi.useRealTimers();
    }
    // Assess: one message, recorded, with the buttons; the second run found nothing to post
    const messages = messagesFor(approval.approvalId);
    expect(messages).toHaveLength(1);
    expect((await (await auditStore()).get(approval.approvalId))?.message?.ts).toBe(messages[0]?.ts);
    expect(JSON.stringify(messages[0]?.blocks)).toContain('approval.approve');
    expect(postsFor(world, approval.approvalId)).toHaveLength(1);
  }, 20_000);
});
