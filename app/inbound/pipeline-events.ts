import * as z from 'zod';
import type { Config } from '../config.ts';
import { AWS_REGION, CODEPIPELINE_NAME } from '../core/codepipeline-names.ts';
import {
  type FollowDeps,
  type FollowResult,
  followPipelineChange,
  type PipelineChange,
} from '../core/pipeline-events.ts';
import { type ClientOverrides, ReleaseClients } from '../deps.ts';

/*
 * The way in of CodePipeline's own events: EventBridge (default bus, `source: aws.codepipeline`) →
 * handlers/pipeline-events.ts → here. Each event is a hint that a pipeline changed; the core looks
 * at CodePipeline's state and closes the approvals that ended there (core/pipeline-events.ts).
 */

/** What following CodePipeline needs: the core's FollowDeps, on the worker's patient budget. */
export type PipelineEventDeps = FollowDeps;

export async function pipelineEventDeps(config: Config, overrides?: ClientOverrides): Promise<PipelineEventDeps> {
  // The worker's clients: patient reads, redraws that wait out Slack's rate limit, the settle queue.
  const clients = new ReleaseClients(config, 'worker', overrides);
  return {
    store: await clients.approvalStore(),
    pipelines: await clients.pipelines(),
    notifier: await clients.approvalNotifier(),
    reader: await clients.reader(),
    clock: clients.clock,
    log: clients.log,
  };
}

/** The three detail types CodePipeline sends to EventBridge. */
export const PIPELINE_DETAIL_TYPES = [
  'CodePipeline Pipeline Execution State Change',
  'CodePipeline Stage Execution State Change',
  'CodePipeline Action Execution State Change',
] as const;

const name = z.string().regex(CODEPIPELINE_NAME);

/**
 * The parts of a CodePipeline event Greenlight reads (the shapes in the user guide, "Monitoring
 * CodePipeline events", https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html).
 * Tolerant: every other field may come, change type or be missing (`version` is a number in today's
 * events and a string in older ones), because none of them decides anything: the state is read
 * from CodePipeline itself. A stage or action event without its stage is taken for the whole pipeline.
 */
const eventSchema = z.object({
  source: z.literal('aws.codepipeline'),
  detailType: z.enum(PIPELINE_DETAIL_TYPES),
  id: z.string().max(200).optional(),
  region: z.string().regex(AWS_REGION).optional(),
  detail: z.object({
    pipeline: name,
    'execution-id': z.string().max(200).optional(),
    stage: name.optional().catch(undefined),
    action: name.optional().catch(undefined),
    state: z.string().min(1).max(40),
    type: z.object({ category: z.string().optional() }).optional().catch(undefined),
  }),
});

/**
 * The states in which something may have ended (the user guide's table of states): an approval
 * ends only with an ending of its action (SUCCEEDED, FAILED, ABANDONED, CANCELED), its stage or its
 * execution. STARTED, STOPPING and RESUMED never end one, so they are not worth a look.
 */
export const ENDING_STATES = ['SUCCEEDED', 'FAILED', 'STOPPED', 'CANCELED', 'SUPERSEDED', 'ABANDONED'] as const;
const ENDINGS = new Set<string>(ENDING_STATES);

/** Whether the event may concern the end of an approval: an ending, and of an approval action if of an action. */
export function mayEndAnApproval(event: PipelineEvent): boolean {
  if (!ENDINGS.has(event.detail.state)) return false;
  const category = event.detail.type?.category;
  return event.detailType !== PIPELINE_DETAIL_TYPES[2] || category === undefined || category === 'Approval';
}

export type PipelineEvent = z.infer<typeof eventSchema>;

export type ParsedPipelineEvent =
  | { ok: true; event: PipelineEvent; change: PipelineChange }
  | { ok: false; problem: string };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads an EventBridge event from CodePipeline. Events as EventBridge emits them carry
 * `detail-type`; as CodeStar notifications pass them on, `detailType` (same page): both are read.
 * The problem names the fields that did not read, never their values.
 */
export function parsePipelineEvent(raw: unknown): ParsedPipelineEvent {
  if (!isObject(raw)) return { ok: false, problem: 'not an object' };
  const parsed = eventSchema.safeParse({ ...raw, detailType: raw['detail-type'] ?? raw.detailType });
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(event)'))];
    return { ok: false, problem: `unreadable: ${fields.join(', ')}` };
  }
  const event = parsed.data;
  const stageName = event.detailType === PIPELINE_DETAIL_TYPES[0] ? undefined : event.detail.stage;
  return {
    ok: true,
    event,
    change: {
      pipelineName: event.detail.pipeline,
      ...(stageName ? { stageName } : {}),
      ...(event.region ? { region: event.region } : {}),
    },
  };
}

/**
 * Handles one event. One that is not a readable CodePipeline event is logged with what identifies
 * it and dropped: delivering it again cannot help. A failure to read CodePipeline or to write the
 * record is thrown, so EventBridge's retries (and then the dead-letter queue) deliver it again;
 * that is safe, as following a change twice changes nothing more.
 */
export async function handlePipelineEvent(deps: PipelineEventDeps, raw: unknown): Promise<FollowResult | undefined> {
  const parsed = parsePipelineEvent(raw);
  if (!parsed.ok) {
    const json = isObject(raw) ? raw : {};
    deps.log.warn('Dropped an event that is not a readable CodePipeline state change', {
      eventId: typeof json.id === 'string' ? json.id.slice(0, 100) : undefined,
      source: typeof json.source === 'string' ? json.source.slice(0, 100) : undefined,
      detailType: typeof json['detail-type'] === 'string' ? json['detail-type'].slice(0, 100) : undefined,
      problem: parsed.problem,
    });
    return undefined;
  }
  const { event, change } = parsed;
  if (!mayEndAnApproval(event)) return { checked: 0, closed: 0 };
  const context = {
    eventId: event.id,
    detailType: event.detailType,
    pipeline: change.pipelineName,
    stage: event.detail.stage,
    action: event.detail.action,
    state: event.detail.state,
    executionId: event.detail['execution-id'],
  };
  const result = await followPipelineChange(deps, change);
  if (result.checked > 0) deps.log.info('CodePipeline event followed', { ...context, ...result });
  else deps.log.debug('CodePipeline event concerns no open approval', context);
  return result;
}
