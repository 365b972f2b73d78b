import { readdirSync, readFileSync } from 'node:fs';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { parseApprovalNotification } from '../../app/inbound/approval-notifications.ts';
import { ids } from '../../app/views/ids.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { approvalMessages, auditOf, auditStore, buttonsOf, messageApprovalId } from '../support/world-helpers.ts';

/**
 * Conformance: notifications CodePipeline really published for manual approvals, as captured in
 * public projects and the AWS docs (each fixture names its source), delivered through SNS to the
 * real handler in the loopback world. Whatever shape CodePipeline used, Greenlight must post it.
 */

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/** A published notification: the JSON CodePipeline sent, with where it was found. */
interface Fixture {
  name: string;
  source: string;
  note: string;
  /** The SNS Subject, when the source shows it. */
  subject: string | null;
  /** SNS envelope fields the source shows. */
  sns?: { MessageId?: string; TopicArn?: string; Timestamp?: string };
  message: {
    region: string;
    approval: { pipelineName: string; stageName: string; actionName: string; token: string; expires: string };
  };
}

const FIXTURES = new URL('./fixtures/', import.meta.url);

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({
    name: file.replace(/\.json$/, ''),
    ...(JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Omit<Fixture, 'name'>),
  }));

/** CodePipeline's default approval timeout: the notification goes out this long before `expires`. */
const APPROVAL_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;

/** When CodePipeline published the notification: a fresh approval, seven days before it expires. */
const publishedAt = (fixture: Fixture): Date =>
  new Date(Date.parse(fixture.message.approval.expires) - APPROVAL_TIMEOUT_MS);

/** The Lambda event SNS delivers for the notification: the JSON travels as a string in `Message`. */
function snsEvent(fixture: Fixture, at: Date): SNSEvent {
  const topicArn = fixture.sns?.TopicArn ?? `arn:aws:sns:${fixture.message.region}:123456789012:codepipeline-approvals`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:5f0c1a2b-conformance`,
        Sns: {
          Type: 'Notification',
          MessageId: fixture.sns?.MessageId ?? `conformance-${fixture.name}`,
          TopicArn: topicArn,
          ...(fixture.subject ? { Subject: fixture.subject } : {}),
          Message: JSON.stringify(fixture.message),
          Timestamp: fixture.sns?.Timestamp ?? at.toISOString(),
          SignatureVersion: '1',
          Signature: 'conformance',
          SigningCertUrl: 'https://sns.amazonaws.com/SimpleNotificationService-conformance.pem',
          UnsubscribeUrl: 'https://sns.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

let world: World;

beforeAll(async () => {
  // Every published notification expired long ago: each test sets the clock to when it was fresh.
  vi.useFakeTimers({ toFake: ['Date'] });
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

/** The approval messages Greenlight posted for one approval. */
const messagesFor = (approvalId: string) => approvalMessages(world).filter((m) => messageApprovalId(m) === approvalId);

/** The chat.postMessage calls Greenlight made for one approval, failed ones included. */
const postsFor = (approvalId: string) =>
  world.slack.calls('chat.postMessage').filter((call) => {
    const metadata = call.args.metadata as { event_payload?: { approval_id?: unknown } } | undefined;
    return metadata?.event_payload?.approval_id === approvalId;
  });

describe('published CodePipeline approval notifications (SNS → handlers/approval-notification)', () => {
  it('has one fixture per published example, each naming its source, no two sharing a token', () => {
    // Assess
    expect(fixtures.length).toBeGreaterThanOrEqual(6);
    for (const fixture of fixtures) expect(fixture.source, fixture.name).toMatch(/^https:\/\//);
    expect(new Set(fixtures.map((f) => f.message.approval.token)).size).toBe(fixtures.length);
  });

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))(
    '%s: posts exactly one message, stores the approval, and a redelivery posts nothing more',
    async (_name, fixture) => {
      // Prepare: the clock stands where CodePipeline published it
      const now = publishedAt(fixture);
      vi.setSystemTime(now);
      const { approval } = fixture.message;
      const approvalId = approvalIdFor(approval.token);
      const event = snsEvent(fixture, now);

      // Act: SNS delivers it, then delivers it again
      await world.handlers.approvalNotification(event);
      const postsAfterFirstDelivery = postsFor(approvalId).length;
      await world.handlers.approvalNotification(event);

      // Assess
      const parsed = parseApprovalNotification(JSON.stringify(fixture.message), now);
      expect(parsed.ok ? 'accepted' : parsed.problem, 'what the parser says of it').toBe('accepted');
      expect(postsAfterFirstDelivery).toBe(1);
      expect(postsFor(approvalId)).toHaveLength(1);
      const messages = messagesFor(approvalId);
      expect(messages).toHaveLength(1);
      expect(buttonsOf(messages[0] ?? {}), 'fresh, so it can be decided').toEqual([ids.approve, ids.reject]);
      const stored = await (await auditStore()).get(approvalId);
      expect(stored?.request).toMatchObject({
        pipelineName: approval.pipelineName,
        stageName: approval.stageName,
        actionName: approval.actionName,
        region: fixture.message.region,
      });
      // Both events carry the same instant (the clock stands still), so their order is not asserted.
      expect((await auditOf(approvalId)).map((e) => e.type).sort()).toEqual(['posted', 'requested']);
    },
  );
});
