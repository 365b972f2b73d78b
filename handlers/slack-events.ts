import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { type FunctionUrlEvent, type FunctionUrlResult, slackDeps, slackRoute } from '../app/inbound/slack.ts';
import { lazy } from '../app/lazy.ts';

const route = lazy(async () => slackRoute(await slackDeps(loadConfig(process.env))));

/** Bolt's receiver never reads Lambda's context: a call without one (off Lambda) hands it this. */
const offLambda: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'slack-events',
  functionVersion: '$LATEST',
  invokedFunctionArn: '',
  memoryLimitInMB: '',
  awsRequestId: '',
  logGroupName: '',
  logStreamName: '',
  getRemainingTimeInMillis: () => 0,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/** Lambda Function URL → Bolt: buttons, modals and `/release`. */
export const handler = async (event: FunctionUrlEvent, context?: Context): Promise<FunctionUrlResult> =>
  withLambdaContext(context, async () => (await route())(event, context ?? offLambda));
