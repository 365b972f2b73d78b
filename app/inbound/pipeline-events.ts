import * as z from 'zod';
import { approvalIdFor } from '../adapters/approval-id.ts';
import type { Config } from '../config.ts';
import { AWS_REGION, CODEPIPELINE_NAME } from '../core/codepipeline-names.ts';
import { type ExecutionHint, followJourney, type JourneyDeps, type JourneyResult } from '../core/journey.ts';
import {
  eventPlace,
  type FollowDeps,
  type FollowResult,
  followPipelineChange,
  type PipelineChange,
  postUnposted,
  reconcileOpen,
  type StaleClaimsDeps,
  type StaleClaimsResult,
  settleStaleClaims,
  type UnpostedDeps,
  type UnpostedResult,
} from '../core/pipeline-events.ts';
import type { JourneyStore, ReleaseStepStore, ReleaseStepView, ThreadNotifier } from '../core/ports.ts';
import { type ReminderDeps, type RemindResult, remindBeforeExpiry } from '../core/reminders.ts';
import { type ClientOverrides, ReleaseClients } from '../deps.ts';

/*
 * The way in of CodePipeline's own events: EventBridge (default bus, `source: aws.codepipeline`) →
 * handlers/pipeline-events.ts → here. Each event is a hint that a pipeline changed; the core looks
 * at CodePipeline's state and closes the approvals that ended there (core/pipeline-events.ts), and
 * follows a change Greenlight approved into its thread (core/journey.ts). The same handler takes
 * the reminder schedule's "Scheduled Event" (core/reminders.ts; and first the decisions that were never
 * finished, core/pipeline-events.ts `settleStaleClaims`): one light function, which already
 * reads the open approvals and posts in their threads, rather than a seventh.
 */

/**
 * What following CodePipeline needs: the core's FollowDeps, StaleClaimsDeps, JourneyDeps and
 * ReminderDeps, on the worker's patient budget.
 */
export type PipelineEventDeps = FollowDeps & StaleClaimsDeps & UnpostedDeps & JourneyDeps & ReminderDeps;

export async function pipelineEventDeps(config: Config, overrides?: ClientOverrides): Promise<PipelineEventDeps> {
  // The worker's clients: patient reads, redraws that wait out Slack's rate limit, the settle queue.
  const clients = new ReleaseClients(config, 'pipeline-events', overrides);
  const store = await clients.approvalStore();
  const notifier = await clients.approvalNotifier();
  return {
    store,
    pipelines: await clients.pipelines(),
    notifier,
    // Where the event's pipeline lives: in another account through the role assumed there.
    readerAt: (place) => clients.readerAt(place),
    journeys: portOf<JourneyStore>(store, 'linkJourney'),
    threads: portOf<ThreadNotifier>(notifier, 'journeyStep'),
    releases: await clients.releaseStore(),
    releaseSteps: portOf<ReleaseStepStore>(store, 'recordReleaseStep'),
    releaseView: portOf<ReleaseStepView>(notifier, 'showSteps'),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    approvalIdFor,
    products: config.products,
    // The schedule queues the decisions never finished for the worker to settle, and the approvals
    // never posted for it to post.
    settleLater: clients.settleLater,
    postLater: clients.postLater,
    // An approval that starts with no notification in sight is looked at again 6 minutes later.
    checkNotifiedLater: clients.checkNotifiedLater,
    metrics: clients.metrics,
    clock: clients.clock,
    ids: clients.ids,
    log: clients.log,
  };
}

/**
 * deps.ts builds the approvals table's store and the Slack notifier typed as their first port;
 * the same objects keep journeys and post in threads. Checked once, at build, rather than cast.
 */
function portOf<T>(adapter: object, method: string): T {
  if (typeof (adapter as Record<string, unknown>)[method] !== 'function')
    throw new Error(`The ${adapter.constructor.name} built by deps.ts has no ${method}`);
  return adapter as T;
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
  // The source account, also when another account's rule forwarded the event to Greenlight's bus:
  // it decides which approvals the event may concern, so one that does not read drops the event.
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z.string().regex(AWS_REGION).optional(),
  detail: z.object({
    pipeline: name,
    'execution-id': z.string().max(200).optional(),
    stage: name.optional().catch(undefined),
    action: name.optional().catch(undefined),
    state: z.string().min(1).max(40),
    type: z.object({ category: z.string().optional() }).optional().catch(undefined),
    'execution-result': z
      .object({ 'external-execution-summary': z.string().optional().catch(undefined) })
      .optional()
      .catch(undefined),
  }),
  time: z.iso.datetime().optional().catch(undefined),
});

/**
 * The reminder schedule's event: an EventBridge scheduled rule's "Scheduled Event" (`source`
 * `aws.events`), or EventBridge Scheduler's in that shape (`aws.scheduler`). Its `time` is when it
 * was due.
 */
