import { AwsLambdaReceiver } from '@slack/bolt';
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
    const response = await handle(event as Parameters<typeof handle>[0], context);
    return response as FunctionUrlResult;
  };
}
