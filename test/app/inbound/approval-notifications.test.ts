import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import {
  CUSTOM_DATA_LIMIT,
  ingestApprovalNotifications,
  parseApprovalNotification,
  type SnsEvent,
} from '../../../app/inbound/approval-notifications.ts';
import sample from '../../fixtures/codepipeline-approval-notification.json' with { type: 'json' };
import approvalEvent from '../../fixtures/sns-approval-event.json' with { type: 'json' };
import codeBuildEvent from '../../fixtures/sns-codebuild-state-change-event.json' with { type: 'json' };
import helloEvent from '../../fixtures/sns-test-message-event.json' with { type: 'json' };
import { counterIds, FakeNotifier, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

const SAMPLE_TOKEN = '1a2b3c4d-573f-4ea7-a67e-0123456789ab';
const receivedAt = new Date('2016-06-30T20:22:11Z');

type Notification = { region: string; consoleLink: string; approval: Record<string, unknown> };

/** The docs sample with some of it changed: `edit` gets a deep copy to change. */
function notification(edit: (json: Notification) => void) {
  const json = structuredClone(sample);
  edit(json);
  return JSON.stringify(json);
}

describe('parseApprovalNotification', () => {
  it('reads the notification CodePipeline publishes (AWS docs sample)', () => {
    // Act
    const parsed = parseApprovalNotification(JSON.stringify(sample), receivedAt);
    // Assess
    expect(parsed).toEqual({
      ok: true,
      ignored: [],
      request: {
        id: approvalIdFor(SAMPLE_TOKEN),
        pipelineName: 'MyFirstPipeline',
        stageName: 'MyApprovalStage',
        actionName: 'MyApprovalAction',
        region: 'us-east-2',
        token: SAMPLE_TOKEN,
        expiresAt: new Date('2016-07-07T20:22:00.000Z'),
        consoleLink: 'https://console.aws.amazon.com/codepipeline/home?region=us-east-2#/view/MyFirstPipeline',
        reviewLink: `https://console.aws.amazon.com/codepipeline/home?region=us-east-2#/view/MyFirstPipeline/MyApprovalStage/MyApprovalAction/approve/${SAMPLE_TOKEN}`,
        externalEntityLink: 'http://example.com',
        customData: 'Review the latest changes and approve or reject within seven days.',
        receivedAt,
      },
    });
  });

  it('reads the message exactly as it arrives in an SNS event', () => {
    // Act
    const parsed = parseApprovalNotification(approvalEvent.Records[0]?.Sns.Message ?? '', receivedAt);
    // Assess
    expect(parsed.ok && parsed.request.token).toBe(SAMPLE_TOKEN);
  });

  it('keeps a real token (a lowercase UUID) as it is', () => {
    // Prepare
    const token = 'f47ac10b-58cc-4372-a567-0e02b2c3d479';
    // Act
    const parsed = parseApprovalNotification(
      notification((json) => {
        json.approval.token = token;
      }),
      receivedAt,
    );
    // Assess
    expect(parsed.ok && parsed.request.token).toBe(token);
    expect(parsed.ok && parsed.request.id).toBe(approvalIdFor(token));
  });

  it('reads the minute-precision expiry as that minute in UTC, and takes seconds should AWS add them', () => {
    // Act
    const minutes = parseApprovalNotification(
      notification((json) => {
        json.approval.expires = '2025-03-11T09:30Z';
      }),
      receivedAt,
    );
    const seconds = parseApprovalNotification(
      notification((json) => {
        json.approval.expires = '2025-03-11T09:30:15.250Z';
      }),
      receivedAt,
    );
    // Assess
    expect(minutes.ok && minutes.request.expiresAt.toISOString()).toBe('2025-03-11T09:30:00.000Z');
    expect(seconds.ok && seconds.request.expiresAt.toISOString()).toBe('2025-03-11T09:30:15.250Z');
  });

  it.each([
    ['absent', undefined],
    ['null, as CodePipeline sends when the action has none', null],
    ['empty', ''],
  ])('reads an approval whose optional link, custom data and review link are %s', (_how, value) => {
    // Act
    const parsed = parseApprovalNotification(
      notification((json) => {
        for (const key of ['externalEntityLink', 'customData', 'approvalReviewLink']) {
          if (value === undefined) delete json.approval[key];
          else json.approval[key] = value;
        }
      }),
      receivedAt,
    );
    // Assess
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request).not.toHaveProperty('externalEntityLink');
    expect(parsed.request).not.toHaveProperty('customData');
    expect(parsed.request).not.toHaveProperty('reviewLink');
    expect(parsed.request).not.toHaveProperty('unreadable');
    expect(parsed.request.pipelineName).toBe('MyFirstPipeline');
  });

  it('builds a console link when the notification has none, or one that is not the AWS console (phishing)', () => {
    // Act
    const missing = parseApprovalNotification(
      notification((json) => {
        (json as Record<string, unknown>).consoleLink = null;
      }),
      receivedAt,
    );
    const phishing = parseApprovalNotification(
      notification((json) => {
        json.consoleLink = 'https://console.aws.amazon.com.evil.example/codepipeline';
      }),
      receivedAt,
    );
    // Assess
    const expected =
      'https://us-east-2.console.aws.amazon.com/codesuite/codepipeline/pipelines/MyFirstPipeline/view?region=us-east-2';
    expect(missing.ok && missing.request.consoleLink).toBe(expected);
    expect(phishing.ok && phishing.request.consoleLink).toBe(expected);
    expect(phishing.ok && phishing.ignored).toEqual(['consoleLink']);
  });

  it('goes without a link to review that is not http(s), and says so', () => {
    // Act
    const parsed = parseApprovalNotification(
      notification((json) => {
        json.approval.externalEntityLink = 'javascript:alert(1)';
      }),
      receivedAt,
    );
    // Assess
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request).not.toHaveProperty('externalEntityLink');
    expect(parsed.ignored).toEqual(['approval.externalEntityLink']);
  });

  it('cuts custom data to the 1000 characters CodePipeline allows, never inside an emoji', () => {
    // Act
    const parsed = parseApprovalNotification(
      notification((json) => {
        json.approval.customData = `${'a'.repeat(998)}🚀🚀 and more`;
      }),
      receivedAt,
    );
    // Assess
    const customData = parsed.ok ? (parsed.request.customData ?? '') : '';
    expect(customData).toHaveLength(CUSTOM_DATA_LIMIT - 1);
    expect(customData.endsWith('a…')).toBe(true);
  });

  it('keeps multi-line custom data as it is', () => {
    // Act
    const parsed = parseApprovalNotification(
      notification((json) => {
        json.approval.customData = 'Release 42\n- orders API\n- cart UI';
      }),
      receivedAt,
    );
    // Assess
    expect(parsed.ok && parsed.request.customData).toBe('Release 42\n- orders API\n- cart UI');
  });

  it.each([
    ['a plain text message', () => 'Hello', 'not JSON'],
    [
      'a missing token',
      () =>
        notification((json) => {
          delete json.approval.token;
        }),
      'no approval token and pipeline name',
    ],
    [
      'a missing pipeline name',
      () =>
        notification((json) => {
          delete json.approval.pipelineName;
        }),
      'no approval token and pipeline name',
    ],
  ])('skips %s: it is no approval at all', (_what, message, problem) => {
    // Act
    const parsed = parseApprovalNotification(message(), receivedAt);
    // Assess
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toContain(problem);
    expect(parsed.problem).not.toContain(SAMPLE_TOKEN);
  });

  it.each([
    [
      'a token too long to be one',
      (json: Notification) => {
        json.approval.token = `${SAMPLE_TOKEN}-`.repeat(6);
      },
      'approval.token',
    ],
    [
      'a pipeline name CodePipeline cannot have',
      (json: Notification) => {
        json.approval.pipelineName = 'My First Pipeline';
      },
      'approval.pipelineName',
    ],
    [
      'a region that is no AWS region',
      (json: Notification) => {
        json.region = 'https://attacker.example';
      },
      'region',
    ],
    [
      'an expiry that is no time',
      (json: Notification) => {
        json.approval.expires = 'in seven days';
      },
      'approval.expires',
    ],
    [
      'no stage name',
      (json: Notification) => {
        json.approval.stageName = null;
      },
      'approval.stageName',
    ],
  ])('keeps an approval with %s, marked unreadable, so it is shown rather than lost', (_what, edit, field) => {
    // Act
    const parsed = parseApprovalNotification(notification(edit), receivedAt);
    // Assess
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request.unreadable).toEqual([field]);
    expect(JSON.stringify(parsed.request.unreadable)).not.toContain(SAMPLE_TOKEN);
  });

  it("gives an unreadable expiry CodePipeline's default of seven days from receipt", () => {
    // Act
    const parsed = parseApprovalNotification(
      notification((json) => {
        json.approval.expires = 'soon';
      }),
      receivedAt,
    );
    // Assess
    expect(parsed.ok && parsed.request.expiresAt).toEqual(new Date('2016-07-07T20:22:11Z'));
  });

  it('refuses an SNS message from another service (CodeBuild)', () => {
    // Act
    const parsed = parseApprovalNotification(codeBuildEvent.Records[0]?.Sns.Message ?? '', receivedAt);
    // Assess
    expect(parsed).toEqual({
      ok: false,
      problem: 'not a CodePipeline approval: no approval token and pipeline name',
    });
  });
});

