import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import {
  productWaitsAt,
  release,
  releaseIdOf,
  releaseMessages,
  shownIn,
  storedRelease,
  topView,
} from '../support/release-world.ts';
import { approvalMessages, shown } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const APPROVALS = SANDBOX_CHANNELS.approvals;
let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

const sqsEvent = (...bodies: string[]) =>
  ({
    Records: bodies.map((body, i) => ({
      messageId: `test-${i}`,
      receiptHandle: 'r',
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-2:123456789012:release',
      awsRegion: 'us-east-2',
    })),
  }) as Parameters<World['handlers']['releaseWorker']>[0];

describe('a release of 50 services', () => {
  it('answers the command at once, plans in the worker, and approves all 50 at the rate CodePipeline allows', async () => {
    // Prepare: CodePipeline allows 10 calls per second per operation here; the limiter learns it from its throttling.
    const services = Array.from({ length: 50 }, (_, i) => `svc${String(i).padStart(2, '0')}`);
    await productWaitsAt(world, 'big', services, 'StagingDEV');
    world.emulator.configure({ rateLimitPerSecond: 10 });
    world.emulator.clearCalls();

    // Act
    const command = await world.slack.slashCommand('U0ALICE', APPROVALS, '/release', 'big qa');
    const loading = shownIn(topView(world, 'U0ALICE'));
    await world.settle();
    const modal = topView(world, 'U0ALICE');
    const started = performance.now();
    await world.slack.submitView('U0ALICE', modal.id);
    await world.settle();
    const seconds = (performance.now() - started) / 1000;
    world.emulator.configure({ rateLimitPerSecond: undefined });

    // Assess
    expect(command.elapsedMs).toBeLessThan(3000);
    expect(loading).toContain('Reading the pipelines of *big*');
    expect(modal.submit).toMatchObject({ text: 'Approve 50' });
    // Learning the limit costs the fan-out a few throttled calls, each sent again: none is lost. (The
    // reads of the QA approvals its approvals bring learn the same limit, on their own.)
    const calls = world.emulator.calls();
    const throttled = calls.filter((call) => call.error === 'ThrottlingException');
    const decisions = calls.filter((call) => call.operation === 'PutApprovalResult');
    expect(decisions.filter((call) => call.error === 'ThrottlingException').length).toBeLessThan(decisions.length / 10);
    const answered = new Set(calls.filter((c) => c.ok).map((c) => `${c.operation} ${JSON.stringify(c.input)}`));
    for (const call of throttled) expect(answered).toContain(`${call.operation} ${JSON.stringify(call.input)}`);
    expect(world.emulator.calls('PutApprovalResult').filter((call) => call.ok)).toHaveLength(50);
    const progress = releaseMessages(world, APPROVALS).at(-1);
    expect(progress?.text).toBe('✅ Released big to qa — 50/50 approved');
    // The progress message is redrawn about once a second, not once per pipeline.
    const redraws = world.slack.calls('chat.update').filter((call) => call.args.ts === progress?.ts);
    expect(redraws.length).toBeGreaterThanOrEqual(2);
    expect(redraws.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    // Every service's own message shows the approval too.
    const serviceMessages = approvalMessages(world).filter((m) => m.text.includes('big-svc'));
    expect(
      serviceMessages.filter((m) => shown(m).includes('*Approved* by release big → qa by <@U0ALICE>')),
    ).toHaveLength(50);
    // Settling includes what the 50 approvals set off downstream: 50 QA approvals arrive, each read
    // at ingest (its revision, its change set) and linked to its execution, at the same 10 calls/s.
  }, 60_000);
});

describe('throttling and redelivery', () => {
  it('backs off when CodePipeline throttles anyway, and the person sees no failure', async () => {
    // Prepare
    await productWaitsAt(world, 'gusty', ['a', 'b', 'c'], 'StagingQA');
    await release(world, 'U0BOB', APPROVALS, 'gusty prod');
    world.emulator.clearCalls();
    world.emulator.failNextCall('PutApprovalResult', 'ThrottlingException', 4);

    // Act
    await world.slack.submitView('U0BOB', topView(world, 'U0BOB').id);
    await world.settle();

    // Assess
    const calls = world.emulator.calls('PutApprovalResult');
    expect(calls.filter((call) => call.error === 'ThrottlingException')).toHaveLength(4);
    expect(calls.filter((call) => call.ok)).toHaveLength(3);
    expect(releaseMessages(world, APPROVALS).at(-1)?.text).toBe('✅ Released gusty to prod — 3/3 approved');
  });

  it('redoes nothing when SQS delivers a finished release again, and fails what is not a job towards the dead letters', async () => {
    // Prepare
    await productWaitsAt(world, 'again', ['a', 'b'], 'StagingQA');
    await release(world, 'U0CAROL', APPROVALS, 'again prod');
    await world.slack.submitView('U0CAROL', topView(world, 'U0CAROL').id);
    await world.settle();
    const releaseId = releaseIdOf(releaseMessages(world, APPROVALS).at(-1) ?? ({} as never));
    world.emulator.clearCalls();

    // Act
    const response = await world.handlers.releaseWorker(
      sqsEvent(JSON.stringify({ kind: 'release', releaseId }), '{"kind":"release","releaseId":"x"}', 'garbage'),
    );

    // Assess
    // The release is done; the two bodies no worker reads fail, so the queue dead-letters them in the end.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'test-1' }, { itemIdentifier: 'test-2' }] });
    expect(world.emulator.calls('PutApprovalResult')).toEqual([]);
    expect(Object.values((await storedRelease(releaseId))?.results ?? {}).map((r) => r.kind)).toEqual([
      'approved',
      'approved',
    ]);
  });
});
