import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { handlePipelineEvent, pipelineEventDeps } from '../app/inbound/pipeline-events.ts';
import { lazy } from '../app/lazy.ts';

const deps = lazy(() => pipelineEventDeps(loadConfig(process.env)));

/**
 * EventBridge (CodePipeline's state changes) → approvals that ended in CodePipeline are closed and a change
 * Greenlight approved is followed in its thread; the reminder schedule's event → reminders before expiry.
 */
export const handler = async (event: unknown, context?: Context): Promise<void> =>
  withLambdaContext(context, async () => {
    await handlePipelineEvent(await deps(), event);
  });