const scheduleSchema = z.object({
  source: z.enum(['aws.events', 'aws.scheduler']),
  'detail-type': z.literal('Scheduled Event'),
  time: z.iso.datetime().optional().catch(undefined),
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

/** What the execution's event says, for its journey. */
export function executionHint(event: PipelineEvent): ExecutionHint | undefined {
  const { detail } = event;
  const executionId = detail['execution-id'];
  if (!executionId) return undefined;
  const level =
    event.detailType === PIPELINE_DETAIL_TYPES[0]
      ? 'pipeline'
      : event.detailType === PIPELINE_DETAIL_TYPES[1]
        ? 'stage'
        : 'action';
  const summary = detail['execution-result']?.['external-execution-summary'];
  return {
    level,
    pipelineName: detail.pipeline,
    executionId,
    state: detail.state,
    ...(level !== 'pipeline' && detail.stage ? { stageName: detail.stage } : {}),
    ...(level === 'action' && detail.action ? { actionName: detail.action } : {}),
    ...(detail.type?.category ? { category: detail.type.category } : {}),
    ...(summary ? { summary } : {}),
    ...(event.region ? { region: event.region } : {}),
    ...(event.time ? { at: new Date(event.time) } : {}),
  };
}

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

export type PipelineEventResult = FollowResult & { journey?: JourneyResult };

/**
 * What a run of the reminder schedule did: reminders, and first the unfinished decisions it queued
 * to settle and the approvals never posted it queued to post.
 */
export type ScheduleResult = RemindResult & {
  staleClaims: StaleClaimsResult;
  unposted: UnpostedResult;
  /** Open approvals asked about, and those found ended and closed. */
  reconciled: FollowResult;
};

/**
 * Handles one event. One that is not a readable CodePipeline event (nor the reminder schedule's)
 * is logged with what identifies it and dropped: delivering it again cannot help. A failure to read
 * CodePipeline, to write the record or to post is thrown, so EventBridge's retries (and then the
 * dead-letter queue) deliver it again; that is safe, as following a change twice changes nothing
 * more and each thread post is marked once made.
 */
export async function handlePipelineEvent(
  deps: PipelineEventDeps,
  raw: unknown,
): Promise<PipelineEventResult | ScheduleResult | undefined> {
  const schedule = scheduleSchema.safeParse(raw);
  if (schedule.success) return onSchedule(deps, schedule.data.time);
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
  const { event } = parsed;
  const context = {
    eventId: event.id,
    account: event.account,
    region: event.region,
    detailType: event.detailType,
    pipeline: event.detail.pipeline,
    stage: event.detail.stage,
    action: event.detail.action,
    state: event.detail.state,
    executionId: event.detail['execution-id'],
  };
  let result: PipelineEventResult = { checked: 0, closed: 0 };
  // Approvals of the account the event comes from only, read there (docs/architecture.md, "Many accounts and regions").
  const place = eventPlace(event, deps.products);
  if (!place) {
    deps.log.debug('CodePipeline event from an account and region where no product lives', context);
    return result;
  }
  const inAccount = place.account ? { account: place.account } : {};
  const change: PipelineChange = { ...parsed.change, ...inAccount };
  if (mayEndAnApproval(event)) {
    result = await followPipelineChange(deps, change);
    if (result.checked > 0) deps.log.info('CodePipeline event followed', { ...context, ...result });
    else deps.log.debug('CodePipeline event concerns no open approval', context);
  }
  const hint = executionHint(event);
  if (hint) {
    const journey = await followJourney(deps, { ...hint, ...inAccount });
    if (journey.linked || journey.posted > 0) {
      deps.log.info('Change followed in its approval thread', { ...context, ...journey });
      result = { ...result, journey };
    }
  }
  return result;
}

/**
 * The schedule's run: first the approvals a dead decision left `deciding` are queued for the worker
 * to settle (core/pipeline-events.ts, `settleStaleClaims`; one given back is reminded by the next
 * run); then the approvals whose time has come are reminded. Now is the later of the clock and the
 * schedule's `time`: on AWS the two agree; in the sandbox the pipelines' clock runs ahead after
 * "advance clock", and its schedule says so. A failure of either is thrown once both have run, so
 * the event is delivered again (what was done is not done twice).
 */
async function onSchedule(deps: PipelineEventDeps, time: string | undefined): Promise<ScheduleResult> {
  const clock = deps.clock();
  const due = time ? new Date(time) : clock;
  const at = due.getTime() > clock.getTime() ? due : clock;
  const settled = <T>(work: Promise<T>) =>
    work.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  const claims = await settled(settleStaleClaims(deps));
  const unposted = await settled(postUnposted(deps));
  // Before reminding: an approval that ended unheard-of is closed, not reminded as still open.
  const reconciled = await reconcileOpen(deps);
  const result = await remindBeforeExpiry(deps, at);
  if (result.due > 0) deps.log.info('Reminders before expiry', { at: at.toISOString(), ...result });
  if ('error' in claims) throw claims.error;
  if ('error' in unposted) throw unposted.error;
  return { ...result, staleClaims: claims.result, unposted: unposted.result, reconciled };
}
