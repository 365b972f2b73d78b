import { AwsLambdaReceiver, isValidSlackRequest } from '@slack/bolt';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Deps } from './deps.ts';
import { createSlackApp } from './listeners/index.ts';

export type FunctionUrlEvent = APIGatewayProxyEventV2;
export type FunctionUrlResult = APIGatewayProxyStructuredResultV2;
export type SlackRoute = (event: FunctionUrlEvent, context: Context) => Promise<FunctionUrlResult>;

/**
 * Function URL event → Bolt. The receiver verifies Slack's signature (HMAC-SHA256 over
 * `v0:<timestamp>:<body>`, 5-minute replay window) before any listener runs: a forged or replayed
 * request gets 401 and touches nothing.
 */
export function slackRoute(deps: Deps): SlackRoute {
  const receiver = new AwsLambdaReceiver({
    signingSecret: deps.credentials.signingSecret,
    logger: deps.log.boltLogger,
    invalidRequestSignatureHandler: ({ ts }) => {
      deps.log.warn('Refused a Slack request with a bad or stale signature', { requestTimestamp: ts });
    },
  });
  createSlackApp(deps, receiver);
  const handle = receiver.toHandler();
  return async (event, context) => {
    // Checked here first as well: Bolt parses the body before it checks the signature, so a
    // malformed unsigned body would otherwise throw (a Lambda error, an alarm) instead of a 401.
    if (!signedBySlack(event, deps.credentials.signingSecret)) {
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
