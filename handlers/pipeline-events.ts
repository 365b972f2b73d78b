import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { followedDeps } from '../app/deps.ts';
import { handlePipelineEvent, pipelineEventDeps } from '../app/inbound/pipeline-events.ts';

const deps = followedDeps('pipeline-events', () => loadConfig(process.env), pipelineEventDeps);

/**
 * EventBridge (CodePipeline's state changes) → approvals that ended in CodePipeline are closed and a change
 * Greenlight approved is followed in its thread; the reminder schedule's event → reminders before expiry.
 */
export const handler = async (event: unknown, context?: Context): Promise<PipelineEventsAnswer> =>
  withLambdaContext(context, async () => handlePipelineEvent(await deps.current(), event));

/** What the event did (EventBridge ignores it; the sandbox's POST /api/reminders shows it). */
export type PipelineEventsAnswer = Awaited<ReturnType<typeof handlePipelineEvent>>;
