import type {
  ActionExecutionStatus,
  ApprovalStatus,
  ErrorDetails,
  ExecutionTrigger,
  PipelineDeclaration,
  PipelineExecutionStatus,
  StageExecutionStatus,
} from '@aws-sdk/client-codepipeline';
import type { StageShape } from './structure.ts';

/* The emulator's state, as the world keeps it and the API and board read it. */

/** The source revision an execution carries through the pipeline. */
export interface Revision {
  readonly revisionId: string;
  readonly summary?: string | undefined;
  readonly created: Date;
}

export interface ExecutionRecord {
  readonly id: string;
  /** Start order within the world: newer executions have larger numbers. */
  readonly seq: number;
  readonly pipelineName: string;
  readonly revision: Revision;
  readonly trigger: ExecutionTrigger;
  readonly startTime: Date;
  status: PipelineExecutionStatus;
  statusSummary?: string;
  lastUpdateTime: Date;
  /** For ListPipelineExecutions' `succeededInStage` filter. */
  readonly succeededStages: Set<string>;
  /** Set by StopPipelineExecution; ListPipelineExecutions reports it as `stopTrigger`. */
  stop?: StopRequest;
}

/** StopPipelineExecution's choice: stop and wait (`abandon: false`) or stop and abandon. */
export interface StopRequest {
  readonly abandon: boolean;
  readonly reason?: string | undefined;
}

/** The latest run of one action, as GetPipelineState reports it. */
export interface ActionRun {
  readonly actionExecutionId: string;
  readonly executionId: string;
  status: ActionExecutionStatus;
  lastStatusChange: Date;
  summary?: string;
  /** Manual approvals only. */
  token?: string;
  expiresAt?: Date;
  lastUpdatedBy?: string;
  errorDetails?: ErrorDetails;
  /** Source actions only: the revision they fetched. */
  revision?: Revision;
}

export interface StageRun {
  readonly execution: ExecutionRecord;
  status: StageExecutionStatus;
  /** Index of the runOrder group now running. */
  group: number;
}

export interface StageRecord extends StageShape {
  readonly index: number;
  /** The latest execution to enter the stage. Only one runs in a stage at a time. */
  run?: StageRun | undefined;
  /** The execution waiting at the inbound transition for the stage to free up. */
  inbound?: ExecutionRecord | undefined;
  /** The last execution superseded while waiting at this stage's transition. */
  lastSuperseded?: ExecutionRecord | undefined;
  readonly latestActionRuns: Map<string, ActionRun>;
}

export interface PipelineRecord {
  readonly name: string;
  readonly declaration: PipelineDeclaration;
  readonly created: Date;
  readonly updated: Date;
  readonly stages: readonly StageRecord[];
  /** Oldest first. */
  readonly executions: ExecutionRecord[];
  lastRevision?: Revision;
  readonly executionsByRequestToken: Map<string, ExecutionRecord>;
}

export interface PendingApproval {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly actionName: string;
  readonly token: string;
  readonly revisionId: string;
  readonly pipelineExecutionId: string;
  readonly expiresAt: Date;
}

export interface ApprovalAnswer {
  pipelineName: string;
  stageName: string;
  actionName: string;
  token: string;
  status: ApprovalStatus;
  summary: string;
}
