import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { powertoolsLog, withCorrelation, withLambdaContext } from '../../app/adapters/powertools-log.ts';
import { ids } from '../../app/views/ids.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { captureOutput } from '../support/output-capture.ts';
import {
  APPROVALS_CHANNEL,
  approvalAwaitingDelivery,
  pipelineWaitsForApproval,
  users,
} from '../support/world-helpers.ts';

// As on Lambda: Powertools reports a cold start only in an on-demand environment, read when the
// Logger is built (at import), hence before the imports above.
vi.hoisted(() => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});

let world: World;
let output: ReturnType<typeof captureOutput> | undefined;
/** What the process wrote, once captured. */
let written: string[] = [];

beforeAll(async () => {
  output = captureOutput();
  written = output.written;
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
  output?.restore();
});

type Line = Record<string, unknown> & { message: string };

/** The JSON log lines written from the `from`th write on (to the `to`th). */
function linesSince(from: number, to = written.length): Line[] {
  return written.slice(from, to).flatMap((chunk) =>
    chunk
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text) as Line),
  );
}

/** Lambda's context, as the runtime hands it to a handler. */
function lambdaContext(awsRequestId: string, functionName = 'greenlight-approval-notification'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

describe('log lines of a handler', () => {
  it('carry the invocation’s Lambda context: request id, cold start first, then warm, and nothing of the previous one', async () => {
    // Prepare
    const delivered = await approvalAwaitingDelivery(world, 'logctx-notify');
    const first = written.length;
    // Act: the process's first invocation, then the same notification again (SNS repeats)
    await world.handlers.approvalNotification(delivered.event, lambdaContext('request-1'));
    const second = written.length;
    await world.handlers.approvalNotification(delivered.event, lambdaContext('request-2'));
    const third = written.length;
    await world.handlers.approvalNotification(delivered.event);
    // Assess: the capture works (each invocation left its line) …
    const cold = linesSince(first, second);
    const warm = linesSince(second, third);
    const without = linesSince(third);
    for (const lines of [cold, warm, without])
      expect(lines.map((line) => line.message)).toContain('Approval notification handled');
    // … every line of an invocation carries its context …
    for (const line of cold)
      expect(line).toMatchObject({
        service: 'greenlight',
        function_request_id: 'request-1',
        cold_start: true,
        function_name: 'greenlight-approval-notification',
        function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-approval-notification',
        function_memory_size: '256',
      });
    for (const line of warm) expect(line).toMatchObject({ function_request_id: 'request-2', cold_start: false });
    // … and none carries another invocation's: a call without a context has none at all
    expect(warm.map((line) => JSON.stringify(line)).join('\n')).not.toContain('request-1');
    for (const line of without) {
      expect(line).not.toHaveProperty('function_request_id');
      expect(line).not.toHaveProperty('cold_start');
    }
  });

  it('keep overlapping invocations apart (the sandbox runs every handler in one process)', async () => {
    // Prepare
    const a = await approvalAwaitingDelivery(world, 'logctx-overlap-a');
    const b = await approvalAwaitingDelivery(world, 'logctx-overlap-b');
    const from = written.length;
    // Act
    await Promise.all([
      world.handlers.approvalNotification(a.event, lambdaContext('request-a')),
      world.handlers.approvalNotification(b.event, lambdaContext('request-b')),
    ]);
    // Assess
    const lines = linesSince(from);
    const about = (approvalId: string) => lines.filter((line) => line.approvalId === approvalId);
    expect(about(a.approvalId)).not.toHaveLength(0);
    expect(about(b.approvalId)).not.toHaveLength(0);
    for (const line of about(a.approvalId)) expect(line.function_request_id).toBe('request-a');
    for (const line of about(b.approvalId)) expect(line.function_request_id).toBe('request-b');
  });

  it('of a Slack click over the Function URL carry that request’s context', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'logctx-click');
    const from = written.length;
    // Act
    await world.slack.click('U0ALICE', APPROVALS_CHANNEL, approval.message.ts, ids.approve);
    await world.settle();
    // Assess
    const decided = linesSince(from).find((line) => line.message === 'Approval decided');
    expect(decided).toMatchObject({ function_name: 'greenlight-local', cold_start: false });
    expect(decided?.function_request_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('a correlation key', () => {
  it('is on every line logged within its scope, inner work included, and gone after it', async () => {
    // Prepare
    const log = powertoolsLog();
    const from = written.length;
    // Act
    await withLambdaContext(lambdaContext('request-c', 'greenlight-release-worker'), async () => {
      log.info('Before the release');
      await withCorrelation({ releaseId: 'rel-1' }, async () => {
        log.info('Release started');
        await new Promise((resolve) => setTimeout(resolve, 1));
        await withCorrelation({ approvalId: 'appr-1' }, async () =>
          log.warn('Pipeline busy', { pipeline: 'shop-cart' }),
        );
        log.info('Release finished');
      });
      log.info('After the release');
    });
    log.info('Outside any invocation');
    // Assess
    const lines = linesSince(from);
    expect(lines.map((line) => line.message)).toEqual([
      'Before the release',
      'Release started',
      'Pipeline busy',
      'Release finished',
      'After the release',
      'Outside any invocation',
    ]);
    const [before, started, busy, finished, after, outside] = lines;
    expect(before).not.toHaveProperty('releaseId');
    expect(started).toMatchObject({ releaseId: 'rel-1', function_request_id: 'request-c' });
    expect(busy).toMatchObject({ releaseId: 'rel-1', approvalId: 'appr-1', pipeline: 'shop-cart', level: 'WARN' });
    expect(finished).toMatchObject({ releaseId: 'rel-1' });
    expect(finished).not.toHaveProperty('approvalId');
    expect(after).toMatchObject({ function_request_id: 'request-c' });
    expect(after).not.toHaveProperty('releaseId');
    expect(outside).not.toHaveProperty('function_request_id');
  });

  it('name the tenant where Lambda runs the function in tenant isolation mode, and only there', async () => {
    // Prepare
    const log = powertoolsLog();
    const from = written.length;
    // Act
    await withLambdaContext({ ...lambdaContext('request-t'), tenantId: 'acme' }, async () => log.info('For a tenant'));
    await withLambdaContext(lambdaContext('request-u'), async () => log.info('For nobody in particular'));
    // Assess
    const [tenant, plain] = linesSince(from);
    expect(tenant).toMatchObject({ message: 'For a tenant', tenant_id: 'acme', function_request_id: 'request-t' });
    expect(plain).toMatchObject({ message: 'For nobody in particular', function_request_id: 'request-u' });
    expect(plain).not.toHaveProperty('tenant_id');
  });
});

describe('the log lines of a Slack request about one approval or release', () => {
  /** The JSON lines the Slack way in wrote (the Function URL's invocations) from the `from`th write on. */
  const slackLinesSince = (from: number) =>
    linesSince(from).filter((line) => line.function_name === 'greenlight-local');

  it('carry the approval id on every line of a click, the guard’s and the directory lookup’s included', async () => {
    // Prepare: Slack's directory fails the first click's lookups, so the guard refuses it and logs why
    const approval = await pipelineWaitsForApproval(world, 'logctx-guarded');
    const [person] = users(world, 1, 'logctx');
    if (!person) throw new Error('no person');
    world.slack.faults.failCalls('users.info', 500, 2);
    const from = written.length;
    // Act: refused once, then decided
    await world.slack.click(person.id, APPROVALS_CHANNEL, approval.message.ts, ids.approve);
    world.slack.faults.clear();
    await world.slack.click(person.id, APPROVALS_CHANNEL, approval.message.ts, ids.approve);
    const lines = slackLinesSince(from);
    await world.settle();
    // Assess: the capture saw the refusal, the directory's failure and the decision …
    const messages = lines.map((line) => line.message);
    expect(messages).toContain('Could not tell whether a person is a guest');
    expect(messages).toContain('Refused a request from outside the organisation or from a guest');
    expect(messages).toContain('Approval decided');
    // … and each of their lines names the approval
    for (const line of lines) expect(line, line.message).toMatchObject({ approvalId: approval.approvalId });
  });

  it('carry the approval id on every line of a rejection submitted in the modal, Slack’s retries included', async () => {
    // Prepare: the reason modal is open; Slack then answers the message's redraw too late once (the
    // SDK gives up on it, logs that, and tries again)
    const approval = await pipelineWaitsForApproval(world, 'logctx-rejected');
    const opened = await world.slack.click('U0BOB', APPROVALS_CHANNEL, approval.message.ts, ids.reject);
    const viewId = opened.views.at(-1)?.view.id ?? '';
    world.slack.faults.holdAnswers('chat.update', 2_000, 1);
    const from = written.length;
    // Act
    await world.slack.submitView('U0BOB', viewId, { [ids.reasonBlock]: 'The QA suite is red' });
    const lines = slackLinesSince(from);
    world.slack.faults.clear();
    await world.settle();
    // Assess
    expect(lines.map((line) => line.message)).toContain('Approval decided');
    expect(lines.filter((line) => line.source === 'slack-sdk')).not.toHaveLength(0);
    for (const line of lines) expect(line, line.message).toMatchObject({ approvalId: approval.approvalId });
  });

  it('carry the release id on every line of /release from the moment it plans one', async () => {
    // Prepare: a product of one pipeline waiting in StagingDEV; Slack answers the modal's first
    // update too late (the SDK gives up on it, logs that, and tries again)
    await pipelineWaitsForApproval(world, 'logrel-cart');
    world.slack.faults.holdAnswers('views.update', 2_000, 1);
    const from = written.length;
    // Act
    await world.slack.slashCommand('U0ALICE', APPROVALS_CHANNEL, '/release', 'logrel qa');
    const lines = slackLinesSince(from);
    world.slack.faults.clear();
    // Assess
    const planned = lines.find((line) => line.message === 'Release planned');
    expect(planned?.releaseId).toMatch(/^rel-/);
    const sdk = lines.filter((line) => line.source === 'slack-sdk');
    expect(sdk).not.toHaveLength(0);
    for (const line of sdk) expect(line, line.message).toMatchObject({ releaseId: planned?.releaseId });
  });

  it('take a release modal closed while it was being planned as the person’s choice, not an error', async () => {
    // Prepare: reading each pipeline takes 600 ms, so Carol can cancel the loading modal meanwhile
    await pipelineWaitsForApproval(world, 'logcancel-cart');
    world.emulator.configure({ latencyMs: { GetPipelineState: 600 } });
    const from = written.length;
    // Act
    const command = world.slack.slashCommand('U0CAROL', APPROVALS_CHANNEL, '/release', 'logcancel qa');
    await vi.waitFor(() => expect(world.slack.openViews('U0CAROL')).toHaveLength(1), { timeout: 2_000 });
    const loading = world.slack.openViews('U0CAROL')[0]?.view.id ?? '';
    await world.slack.closeView('U0CAROL', loading);
    const answered = await command;
    world.emulator.configure({ latencyMs: 0 });
    // Assess
    const lines = slackLinesSince(from);
    expect(answered.displayError).toBeUndefined();
    expect(lines.filter((line) => line.level === 'ERROR').map((line) => line.message)).toEqual([]);
    expect(lines.map((line) => line.message)).toContain('The release modal was closed before its plan was shown');
  });

  it('say who typed a /release Greenlight could not act on, what and why, as the person is told', async () => {
    // Prepare: product `logbad` has a pipeline
    await pipelineWaitsForApproval(world, 'logbad-cart');
    const from = written.length;
    // Act: too many words, a product there is not, an env the product does not have
    await world.slack.slashCommand('U0ALICE', APPROVALS_CHANNEL, '/release', 'logbad to prod now');
    await world.slack.slashCommand('U0ALICE', APPROVALS_CHANNEL, '/release', 'nosuchproduct prod');
    await world.slack.slashCommand('U0ALICE', APPROVALS_CHANNEL, '/release', 'logbad moon');
    // Assess
    const refused = slackLinesSince(from).filter((line) => line.message === 'Refused /release input');
    expect(refused.map(({ user, channel, text, reason }) => ({ user, channel, text, reason }))).toEqual([
      {
        user: 'U0ALICE',
        channel: APPROVALS_CHANNEL,
        text: 'logbad to prod now',
        reason: 'not /release <product> <env>',
      },
      { user: 'U0ALICE', channel: APPROVALS_CHANNEL, text: 'nosuchproduct prod', reason: 'unknown product' },
      { user: 'U0ALICE', channel: APPROVALS_CHANNEL, text: 'logbad moon', reason: 'unknown env' },
    ]);
  });
});
