import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { type PostDigestResult, postDailyDigest } from '../app/core/digest-posting.ts';
import { dailyDigestDeps } from '../app/inbound/daily-digest.ts';
import { lazy } from '../app/lazy.ts';

const deps = lazy(() => dailyDigestDeps(loadConfig(process.env)));

/**
 * EventBridge Scheduler → the day's digest in DIGEST_CHANNEL, once however often it fires. The
 * event (the schedule's input, `{}` or any JSON) is not read: the clock says which day it is.
 */
export const handler = async (_event?: unknown, context?: Context): Promise<PostDigestResult> =>
  withLambdaContext(context, async () => postDailyDigest(await deps()));
