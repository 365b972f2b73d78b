/*
 * Fuzz: SQS messages → handlers/release-worker.ts (app/inbound/release-jobs.ts).
 *
 * Its contract (docs/architecture.md, "Contracts", "Release jobs"): bodies are checked strictly
 * against releaseJobSchema. A body it cannot read is never thrown and never dropped silently: it is
 * reported as a batch item failure with an error line, so the queue brings it back a bounded number
 * of times and then dead-letters it (a job of another Greenlight version must not vanish). A job
 * answering somewhere that is not Slack is dropped with a warning (retrying a refusal cannot help).
 * A job that names nothing real decides nothing and posts nothing.
 *
 * Runs: FUZZ_RUNS cases per property (default 40); `npm run fuzz` runs 10000.
 * Replay a failure: the report prints its seed and path, e.g.
 *   FUZZ_SEED=123 FUZZ_PATH=4:1:0 npx vitest run test/fuzz/release-worker.test.ts -t "<test name>"
 * Each case stands alone (counts are taken around the case), so a replayed case behaves as it did
 * in the run.
 */
import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlackResponseUrl, releaseJobSchema } from '../../app/inbound/release-jobs.ts';
import { parseJson } from '../../app/parse-json.ts';
import { lambdaContext } from '../../sandbox/app/function-url-server.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { productWaitsAt } from '../support/release-world.ts';
import {
  anyJson,
  anyString,
  asDelivered,
  type CapturedLogs,
  captureLogs,
  fuzz,
  mutated,
  timeoutFor,
  wrongValue,
} from './fuzz-support.ts';

const FILE = 'test/fuzz/release-worker.test.ts';

let world: World;
let logs: CapturedLogs;

beforeAll(async () => {
  logs = captureLogs();
  world = await startWorld({ env: { RELEASE_RATE_PER_SECOND: '100' } });
  // A product with approvals waiting: a job naming it has something real to find (and must not decide it).
  await productWaitsAt(world, 'fuzz', ['api', 'web'], 'StagingDEV');
});

afterAll(async () => {
  await world?.close();
  logs?.restore();
});

// Inputs

/** The simulator's origin (the configured Slack API), where the sandbox's response URLs live; never issued. */
const slackResponseUrl = () => `${world.slack.apiUrl.replace(/\/api\/$/, '')}/actions/T0GREENLT/0/fuzz`;

const name = fc.oneof(
  fc.constantFrom('fuzz', 'shop', 'qa', 'prod', 'constructor', '__proto__'),
  fc.stringMatching(/^[A-Za-z0-9.@_-]{1,30}$/),
);
const releaseId = fc.oneof(
  fc.uuid().map((id) => `rel-${id}`),
  fc.stringMatching(/^[A-Za-z0-9_-]{6,80}$/),
);

/** Jobs of every kind, as the listeners and the release action send them, naming arbitrary things. */
const wellFormedJob = fc
  .oneof(
    fc.record({ kind: fc.constant('release'), releaseId }),
    fc.record(
      {
        kind: fc.constant('plan'),
        releaseId,
        product: name,
        env: name,
        viewId: fc.stringMatching(/^V[A-Z0-9]{1,12}$/),
        viewHash: fc.string({ maxLength: 20 }),
        requestedBy: fc.record(
          {
            id: fc.stringMatching(/^U[A-Z0-9]{1,10}$/),
            name: fc.string({ minLength: 1, maxLength: 30 }),
            teamId: fc.constant('T0GREENLT'),
          },
          { requiredKeys: ['id', 'name'] },
        ),
      },
      { requiredKeys: ['kind', 'releaseId', 'product', 'env', 'viewId', 'requestedBy'] },
    ),
    fc.record({ kind: fc.constant('board'), product: name, responseUrl: fc.constant('') }),
    fc.record({
      kind: fc.constant('digest'),
      responseUrl: fc.constant(''),
      userId: fc.stringMatching(/^U[A-Z0-9]{1,10}$/),
    }),
    fc.record({ kind: fc.constant('settle'), approvalId: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/) }),
  )
  .map((job) => ('responseUrl' in job ? { ...job, responseUrl: slackResponseUrl() } : job) as Record<string, unknown>);

const FIELDS = [
  ['kind'],
  ['releaseId'],
  ['product'],
  ['env'],
  ['viewId'],
  ['viewHash'],
  ['requestedBy'],
  ['requestedBy', 'id'],
  ['requestedBy', 'name'],
  ['responseUrl'],
  ['userId'],
  ['approvalId'],
  ['extra'],
] as const;

const URLS_NOT_SLACK = [
  'https://example.com/hook',
  'http://169.254.169.254/latest/meta-data/',
  'https://hooks.slack.com.evil.example/x',
  'http://hooks.slack.com/actions/x',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'https://user@hooks.slack.com@evil.example/',
];

