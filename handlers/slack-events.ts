import type { Context } from 'aws-lambda';
import { loadConfig } from '../app/config.ts';
import { createDeps } from '../app/deps.ts';
import { lazy } from '../app/lazy.ts';
import { type FunctionUrlEvent, type FunctionUrlResult, slackRoute } from '../app/slack-route.ts';

const route = lazy(async () => slackRoute(await createDeps(loadConfig(process.env))));

/** Lambda Function URL → Bolt: buttons, modals and `/release`. */
export const handler = async (event: FunctionUrlEvent, context: Context): Promise<FunctionUrlResult> =>
  (await route())(event, context);
