import type {
  ActionDeclaration,
  ActionExecutionStatus,
  ApprovalStatus,
  BeforeEntryConditions,
  ConditionExecutionStatus,
  ErrorDetails,
  ExecutionTrigger,
  PipelineDeclaration,
  PipelineExecutionStatus,
  RuleExecutionStatus,
  StageExecutionStatus,
} from '@aws-sdk/client-codepipeline';

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
  /** The pipeline version the execution started on (PipelineExecution.pipelineVersion). */
  readonly pipelineVersion: number;
  /** Pipeline-level variables as resolved for this execution (PipelineExecution.variables). */
  readonly variables: ReadonlyMap<string, string>;
  status: PipelineExecutionStatus;
  statusSummary?: string;
  lastUpdateTime: Date;
  /** For ListPipelineExecutions' `succeededInStage` filter. */
  readonly succeededStages: Set<string>;
  /** Set by StopPipelineExecution; ListPipelineExecutions reports it as `stopTrigger`. */
  stop?: StopRequest;
  /**
   * Set by UpdatePipeline on an execution running in a stage: its running actions complete, then its
   * stage and the execution are `Cancelled` (World.updatePipeline).
   */
  cancelledBy?: { readonly version: number };
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
  /** The stage's runOrder groups as declared when the execution entered: a run keeps its definition. */
  readonly groups: readonly (readonly ActionDeclaration[])[];
  /** Index of the runOrder group now running. */
  group: number;
}

/** One rule's run in an entry check (RuleState.latestExecution). */
export interface RuleRun {
  readonly ruleName: string;
  readonly ruleExecutionId: string;
  readonly status: RuleExecutionStatus;
  readonly lastStatusChange: Date;
}

/** The latest evaluation of a stage's `beforeEntry` conditions (StageState.beforeEntryConditionState). */
export interface EntryCheck {
  readonly pipelineExecutionId: string;
  readonly status: ConditionExecutionStatus;
  readonly conditions: readonly {
    readonly status: ConditionExecutionStatus;
    readonly lastStatusChange: Date;
    readonly rules: readonly RuleRun[];
  }[];
}

/**
 * A stage as the pipeline's current version declares it, with what ran in it. UpdatePipeline keeps
 * the record of a stage whose name stays (its latest execution and action runs remain) and replaces
 * its declared parts.
 */
export interface StageRecord {
  readonly name: string;
  index: number;
  actions: readonly ActionDeclaration[];
  /** Actions grouped by runOrder, ascending: a group runs in parallel. */
  groups: readonly (readonly ActionDeclaration[])[];
  beforeEntry?: BeforeEntryConditions | undefined;
  /** The latest evaluation of `beforeEntry`. */
  entryCheck?: EntryCheck | undefined;
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
  /** The current version's declaration. */
  declaration: PipelineDeclaration;
  /** Every version's declaration, for GetPipeline's `version`. */
  readonly versions: Map<number, PipelineDeclaration>;
  readonly created: Date;
  updated: Date;
  stages: readonly StageRecord[];
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
