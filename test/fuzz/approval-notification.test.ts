/*
 * Fuzz: SNS records → handlers/approval-notification.ts (app/inbound/approval-notifications.ts).
 *
 * Its contract (docs/architecture.md, "Contracts" and "External formats"): it throws only when a
 * real approval could not be handled; a notification with an approval token and a pipeline name
 * is never dropped (exactly one message, however often it comes and however its other fields are
 * mangled); anything else is skipped. Nothing it is given decides an approval.
 *
 * Runs: FUZZ_RUNS cases per property (default 40); `npm run fuzz` runs 10000.
 * Replay a failure: the report prints its seed and path, e.g.
 *   FUZZ_SEED=123 FUZZ_PATH=4:1:0 npx vitest run test/fuzz/approval-notification.test.ts -t "<test name>"
 * Each case stands alone (fresh tokens, counts taken around the case), so a replayed case behaves
 * as it did in the run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import type { SnsEvent } from '../../app/inbound/approval-notifications.ts';
import { approvalNotification } from '../../sandbox/codepipeline/notification.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  anyJson,
  anyString,
  anyValue,
  asDelivered,
  type CapturedLogs,
  captureLogs,
  fuzz,
  isObject,
  mutated,
  timeoutFor,
  wrongValue,
} from './fuzz-support.ts';

const FILE = 'test/fuzz/approval-notification.test.ts';

let world: World;
let logs: CapturedLogs;

beforeAll(async () => {
  logs = captureLogs();
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
  logs?.restore();
});

// Inputs

const region = fc.constantFrom('us-east-2', 'eu-central-1', 'us-gov-west-1', 'cn-north-1');
const name = fc.stringMatching(/^[A-Za-z0-9.@_-]{1,30}$/);

/** A notification as CodePipeline sends it, with a fresh token. */
const wellFormed = fc
  .record({
    region,
    pipelineName: name,
    stageName: name,
    actionName: name,
    token: fc.uuid(),
    expiresAt: fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
    externalEntityLink: fc.option(fc.webUrl(), { nil: undefined }),
    customData: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
  })
  .map(
    (facts) =>
      approvalNotification({
        ...facts,
        accountId: '123456789012',
        topicArn: 'arn:aws:sns:us-east-2:123456789012:approvals',
      }) as unknown as Record<string, unknown>,
  );

const FIELDS = [
  ['region'],
  ['consoleLink'],
  ['approval'],
  ['approval', 'pipelineName'],
  ['approval', 'stageName'],
  ['approval', 'actionName'],
  ['approval', 'token'],
  ['approval', 'expires'],
  ['approval', 'externalEntityLink'],
  ['approval', 'approvalReviewLink'],
  ['approval', 'customData'],
  ['approval', 'unexpected'],
  ['unexpected'],
] as const;

/** A notification with one to three fields of the wrong type, blank, overlong, odd or missing. */
const nearValid = mutated(
  wellFormed,
  FIELDS,
  fc.oneof(
    wrongValue,
    fc.constantFrom(
      '2016-07-07T20:22Z',
      'https://console.aws.amazon.com/x',
      'javascript:alert(1)',
      'http://169.254.169.254/',
    ),
  ),
);

/** The text of an SNS message: a (mangled) notification, any JSON, or not JSON at all. */
const message = fc.oneof(
  { weight: 4, arbitrary: nearValid.map((n) => JSON.stringify(n)) },
  { weight: 1, arbitrary: wellFormed.map((n) => JSON.stringify(n)) },
  { weight: 1, arbitrary: anyJson.map((j) => JSON.stringify(j) ?? '') },
  { weight: 1, arbitrary: fc.record({ approval: anyJson }).map((j) => JSON.stringify(j)) },
  { weight: 1, arbitrary: anyString },
);

