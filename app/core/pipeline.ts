/**
 * Pipelines as Greenlight reads them (GetPipelineState, ListPipelineExecutions), in the core's
 * words. Only approvals carry a token, and only while they wait.
 */

/**
 * An execution's status (PipelineExecutionStatus) or a stage's (StageExecutionStatus), as the SDK
 * names them: `Superseded` is for executions only (one that waited at a transition while a newer one
 * overtook it: it never entered that stage), `Skipped` for stages only (a stage condition skipped
 * it). `Stopping`/`Stopped` follow StopPipelineExecution; `Cancelled` means the pipeline was updated
 * before the execution or stage completed.
 */
export type ExecutionStatus =
  | 'Cancelled'
  | 'InProgress'
  | 'Skipped'
  | 'Stopped'
  | 'Stopping'
  | 'Succeeded'
  | 'Superseded'
  | 'Failed';

export type ActionStatus = 'Abandoned' | 'Failed' | 'InProgress' | 'Succeeded';

export interface Revision {
  revisionId: string;
  summary?: string;
}

export interface ExecutionRef {
  executionId: string;
  /** For a stage's latest execution: the stage's status in it (StageExecution.status). */
  status: ExecutionStatus;
  /** The source revision it carries (from the execution's artifact revisions). */
  revision?: Revision;
}

export interface ActionSnapshot {
  name: string;
  status?: ActionStatus;
  lastChange?: Date;
  summary?: string;
  updatedBy?: string;
  /** Secret: present only for a manual approval that waits (status InProgress). */
  token?: string;
}

export interface StageSnapshot {
  name: string;
  /** The execution in the stage (running, or the last one that ran). */
  latest?: ExecutionRef;
  /** An execution waiting at the stage's inbound transition. */
  inbound?: ExecutionRef;
  actions: ActionSnapshot[];
}

export interface PipelineSnapshot {
  name: string;
  stages: StageSnapshot[];
}

export interface ExecutionSummary {
  executionId: string;
  status: ExecutionStatus;
  startTime: Date;
  lastUpdateTime: Date;
  revision?: Revision;
}

/** The waiting approval of a stage, if any: the action whose latest execution holds a token. */
export function pendingApprovalIn(stage: StageSnapshot): (ActionSnapshot & { token: string }) | undefined {
  return stage.actions.find((action): action is ActionSnapshot & { token: string } =>
    Boolean(action.token && action.status === 'InProgress'),
  );
}
