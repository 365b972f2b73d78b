import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processReleaseJobs } from '../app/adapters/release-jobs.ts';
import { loadConfig } from '../app/config.ts';
import { createDeps } from '../app/deps.ts';
import { lazy } from '../app/lazy.ts';

const deps = lazy(() => createDeps(loadConfig(process.env), { path: 'worker' }));

/** SQS (release jobs) → plans, boards and fan-outs; failed jobs come back through `batchItemFailures`. */
export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
  processReleaseJobs(await deps(), event, context);
