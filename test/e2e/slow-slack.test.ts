import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
