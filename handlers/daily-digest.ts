import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { type PostDigestResult, postDailyDigest } from '../app/core/digest-posting.ts';
import { followedDeps } from '../app/deps.ts';
import { dailyDigestDeps, scheduledTimeOf } from '../app/inbound/daily-digest.ts';

const deps = followedDeps('daily-digest', () => loadConfig(process.env), dailyDigestDeps);

/**
 * EventBridge Scheduler → the digest of the day the run was scheduled for, in DIGEST_CHANNEL, once
 * however often it fires: the event's `time` says which day that is (the clock, without one).
 */
export const handler = async (event?: unknown, context?: Context): Promise<PostDigestResult> =>
  withLambdaContext(context, async () => {
    const ready = await deps.current();
    return postDailyDigest(ready, scheduledTimeOf(event, ready.log));
  });
