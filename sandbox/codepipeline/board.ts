import type { ExecutionRecord, PipelineRecord, StageRecord } from './records.ts';

/**
 * What a stage shows for its latest execution. `awaiting-approval` is `in-progress` held by a
 * manual approval; `none` means no execution has entered the stage yet; `stopped` is a stage whose
 * execution is Stopping or Stopped (StopPipelineExecution), even while a stop-and-wait approval waits,
 * or Cancelled (UpdatePipeline); `skipped` is a stage a SKIP entry condition skipped.
 */
export type BoardStageState =
  | 'none'
  | 'in-progress'
  | 'awaiting-approval'
  | 'succeeded'
  | 'failed'
  | 'stopped'
  | 'skipped';

export interface BoardExecution {
  readonly revisionId: string;
  readonly pipelineExecutionId: string;
}

export interface BoardStage {
  readonly stageName: string;
  /** The revision of the latest execution in the stage, or null when none has entered. */
  readonly revisionId: string | null;
  readonly pipelineExecutionId: string | null;
  readonly state: BoardStageState;
  /** The execution waiting at the stage's inbound transition. */
  readonly waiting: BoardExecution | null;
  /** The last execution superseded while waiting at this transition. */
  readonly lastSuperseded: BoardExecution | null;
}

export interface BoardPipeline {
  readonly pipelineName: string;
  readonly stages: readonly BoardStage[];
}

const brief = (execution: ExecutionRecord | undefined): BoardExecution | null =>
  execution ? { revisionId: execution.revision.revisionId, pipelineExecutionId: execution.id } : null;

function stateOf(stage: StageRecord): BoardStageState {
  const run = stage.run;
  if (!run) return 'none';
  switch (run.status) {
    case 'InProgress': {
      const group = run.groups[run.group] ?? [];
      const held = group.some((action) => {
        const actionRun = stage.latestActionRuns.get(action.name as string);
        return actionRun?.status === 'InProgress' && actionRun.token !== undefined;
      });
      return held ? 'awaiting-approval' : 'in-progress';
    }
    case 'Succeeded':
      return 'succeeded';
    case 'Failed':
      return 'failed';
    case 'Skipped':
      return 'skipped';
    default:
      return 'stopped';
  }
}

/** Which revision is where, per pipeline and stage: the product board of the table of docs/concepts.md's worked example. */
export function boardOf(pipelines: readonly PipelineRecord[]): BoardPipeline[] {
  return pipelines.map((pipeline) => ({
    pipelineName: pipeline.name,
    stages: pipeline.stages.map((stage) => ({
      stageName: stage.name,
      revisionId: stage.run?.execution.revision.revisionId ?? null,
      pipelineExecutionId: stage.run?.execution.id ?? null,
      state: stateOf(stage),
      waiting: brief(stage.inbound),
      lastSuperseded: brief(stage.lastSuperseded),
    })),
  }));
}
