import { AwsLambdaReceiver, isValidSlackRequest } from '@slack/bolt';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { approvalIdFor } from '../adapters/approval-id.ts';
import type { Config } from '../config.ts';
import { RELEASE_SETTINGS } from '../core/release-run.ts';
import { type ClientOverrides, Clients } from '../deps.ts';
import { createSlackApp, type SlackAppDeps } from '../listeners/index.ts';

/*
 * The way in of Slack: buttons, modals and `/release` arrive at the Lambda Function URL
 * (handlers/slack-events.ts) and come here; Bolt routes them to the listeners.
 */

/** What the Slack way in needs: every listener's deps and the signing secret, on the click path's budget. */
export interface SlackDeps extends SlackAppDeps {
  signingSecret: string;
}

export async function slackDeps(config: Config, overrides?: ClientOverrides): Promise<SlackDeps> {
  const clients = new Clients(config, 'click', overrides);
  const credentials = await clients.credentials();
  const people = await clients.people();
  return {
    config,
    botToken: credentials.botToken,
    signingSecret: credentials.signingSecret,
    slackClientOptions: clients.slackClientOptions,
    boltLogger: clients.boltLogger,
    store: await clients.approvalStore(),
    pipelines: await clients.pipelines(),
    notifier: await clients.approvalNotifier(),
    reader: await clients.reader(),
    releases: await clients.releaseStore(),
    queue: clients.releaseQueue(),
    reporter: await clients.releaseReporter(),
    region: clients.region,
    approvalIdFor,
    settings: RELEASE_SETTINGS,
    clock: clients.clock,
    ids: clients.ids,
    log: clients.log,
    metrics: clients.metrics,
    displayName: (userId, fallback) => people.displayName(userId, fallback),
    isGuest: (userId) => people.isGuest(userId),
  };
}

export type FunctionUrlEvent = APIGatewayProxyEventV2;
export type FunctionUrlResult = APIGatewayProxyStructuredResultV2;
export type SlackRoute = (event: FunctionUrlEvent, context: Context) => Promise<FunctionUrlResult>;

/**
 * Function URL event → Bolt. The receiver verifies Slack's signature (HMAC-SHA256 over
 * `v0:<timestamp>:<body>`, 5-minute replay window) before any listener runs: a forged or replayed
 * request gets 401 and touches nothing.
 */
export function slackRoute(deps: SlackDeps): SlackRoute {
  const receiver = new AwsLambdaReceiver({
    signingSecret: deps.signingSecret,
    logger: deps.boltLogger,
    invalidRequestSignatureHandler: ({ ts }) => {
      deps.log.warn('Refused a Slack request with a bad or stale signature', { requestTimestamp: ts });
    },
  });
  createSlackApp(deps, receiver);
  const handle = receiver.toHandler();
  return async (event, context) => {
    // Checked here first as well: Bolt parses the body before it checks the signature, so a
    // malformed unsigned body would otherwise throw (a Lambda error, an alarm) instead of a 401.
    if (!signedBySlack(event, deps.signingSecret)) {
      deps.log.warn('Refused a Slack request with a bad or stale signature', {
        requestTimestamp: header(event, 'x-slack-request-timestamp'),
        path: event.rawPath,
      });
      return { statusCode: 401, body: '' };
    }
    const response = await handle(event as Parameters<typeof handle>[0], context);
    return response as FunctionUrlResult;
  };
}

const header = (event: FunctionUrlEvent, name: string) =>
  Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

function signedBySlack(event: FunctionUrlEvent, signingSecret: string): boolean {
  const signature = header(event, 'x-slack-signature');
  const timestamp = Number(header(event, 'x-slack-request-timestamp'));
  if (!signature || !Number.isFinite(timestamp)) return false;
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  return isValidSlackRequest({
    signingSecret,
    body,
    headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
  });
}