describe('approvalIdFor', () => {
  it('gives a repeated notification the same id, and another approval another one', () => {
    // Act
    const first = approvalIdFor(SAMPLE_TOKEN);
    const again = approvalIdFor(SAMPLE_TOKEN);
    const other = approvalIdFor('f47ac10b-58cc-4372-a567-0e02b2c3d479');
    // Assess
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('does not reveal the token, and fits what approval buttons carry', () => {
    // Act
    const id = approvalIdFor(SAMPLE_TOKEN);
    // Assess
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const part of SAMPLE_TOKEN.split('-')) expect(id.toLowerCase()).not.toContain(part);
  });
});

describe('ingestApprovalNotifications', () => {
  function world() {
    const store = new MemoryApprovalStore();
    const notifier = new FakeNotifier();
    const clock = fixedClock('2016-06-30T20:22:11Z');
    const log = memoryLog();
    const sleep = async (ms: number) => {
      clock.advance(ms);
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { store, notifier, clock, log, deps: { store, notifier, clock, log, ids: counterIds('holder'), sleep } };
  }

  /** One event holding the records of the given events, in order (SNS may batch; the handler must not care). */
  const batch = (...events: SnsEvent[]): SnsEvent => ({ Records: events.flatMap((event) => event.Records) });

  /** The approval event with another token: a second, different approval. */
  const otherApproval = (token: string): SnsEvent => ({
    Records: approvalEvent.Records.map((record) => ({
      Sns: {
        ...record.Sns,
        MessageId: 'a1b2c3d4-0000-5000-8000-000000000002',
        Message: notification((json) => {
          json.approval.token = token;
          json.approval.actionName = 'ApproveIntoProd';
        }),
      },
    })),
  });

  it('posts the approval of an SNS delivery', async () => {
    // Prepare
    const { store, notifier, log, deps } = world();
    // Act
    await ingestApprovalNotifications(deps, approvalEvent);
    // Assess
    expect(notifier.announced).toHaveLength(1);
    expect(notifier.announced[0]?.request).toMatchObject({
      pipelineName: 'MyFirstPipeline',
      stageName: 'MyApprovalStage',
      receivedAt: new Date('2016-06-30T20:22:11Z'),
    });
    expect((await store.get(approvalIdFor(SAMPLE_TOKEN)))?.message).toBeDefined();
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'Approval notification handled',
        context: expect.objectContaining({ messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e', result: 'posted' }),
      }),
    );
    expect(log.lines.join('\n')).not.toContain(SAMPLE_TOKEN);
  });

  it('keeps when SNS published the notification, however late the delivery is taken in', async () => {
    // Prepare: the delivery is taken in two hours after SNS published it (a retry, a redrive)
    const { store, clock, deps } = world();
    clock.set('2016-06-30T22:22:11Z');
    // Act
    await ingestApprovalNotifications(deps, approvalEvent);
    // Assess: published at the event's Timestamp, received now
    expect((await store.get(approvalIdFor(SAMPLE_TOKEN)))?.request).toMatchObject({
      notifiedAt: new Date('2016-06-30T20:22:10.000Z'),
      receivedAt: new Date('2016-06-30T22:22:11Z'),
    });
  });

  it('goes without a publication time that is not a time, or lies in the future', async () => {
    // Prepare
    const { store, deps } = world();
    const withTimestamp = (Timestamp: string, token: string): SnsEvent => ({
      Records: otherApproval(token).Records.map((record) => ({ Sns: { ...record.Sns, Timestamp } })),
    });
    const tokens = ['0a0a0a0a-573f-4ea7-a67e-0123456789ab', '0b0b0b0b-573f-4ea7-a67e-0123456789ab'];
    // Act
    await ingestApprovalNotifications(deps, withTimestamp('yesterday', tokens[0] as string));
    await ingestApprovalNotifications(deps, withTimestamp('2016-07-01T20:22:10.000Z', tokens[1] as string));
    // Assess
    for (const token of tokens) expect((await store.get(approvalIdFor(token)))?.request.notifiedAt).toBeUndefined();
  });

  it('posts once when SNS delivers the same notification three times', async () => {
    // Prepare
    const { notifier, clock, log, deps } = world();
    // Act
    for (let i = 0; i < 3; i++) {
      await ingestApprovalNotifications(deps, approvalEvent);
      clock.advance(30_000);
    }
    // Assess
    expect(notifier.announced).toHaveLength(1);
    expect(log.lines.join('\n')).not.toContain(SAMPLE_TOKEN);
  });

  it('posts once when three deliveries of the same notification run at once', async () => {
    // Prepare
    const { notifier, log, deps } = world();
    // Act
    await Promise.all([1, 2, 3].map(() => ingestApprovalNotifications(deps, approvalEvent)));
    // Assess
    expect(notifier.announced).toHaveLength(1);
    expect(log.lines.join('\n')).not.toContain(SAMPLE_TOKEN);
  });

  it('fails the delivery when Slack fails, and its retry posts exactly one message', async () => {
    // Prepare
    const { store, notifier, clock, log, deps } = world();
    notifier.failAnnounce(1);
    // Act
    const first = ingestApprovalNotifications(deps, approvalEvent);
    // Assess
    await expect(first).rejects.toThrow('internal_error');
    expect(await store.get(approvalIdFor(SAMPLE_TOKEN))).toMatchObject({ status: 'pending' });

    // Act: Lambda retries the failed asynchronous invocation a minute later
    clock.advance(60_000);
    await ingestApprovalNotifications(deps, approvalEvent);
    // Assess
    expect(notifier.announced).toHaveLength(1);
    expect(log.entries.filter((entry) => entry.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'Could not handle an approval notification; it will be retried',
        context: expect.objectContaining({ messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
      }),
    ]);
    expect(log.lines.join('\n')).not.toContain(SAMPLE_TOKEN);
  });

  it('skips messages that are not approvals, naming them by MessageId, and handles the approval beside them', async () => {
    // Prepare
    const { notifier, log, deps } = world();
    // Act
    await ingestApprovalNotifications(deps, batch(helloEvent, codeBuildEvent, approvalEvent));
    // Assess
    expect(notifier.announced).toHaveLength(1);
    const skipped = log.entries.filter((entry) => entry.message.startsWith('Skipped an SNS message'));
    expect(skipped.map((entry) => [entry.level, entry.context?.messageId, entry.context?.problem])).toEqual([
      ['warn', 'c7d1e2f3-5a6b-5c8d-9e0f-1a2b3c4d5e6f', 'not JSON'],
      [
        'warn',
        '0e3a5f9c-2b7d-5e41-8c6a-9f1b3d5e7a20',
        'not a CodePipeline approval: no approval token and pipeline name',
      ],
    ]);
    expect(skipped[0]?.context?.subject).toBe('TestInvoke');
  });

  it.each([
    ['null', null],
    ['an event without Records', {}],
    ['Records that are not a list', { Records: 'x' }],
  ])('says plainly in the log when the event is %s, instead of failing with a TypeError', async (_what, event) => {
    // Prepare
    const { notifier, log, deps } = world();
    // Act
    const delivery = ingestApprovalNotifications(deps, event as unknown as SnsEvent);
    // Assess
    await expect(delivery).resolves.toBeUndefined();
    expect(notifier.announced).toEqual([]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'Ignored an event that is not an SNS delivery: it has no Records list',
      }),
    );
  });

  it('posts an approval whose notification is partly unreadable, with a warning and no buttons to press', async () => {
    // Prepare
    const { notifier, log, deps } = world();
    const event = {
      Records: [
        {
          Sns: {
            MessageId: 'a1b2c3d4-0000-5000-8000-000000000009',
            Message: notification((json) => {
              json.approval.stageName = 'Staging DEV (renamed)';
            }),
          },
        },
      ],
    };
    // Act
    await ingestApprovalNotifications(deps, event);
    // Assess
    expect(notifier.announced).toHaveLength(1);
    expect(notifier.announced[0]?.request.unreadable).toEqual(['approval.stageName']);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'An approval notification could not be read fully; posting what could be read',
      }),
    );
    expect(log.lines.join('\n')).not.toContain(SAMPLE_TOKEN);
  });

  it('does not fail a delivery for a message that can never be an approval', async () => {
    // Prepare
    const { notifier, deps } = world();
    // Act
    const delivery = ingestApprovalNotifications(deps, batch(helloEvent, codeBuildEvent));
    // Assess
    await expect(delivery).resolves.toBeUndefined();
    expect(notifier.announced).toEqual([]);
  });

  it('handles the other approvals first and then fails the delivery, so Lambda retries the one that failed', async () => {
    // Prepare
    const { notifier, log, deps } = world();
    const secondToken = '9b2e7c3a-4d5f-4e6a-8b7c-0d1e2f3a4b5c';
    notifier.failAnnounce(1);
    // Act
    const delivery = ingestApprovalNotifications(deps, batch(approvalEvent, helloEvent, otherApproval(secondToken)));
    // Assess
    await expect(delivery).rejects.toThrow('internal_error');
    expect(notifier.announced.map((record) => record.request.actionName)).toEqual(['ApproveIntoProd']);
    const lines = log.lines.join('\n');
    expect(lines).not.toContain(SAMPLE_TOKEN);
    expect(lines).not.toContain(secondToken);
  });

  it('reports every failed approval of a delivery when several fail', async () => {
    // Prepare
    const { notifier, deps } = world();
    notifier.failAnnounce(2);
    // Act
    const delivery = ingestApprovalNotifications(
      deps,
      batch(approvalEvent, otherApproval('9b2e7c3a-4d5f-4e6a-8b7c-0d1e2f3a4b5c')),
    );
    // Assess
    const error = await delivery.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toHaveLength(2);
  });
});
