import { randomUUID } from 'node:crypto';
import type { ActionRun, ExecutionRecord, PipelineRecord, StageRecord, StageRun } from './records.ts';

/*
 * CodePipeline's EventBridge events, as the emulator emits them. The shapes are the ones the user
 * guide documents, "Monitoring CodePipeline events"
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html;
 * awsdocs/aws-codepipeline-user-guide doc_source/detect-state-changes-cloudwatch-events.md): the
 * envelope (`version` "0", `id`, `detail-type`, `source` "aws.codepipeline", `account`, `time` to the
 * second, `region`, `resources` [the pipeline ARN]) and per detail type:
 * - Pipeline Execution State Change: `pipeline`, `execution-id`, `start-time`, `state`, `version`
 *   (the pipeline's, a number), `pipeline-execution-attempt`; `execution-trigger` with STARTED and
 *   `stop-execution-comments` with STOPPING ("Pipeline STARTED event", "Pipeline STOPPING event").
 * - Stage Execution State Change: the same plus `stage` ("Stage STOPPED event").
 * - Action Execution State Change: plus `action-execution-id`, `action`, `region`, `type`
 *   (owner, provider, category, version as a string) and, once it ran, `execution-result`
 *   (`external-execution-summary`, `error-code`) ("Action SUCCEEDED event", "Action FAILED event",
 *   "Action ABANDONED event").
 * States, from the guide's table: STARTED, SUCCEEDED, FAILED, STOPPING, STOPPED, CANCELED,
 * SUPERSEDED (pipelines), ABANDONED (actions). A stage skipped by a condition has no documented
 * state, so it emits nothing. RESUMED (RetryStageExecution) does not happen in the emulator.
 */

export const DETAIL_TYPES = {
  pipeline: 'CodePipeline Pipeline Execution State Change',
  stage: 'CodePipeline Stage Execution State Change',
  action: 'CodePipeline Action Execution State Change',
} as const;

/** One event as EventBridge delivers it to a Lambda target. */
export interface CodePipelineEvent {
  version: '0';
  id: string;
  'detail-type': (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];
  source: 'aws.codepipeline';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

type Level = keyof typeof DETAIL_TYPES;

/** The SDK's statuses as the events spell them; undefined: no event (a skipped stage). */
const STATE: Record<string, string | undefined> = {
  InProgress: 'STARTED',
  Succeeded: 'SUCCEEDED',
  Failed: 'FAILED',
  Stopping: 'STOPPING',
  Stopped: 'STOPPED',
  Cancelled: 'CANCELED',
  Superseded: 'SUPERSEDED',
  Abandoned: 'ABANDONED',
};
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'CANCELED', 'SUPERSEDED', 'ABANDONED']);

interface Watched {
  readonly level: Level;
  readonly pipeline: PipelineRecord;
  readonly execution: ExecutionRecord;
  readonly stage?: StageRecord;
  readonly actionName?: string;
  readonly run?: ActionRun;
  readonly status: () => string;
  /** The last state emitted. */
  state?: string;
}

/**
 * Turns the world's state into CodePipeline's events by watching it: after every change, each
 * execution, stage run and action run not yet final is compared with what was last emitted for it.
 * Runs are watched as objects, so a stage run that ended in the same step as the next execution
 * entered the stage still reports its end. A run first seen already past STARTED reports STARTED first.
 */
export class EventWatcher {
  readonly #watched = new Map<object, Watched>();
  /** Runs whose end was emitted: never watched again (the world keeps them). */
  readonly #ended = new WeakSet<object>();

  constructor(
    private readonly options: {
      region: string;
      accountId: string;
      now: () => Date;
      emit: (event: CodePipelineEvent) => void;
    },
  ) {}

