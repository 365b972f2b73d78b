import type { Context } from 'aws-lambda';
import { loadConfig } from '../app/config.ts';
import { type FunctionUrlEvent, type FunctionUrlResult, slackDeps, slackRoute } from '../app/inbound/slack.ts';
import { lazy } from '../app/lazy.ts';

const route = lazy(async () => slackRoute(await slackDeps(loadConfig(process.env))));

/** Lambda Function URL → Bolt: buttons, modals and `/release`. */
export const handler = async (event: FunctionUrlEvent, context: Context): Promise<FunctionUrlResult> =>
  (await route())(event, context);
