import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { followedDeps } from '../app/deps.ts';
import { processReleaseJobs, workerDeps } from '../app/inbound/release-jobs.ts';

const deps = followedDeps(
  'release-worker',
  () => loadConfig(process.env),
  (config, overrides) => workerDeps(config, overrides),
);

/** SQS (release jobs) → plans, boards and fan-outs; failed jobs come back through `batchItemFailures`. */
export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
  withLambdaContext(context, async () => processReleaseJobs(await deps.current(), event, context));