  observe(pipeline: PipelineRecord): void {
    for (const execution of pipeline.executions)
      this.#watch(execution, { level: 'pipeline', pipeline, execution, status: () => execution.status });
    for (const stage of pipeline.stages) {
      const stageRun: StageRun | undefined = stage.run;
      if (stageRun)
        this.#watch(stageRun, {
          level: 'stage',
          pipeline,
          execution: stageRun.execution,
          stage,
          status: () => stageRun.status,
        });
      for (const [actionName, run] of stage.latestActionRuns) {
        const execution = pipeline.executions.find((e) => e.id === run.executionId);
        if (execution)
          this.#watch(run, { level: 'action', pipeline, execution, stage, actionName, run, status: () => run.status });
      }
    }
    const changes: Array<{ watched: Watched; state: string; fresh: boolean }> = [];
    for (const [key, watched] of this.#watched) {
      if (watched.pipeline !== pipeline) continue;
      const state = STATE[watched.status()];
      if (!state || state === watched.state) continue;
      const fresh = watched.state === undefined;
      if (fresh && state !== 'STARTED') changes.push({ watched, state: 'STARTED', fresh });
      changes.push({ watched, state, fresh });
      watched.state = state;
      if (FINAL.has(state)) {
        this.#watched.delete(key);
        this.#ended.add(key);
      }
    }
    // What ended (or is stopping) first, from the inside out; then what began, from the outside in
    // (pipeline, stage, action); then how those new runs already went on.
    const depth = { pipeline: 0, stage: 1, action: 2 } as const;
    const inward = (a: { watched: Watched }, b: { watched: Watched }) =>
      depth[a.watched.level] - depth[b.watched.level];
    const outward = (a: { watched: Watched }, b: { watched: Watched }) => -inward(a, b);
    const ordered = [
      ...changes.filter((c) => !c.fresh).sort(outward),
      ...changes.filter((c) => c.state === 'STARTED').sort(inward),
      ...changes.filter((c) => c.fresh && c.state !== 'STARTED').sort(outward),
    ];
    for (const { watched, state } of ordered) this.options.emit(this.#event(watched, state));
  }

  #watch(key: object, watched: Watched): void {
    if (this.#watched.has(key) || this.#ended.has(key)) return;
    this.#watched.set(key, watched);
  }

  #event(watched: Watched, state: string): CodePipelineEvent {
    const { region, accountId } = this.options;
    const { pipeline, execution } = watched;
    const detail: Record<string, unknown> = {
      pipeline: pipeline.name,
      'execution-id': execution.id,
      'start-time': execution.startTime.toISOString(),
    };
    if (watched.level === 'pipeline' && state === 'STARTED')
      detail['execution-trigger'] = {
        'trigger-type': execution.trigger.triggerType,
        'trigger-detail': execution.trigger.triggerDetail,
      };
    if (watched.stage) detail.stage = watched.stage.name;
    if (watched.level === 'action') Object.assign(detail, this.#actionDetail(watched, state));
    detail.state = state;
    if (watched.level === 'pipeline' && state === 'STOPPING' && execution.stop?.reason)
      detail['stop-execution-comments'] = execution.stop.reason;
    detail.version = execution.pipelineVersion;
    detail['pipeline-execution-attempt'] = 1;
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': DETAIL_TYPES[watched.level],
      source: 'aws.codepipeline',
      account: accountId,
      // To the second, as EventBridge writes it.
      time: `${this.options.now().toISOString().slice(0, 19)}Z`,
      region,
      resources: [`arn:aws:codepipeline:${region}:${accountId}:${pipeline.name}`],
      detail,
    };
  }

  #actionDetail(watched: Watched, state: string): Record<string, unknown> {
    const run = watched.run;
    const declared = watched.stage?.actions.find((a) => a.name === watched.actionName)?.actionTypeId;
    const result: Record<string, unknown> = {};
    if (run && (state === 'SUCCEEDED' || state === 'FAILED') && (run.summary || run.errorDetails)) {
      result['execution-result'] = {
        ...(run.summary ? { 'external-execution-summary': run.summary } : {}),
        ...(run.errorDetails?.code ? { 'error-code': run.errorDetails.code } : {}),
      };
    }
    return {
      ...result,
      ...(run ? { 'action-execution-id': run.actionExecutionId } : {}),
      action: watched.actionName,
      region: this.options.region,
      type: {
        owner: declared?.owner ?? 'AWS',
        provider: declared?.provider ?? 'Manual',
        category: declared?.category ?? 'Approval',
        version: declared?.version ?? '1',
      },
    };
  }
}