/** A queue message body: a job with fields broken, a job answering somewhere that is not Slack, any JSON, any text. */
const body = fc.oneof(
  {
    weight: 4,
    arbitrary: mutated(wellFormedJob, FIELDS, fc.oneof(wrongValue, fc.constantFrom(...URLS_NOT_SLACK))).map(json),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('board', 'digest'), fc.constantFrom(...URLS_NOT_SLACK))
      .map(([kind, url]) => json({ kind, product: 'fuzz', userId: 'U0ALICE', responseUrl: url })),
  },
  { weight: 1, arbitrary: anyJson.map(json) },
  { weight: 1, arbitrary: anyString },
);

function json(value: unknown): string {
  return JSON.stringify(value) ?? '';
}

/** Docs: a release job is a body releaseJobSchema takes (answering only to Slack); everything else is poison. */
function isJob(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  const parsed = releaseJobSchema.safeParse(value);
  if (!parsed.success) return false;
  const job = parsed.data as Record<string, unknown>;
  return typeof job.responseUrl !== 'string' || isSlackResponseUrl(job.responseUrl, world.slack.apiUrl);
}

const sqsEvent = (bodies: readonly string[], messageIds: readonly string[]): SQSEvent =>
  ({
    Records: bodies.map((text, i) => ({
      messageId: messageIds[i] ?? `m-${i}`,
      receiptHandle: `fuzz-${i}`,
      body: text,
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-2:123456789012:greenlight-releases',
      awsRegion: 'us-east-2',
    })),
  }) as unknown as SQSEvent;

/** Everything a message could change, to compare before and after it. */
const footprint = () => ({
  codePipeline: world.emulator.calls().length,
  decisions: world.emulator.calls('PutApprovalResult').length,
  slack: world.slack.calls().length,
  log: logs.mark(),
});

describe('release jobs, fuzzed', () => {
  const poison =
    'fails every message it cannot read, with an error line each, and drops a job answering elsewhere than Slack: no throw, nothing read, decided or posted';
  it(
    poison,
    async () => {
      const poisonBodies = fc.array(
        body.filter((text) => !isJob(text)),
        { minLength: 1, maxLength: 3 },
      );
      await fuzz(
        { file: FILE, test: poison },
        fc.asyncProperty(
          poisonBodies,
          fc.array(fc.uuid(), { minLength: 3, maxLength: 3 }),
          async (bodies, messageIds) => {
            // Prepare
            const before = footprint();
            const ids = bodies.map((_, i) => messageIds[i] ?? `m-${i}`);
            // Readable jobs among them answer somewhere that is not Slack (isJob refused them)
            const unreadable = ids.filter((_, i) => !parseJson(releaseJobSchema, bodies[i]).ok);
            // Act
            const answer = await world.handlers
              .releaseWorker(asDelivered(sqsEvent(bodies, messageIds)), lambdaContext('release-worker'))
              .then(
                (response) => response,
                (error: unknown) => ({ thrown: String(error) }),
              );
            await world.settle();
            // Assess: answered; what it cannot read comes back (and is dead-lettered in the end) …
            expect(answer).toEqual({ batchItemFailures: unreadable.map((itemIdentifier) => ({ itemIdentifier })) });
            // … having read, decided and posted nothing; each unreadable body is an error line, each refusal a warning.
            expect(world.emulator.calls().length).toBe(before.codePipeline);
            expect(world.slack.calls().length).toBe(before.slack);
            const lines = logs.since(before.log);
            const errors = lines.filter((l) => l.level === 'ERROR');
            expect(errors.map((l) => l.message)).toEqual(
              unreadable.map(() => expect.stringMatching(/^Could not read a queue message as a release job/)),
            );
            expect(lines.filter((l) => l.level === 'WARN' && /^Dropped/.test(l.message))).toHaveLength(
              bodies.length - unreadable.length,
            );
          },
        ),
      );
    },
    timeoutFor(100),
  );

  const ghosts =
    'takes well-formed jobs naming releases, views and products that do not exist without throwing or deciding';
  it(
    ghosts,
    async () => {
      const jobs = fc.array(wellFormedJob.map(json).filter(isJob), { minLength: 1, maxLength: 2 });
      await fuzz(
        { file: FILE, test: ghosts },
        fc.asyncProperty(jobs, fc.array(fc.uuid(), { minLength: 2, maxLength: 2 }), async (bodies, messageIds) => {
          // Prepare
          const before = footprint();
          // Act
          const answer = await world.handlers
            .releaseWorker(asDelivered(sqsEvent(bodies, messageIds)), lambdaContext('release-worker'))
            .then(
              (response) => response,
              (error: unknown) => ({ thrown: String(error) }),
            );
          await world.settle();
          // Assess: answered (a job whose answer could not reach Slack may ask to be retried) …
          expect(answer).toEqual({ batchItemFailures: expect.any(Array) });
          const failed = 'batchItemFailures' in answer ? answer.batchItemFailures : [];
          for (const failure of failed) expect(messageIds).toContain(failure.itemIdentifier);
          // … and nothing decided, no message posted or changed in any channel.
          expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
          const posts = world.slack
            .calls()
            .slice(before.slack)
            .filter((c) => /^chat\.(postMessage|update|delete|postEphemeral)$/.test(c.method));
          expect(posts.map((c) => c.method)).toEqual([]);
        }),
      );
    },
    timeoutFor(300),
  );
});
