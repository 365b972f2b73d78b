import { App, AwsLambdaReceiver } from '@slack/bolt';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type SlackRequest, type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { approvalMessage, botToken, reasonModal, signingSecret, silentLogger, webClient } from './helpers.ts';

let sim: SlackSimulator | undefined;

afterEach(() => sim?.close());

/** The event a Lambda Function URL hands the handler (API Gateway v2 payload, lower-case headers). */
function functionUrlEvent(request: SlackRequest): LambdaFunctionURLEvent {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: '',
    headers: request.headers,
    body: request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'greenlight',
      domainName: 'greenlight.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'greenlight',
      http: {
        method: 'POST',
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: 'test-request',
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** A Bolt app on AwsLambdaReceiver wired to the simulator both ways, as `handlers/slack-events.ts` will be. */
async function boltWorld(options: { appSecret?: string } = {}) {
  const receiver = new AwsLambdaReceiver({ signingSecret: options.appSecret ?? signingSecret, logger: silentLogger });
  const handler = receiver.toHandler();
  sim = await startSlackSimulator({
    botToken,
    signingSecret,
    deliver: async (request) => {
      const result = await handler(functionUrlEvent(request), {});
      return { status: result.statusCode, headers: stringHeaders(result.headers), body: result.body };
    },
  });
  const app = new App({
    receiver,
    token: botToken,
    botId: 'B0GREENBOT',
    botUserId: 'U0GREENBOT',
    tokenVerificationEnabled: false,
    logger: silentLogger,
    clientOptions: { slackApiUrl: sim.apiUrl, retryConfig: { retries: 0 } },
  });
  const posted = await webClient(sim).chat.postMessage(approvalMessage());
  return { sim, app, ts: String(posted.ts) };
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

describe('a Bolt app on AwsLambdaReceiver', () => {
  it('receives a click, opens a modal with its trigger and answers through response_url', async () => {
    // Prepare
    const { sim, app, ts } = await boltWorld();
    const clicked: unknown[] = [];
    app.action('reject', async ({ ack, body, client, respond, action }) => {
      await ack();
      clicked.push(action);
      if (body.type !== 'block_actions') return;
      await client.views.open({ trigger_id: body.trigger_id, view: reasonModal() as never });
      await respond({ text: 'Tell us why in the dialog.' });
    });
    // Act
    const result = await sim.click('U0ALICE', 'C0APPROVALS', ts, 'reject');
    // Assess
    expect(result.status).toBe(200);
    expect(clicked).toEqual([expect.objectContaining({ action_id: 'reject', value: 'shop-cart/StagingDEV/1' })]);
    expect(result.views.map((open) => open.view.callback_id)).toEqual(['reject_reason']);
    expect(result.ephemerals.map((ephemeral) => ephemeral.text)).toEqual(['Tell us why in the dialog.']);
  });

  it('keeps the modal open with the errors the view listener acknowledged', async () => {
    // Prepare
    const { sim, app, ts } = await boltWorld();
    app.action('reject', async ({ ack, body, client }) => {
      await ack();
      if (body.type === 'block_actions')
        await client.views.open({ trigger_id: body.trigger_id, view: reasonModal() as never });
    });
    const reasons: string[] = [];
    app.view('reject_reason', async ({ ack, view }) => {
      const reason = view.state.values.reason?.reason_input?.value ?? '';
      reasons.push(reason);
      if (reason.length < 10) await ack({ response_action: 'errors', errors: { reason: 'Say a bit more.' } });
      else await ack();
    });
    const clicked = await sim.click('U0ALICE', 'C0APPROVALS', ts, 'reject');
    const viewId = String(clicked.views[0]?.view.id);
    // Act
    const short = await sim.submitView('U0ALICE', viewId, { reason: 'no' });
    const enough = await sim.submitView('U0ALICE', viewId, { reason: 'Breaks checkout on Safari' });
    // Assess
    expect(reasons).toEqual(['no', 'Breaks checkout on Safari']);
    expect(short.views).toEqual([expect.objectContaining({ errors: { reason: 'Say a bit more.' } })]);
    expect(enough.views).toEqual([]);
  });

  it('answers a slash command with an ephemeral message', async () => {
    // Prepare
    const { sim, app } = await boltWorld();
    app.command('/release', async ({ ack, command }) => {
      await ack(`Releasing ${command.text}? Confirm in the dialog.`);
    });
    // Act
    const result = await sim.slashCommand('U0DAVE', 'C0RELEASES', '/release', 'shop prod');
    // Assess
    expect(result.status).toBe(200);
    expect(result.ephemerals.map((ephemeral) => ephemeral.text)).toEqual([
      'Releasing shop prod? Confirm in the dialog.',
    ]);
  });

  it('is refused by an app that holds another signing secret', async () => {
    // Prepare
    const { sim, app, ts } = await boltWorld({ appSecret: 'another-secret' });
    let reached = false;
    app.action('approve', async ({ ack }) => {
      reached = true;
      await ack();
    });
    // Act
    const result = await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    // Assess
    expect(result).toMatchObject({ status: 401, displayError: 'The app answered HTTP 401.' });
    expect(reached).toBe(false);
  });
});