const record = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ Sns: fc.record({ MessageId: fc.uuid(), Message: message, Subject: fc.option(anyString) }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ Sns: fc.record({ MessageId: anyValue, Message: anyValue }, { requiredKeys: [] }) }),
  },
  { weight: 1, arbitrary: fc.record({ Sns: anyValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyValue },
);

/** An SNS delivery, or an event that only looks a little like one. */
const event = fc.oneof(
  { weight: 6, arbitrary: fc.record({ Records: fc.array(record, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ Records: anyValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyValue },
);

// Oracle

/** Docs: an approval is a notification with an approval token and a pipeline name. */
function approvalIn(sns: unknown): { id: string; token: string } | undefined {
  if (!isObject(sns) || typeof sns.Message !== 'string') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(sns.Message);
  } catch {
    return undefined;
  }
  const approval = isObject(json) && isObject(json.approval) ? json.approval : undefined;
  if (!approval || typeof approval.token !== 'string' || approval.token === '') return undefined;
  if (typeof approval.pipelineName !== 'string') return undefined;
  return { id: approvalIdFor(approval.token), token: approval.token };
}

const approvalsIn = (input: unknown) => {
  const records = isObject(input) && Array.isArray(input.Records) ? input.Records : [];
  return records.flatMap((r: unknown) => {
    const found = approvalIn(isObject(r) ? r.Sns : undefined);
    return found ? [found] : [];
  });
};

/** Messages Slack took for this approval, over the whole run. */
const postedFor = (approvalId: string) =>
  world.slack.calls('chat.postMessage').filter((call) => {
    const metadata = call.args.metadata as { event_payload?: { approval_id?: unknown } } | undefined;
    return call.response.ok === true && metadata?.event_payload?.approval_id === approvalId;
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Everything a delivery could change, to compare before and after it. */
const footprint = () => ({
  decisions: world.emulator.calls('PutApprovalResult').length,
  posts: world.slack.calls('chat.postMessage').length,
});

/** Hands the event to the handler as Lambda does; what it settled with. */
const deliver = (input: unknown) =>
  world.handlers.approvalNotification(asDelivered(input) as SnsEvent).then(
    () => 'resolved',
    (error: unknown) => error,
  );

describe('approval notifications, fuzzed', () => {
  const skipped = 'skips events and SNS messages that are no approval: no throw, no message, no decision';
  it(
    skipped,
    async () => {
      const noApproval = event.filter((input) => approvalsIn(input).length === 0);
      await fuzz(
        { file: FILE, test: skipped },
        fc.asyncProperty(noApproval, async (input) => {
          // Prepare
          const before = footprint();
          // Act
          const handled = await deliver(input);
          await world.settle();
          // Assess
          expect(handled).toBe('resolved');
          expect(world.slack.calls('chat.postMessage').length).toBe(before.posts);
          expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
        }),
      );
    },
    timeoutFor(50),
  );

  const posted =
    'posts exactly one message per approval however its fields are mangled, never its token, and decides nothing';
  it(
    posted,
    async () => {
      // Deliveries of one to four records, some of them repeated (SNS delivers at least once).
      const records = fc
        .array(fc.oneof({ weight: 3, arbitrary: nearValid }, { weight: 1, arbitrary: wellFormed }), {
          minLength: 1,
          maxLength: 3,
        })
        .chain((notifications) =>
          fc.shuffledSubarray([...notifications, ...notifications], { minLength: notifications.length }),
        )
        .map((notifications) => ({
          Records: notifications.map((n, i) => ({ Sns: { MessageId: `m-${i}`, Message: JSON.stringify(n) } })),
        }));
      await fuzz(
        { file: FILE, test: posted },
        fc.asyncProperty(records, async (input) => {
          // Prepare
          const approvals = approvalsIn(input);
          const before = footprint();
          const seenBefore = new Set(approvals.filter((a) => postedFor(a.id).length > 0).map((a) => a.id));
          // Act
          const handled = await deliver(input);
          await world.settle();
          // Assess: handled (in a healthy world every real approval can be) …
          expect(handled).toBe('resolved');
          // … one message per approval, ever, and none for a record that is no approval …
          for (const approval of approvals) expect(postedFor(approval.id)).toHaveLength(1);
          const fresh = new Set(approvals.map((a) => a.id).filter((id) => !seenBefore.has(id)));
          expect(world.slack.calls('chat.postMessage').length - before.posts).toBe(fresh.size);
          // … which never shows the approval token …
          for (const approval of approvals.filter((a) => UUID.test(a.token))) {
            expect(JSON.stringify(postedFor(approval.id)[0]?.args ?? {})).not.toContain(approval.token);
          }
          // … and nothing is decided.
          expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
        }),
      );
    },
    timeoutFor(200),
  );
});
