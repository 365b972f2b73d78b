import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { followedDeps } from '../app/deps.ts';
import { type FunctionUrlEvent, type FunctionUrlResult, slackDeps, slackRoute } from '../app/inbound/slack.ts';

const route = followedDeps(
  'slack-events',
  () => loadConfig(process.env),
  async (config, overrides) => slackRoute(await slackDeps(config, overrides)),
);

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
  withLambdaContext(context, async () => {
    const answer = await (await route.current())(event, context ?? offLambda);
    // Signed with another secret than ours: perhaps Slack's, regenerated and put in the secret since
    // it was read. Read it again (at most once a minute) and, if it changed, check with the new one.
    if (answer.statusCode === 401 && (await route.renew())) return (await route.current())(event, context ?? offLambda);
    return answer;
  });
