import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { ids } from '../../app/views/ids.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import codeBuildEvent from '../fixtures/sns-codebuild-state-change-event.json' with { type: 'json' };
import helloEvent from '../fixtures/sns-test-message-event.json' with { type: 'json' };
import {
  APPROVALS_CHANNEL,
  approvalAwaitingDelivery,
  approvalMessages,
  auditOf,
  buttonsOf,
  messageApprovalId,
  pipelineWaitsForApproval,
  postsFor as postsOf,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
});

/** The approval messages Greenlight posted for one approval. */
const messagesFor = (approvalId: string) => approvalMessages(world).filter((m) => messageApprovalId(m) === approvalId);

const postsFor = (approvalId: string) => postsOf(world, approvalId);

const auditTypes = async (approvalId: string) => (await auditOf(approvalId)).map((event) => event.type);

const record = (event: SNSEvent | { Records: unknown[] }): SNSEventRecord => event.Records[0] as SNSEventRecord;

describe('approval notifications (SNS → handlers/approval-notification)', () => {
  it('posts one message when SNS delivers the same notification three times in a row', async () => {
    // Prepare
    const approval = await approvalAwaitingDelivery(world, 'repeat-sequential');
    // Act
    for (let delivery = 1; delivery <= 3; delivery++) await world.handlers.approvalNotification(approval.event);
    // Assess
    expect(messagesFor(approval.approvalId)).toHaveLength(1);
    expect(postsFor(approval.approvalId)).toHaveLength(1);
    expect(await auditTypes(approval.approvalId)).toEqual(['requested', 'posted']);
  });

  it('posts one message when SNS delivers the same notification three times at once', async () => {
    // Prepare
    const approval = await approvalAwaitingDelivery(world, 'repeat-concurrent');
    // Act
    const deliveries = await Promise.allSettled(
      [1, 2, 3].map(() => world.handlers.approvalNotification(approval.event)),
    );
    // Assess
    expect(deliveries.map((d) => d.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(messagesFor(approval.approvalId)).toHaveLength(1);
    expect(postsFor(approval.approvalId)).toHaveLength(1);
    expect(await auditTypes(approval.approvalId)).toEqual(['requested', 'posted']);
  });

  it('posts nothing more when a notification it already handled arrives again, in a row or at once', async () => {
    // Prepare: CodePipeline published, SNS delivered, the message is out
    const approval = await pipelineWaitsForApproval(world, 'shop-cart');
    // Act
    for (let delivery = 1; delivery <= 3; delivery++) await world.handlers.approvalNotification(approval.event);
    await Promise.all([1, 2, 3].map(() => world.handlers.approvalNotification(approval.event)));
    // Assess
    expect(messagesFor(approval.approvalId)).toHaveLength(1);
    expect(postsFor(approval.approvalId)).toHaveLength(1);
    expect(await auditTypes(approval.approvalId)).toEqual(['requested', 'posted']);
  });

  it('lets the retry post exactly one message when posting failed after the approval was stored', async () => {
    // Prepare: Slack refuses the post (the bot was removed from the channel)
    const approval = await approvalAwaitingDelivery(world, 'post-fails-once');
    const bot = world.slack.workspace.bot.userId;
    world.slack.workspace.leave(APPROVALS_CHANNEL, bot);
    await expect(world.handlers.approvalNotification(approval.event)).rejects.toThrow(/not_in_channel/);
    expect(await auditTypes(approval.approvalId)).toEqual(['requested']);
    world.slack.workspace.join(APPROVALS_CHANNEL, bot);
    // Act: SNS (Lambda's async invocation) delivers the same event again
    await world.handlers.approvalNotification(approval.event);
    // Assess
    expect(messagesFor(approval.approvalId)).toHaveLength(1);
    expect(postsFor(approval.approvalId).map((call) => call.response.ok)).toEqual([false, true]);
    expect(await auditTypes(approval.approvalId)).toEqual(['requested', 'posted']);
  });

  it("posts the approval once when Slack fails the first post and Lambda's own retry delivers again", async () => {
    // Prepare: the first chat.postMessage fails; the bot is back in the channel right after it
    const { workspace } = world.slack;
    const bot = workspace.bot.userId;
    world.emulator.createPipeline(pipelineDefinition('shop-payments', { region: world.emulator.region }));
    const stopWatching = world.slack.onChange((event) => {
      if (event.type === 'api_called' && event.call.response.error === 'not_in_channel') {
        workspace.join(APPROVALS_CHANNEL, bot);
      }
    });
    workspace.leave(APPROVALS_CHANNEL, bot);
    try {
      // Act: CodePipeline publishes; the handler fails once and the world invokes it again, as Lambda does
      world.emulator.commit('shop-payments', 'a1b2c3');
      await world.settle();
    } finally {
      stopWatching();
      workspace.join(APPROVALS_CHANNEL, bot);
    }
    // Assess
    const [pending] = world.emulator.pendingApprovals({ pipelineName: 'shop-payments' });
    const approvalId = approvalIdFor(pending?.token ?? '');
    expect(postsFor(approvalId).map((call) => call.response.ok)).toEqual([false, true]);
    expect(messagesFor(approvalId)).toHaveLength(1);
    expect(await auditTypes(approvalId)).toEqual(['requested', 'posted']);
  });

  it('skips records that are not CodePipeline approvals and still posts the real one in the same event', async () => {
    // Prepare
    const approval = await approvalAwaitingDelivery(world, 'mixed-batch');
    const real = record(approval.event);
    const withoutToken = JSON.parse(real.Sns.Message) as { approval: Record<string, unknown> };
    delete withoutToken.approval.token;
    const junk = (message: string, messageId: string): SNSEventRecord => ({
      ...real,
      Sns: { ...real.Sns, MessageId: messageId, Subject: 'Not an approval', Message: message },
    });
    const event: SNSEvent = {
      Records: [
        record(helloEvent),
        record(codeBuildEvent),
        junk('{"approval": garbage', 'garbage-1'),
        junk('', 'empty-1'),
        junk(JSON.stringify(withoutToken), 'missing-token-1'),
        real,
      ],
    };
    const before = approvalMessages(world).length;
    // Act
    await world.handlers.approvalNotification(event);
    // Assess
    expect(approvalMessages(world)).toHaveLength(before + 1);
    expect(messagesFor(approval.approvalId)).toHaveLength(1);
    expect(await auditTypes(approval.approvalId)).toEqual(['requested', 'posted']);
  });

  it('accepts an event of nothing but junk without throwing, so SNS does not retry it', async () => {
    // Prepare
    const before = world.slack.calls('chat.postMessage').length;
    // Act
    const handled = world.handlers.approvalNotification({
      Records: [record(helloEvent), record(codeBuildEvent)],
    } as SNSEvent);
    // Assess
    await expect(handled).resolves.toBeUndefined();
    expect(world.slack.calls('chat.postMessage')).toHaveLength(before);
  });

  it('shows what to decide: pipeline › stage, region, what to review, links, expiry and the two buttons', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-catalog');
    const notification = JSON.parse(record(approval.event).Sns.Message) as { approval: { expires: string } };
    const expiresEpoch = Math.floor(new Date(notification.approval.expires).getTime() / 1000);
    // Act
    const { message } = approval;
    // Assess
    expect(message.text).toBe('Approval needed: shop-catalog › StagingDEV');
    expect(message.metadata).toEqual({
      event_type: ids.metadataEvent,
      event_payload: { approval_id: approval.approvalId },
    });
    const blocks = message.blocks ?? [];
    expect(blocks[0]).toMatchObject({
      type: 'header',
      text: { text: expect.stringContaining('shop-catalog › StagingDEV') },
    });
    const everything = JSON.stringify(blocks);
    expect(everything).toContain('*Region*\\nus-east-2');
    expect(everything).toContain('*Stage › action*\\nStagingDEV › Approve');
    expect(everything).toContain('Test shop-catalog in DEV, then approve or reject within seven days.');
    expect(everything).toContain('<https://shop-catalog.dev.example.com|What to review>');
    expect(everything).toContain(
      '<https://console.aws.amazon.com/codesuite/codepipeline/pipelines/shop-catalog/view?region=us-east-2|shop-catalog>',
    );
    expect(everything).toMatch(/\|Open in the AWS console>/);
    expect(everything).toContain(`<!date^${expiresEpoch}^`);
    expect(everything).toContain('(in 7 days)');
    expect(buttonsOf(message)).toEqual([ids.approve, ids.reject]);
    const actions = blocks.find((block) => block.type === 'actions') as { elements: Record<string, unknown>[] };
    const [approve, reject] = actions.elements;
    expect(approve).toMatchObject({
      action_id: ids.approve,
      style: 'primary',
      text: { text: 'Approve' },
      confirm: {
        title: { text: 'Approve this change?' },
        confirm: { text: 'Approve' },
        deny: { text: 'Cancel' },
      },
    });
    expect(reject).toMatchObject({ action_id: ids.reject, style: 'danger' });
    expect(JSON.parse(String(approve?.value))).toEqual({ approvalId: approval.approvalId });
  });

  it('never sends the approval token to Slack in any call', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'blog-web');
    // Act
    const calls = JSON.stringify(world.slack.calls());
    // Assess
    expect(calls).toContain(approval.approvalId);
    for (const event of world.emulator.notifications()) {
      const { token } = (JSON.parse(record(event).Sns.Message) as { approval: { token: string } }).approval;
      expect(calls).not.toContain(token);
    }
  });
});

describe('approval notifications with text no UTF-8 can carry', () => {
  it('posts one message when a field holds a lone surrogate (JSON can escape one), instead of failing', async () => {
    // Prepare: a real notification whose stage name and review text carry `\ud800`
    const approval = await approvalAwaitingDelivery(world, 'surrogate-app');
    const real = record(approval.event);
    const message = JSON.parse(real.Sns.Message) as { approval: Record<string, unknown> };
    message.approval.stageName = 'Staging\ud800QA';
    message.approval.customData = 'Review \ud800 the change';
    const event = { Records: [{ ...real, Sns: { ...real.Sns, Message: JSON.stringify(message) } }] } as SNSEvent;
    // Act
    const handled = world.handlers.approvalNotification(event);
    // Assess
    await expect(handled).resolves.toBeUndefined();
    expect(messagesFor(approval.approvalId)).toHaveLength(1);
    expect(JSON.stringify(messagesFor(approval.approvalId)[0])).not.toMatch(/\\ud800/i);
  });
});
