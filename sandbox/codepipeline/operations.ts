import type {
  ActionState,
  CreatePipelineOutput,
  GetPipelineExecutionOutput,
  GetPipelineOutput,
  GetPipelineStateOutput,
  ListPipelineExecutionsOutput,
  ListPipelinesOutput,
  PipelineDeclaration,
  PipelineExecution,
  PipelineExecutionSummary,
  PutApprovalResultOutput,
  StageConditionState,
  StageState,
  StartPipelineExecutionOutput,
  StopPipelineExecutionOutput,
  UpdatePipelineOutput,
} from '@aws-sdk/client-codepipeline';
import { CodePipelineError, requireName, validationError } from './errors.ts';
import type { InvokeJobs } from './jobs.ts';
import type { EntryCheck, ExecutionRecord, PipelineRecord, StageRecord } from './records.ts';
import { isValidVariableName } from './structure.ts';
import type { World } from './world.ts';

export type Input = Record<string, unknown>;

/** Who is calling, as CodePipeline would record it in `lastUpdatedBy`. */
export interface CallContext {
  readonly caller: string;
}

export type Operation = (input: Input, context: CallContext) => unknown;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUMMARY_MAX = 512;
/** StopPipelineExecution `reason`: "Length Constraints: Maximum length of 200" (API reference). */
const STOP_REASON_MAX = 200;

/** The awsJson1_1 operations the emulator serves, keyed by the `X-Amz-Target` operation name. */
export function operations(
  world: World,
  arn: (pipelineName: string) => string,
  jobs: InvokeJobs,
): Record<string, Operation> {
  return {
    ListPipelines: (input): ListPipelinesOutput => {
      const maxResults = pageSize(input.maxResults, 1000);
      const after = readPageToken(input.nextToken);
      const all = world.pipelines();
      const start = after === undefined ? 0 : all.findIndex((p) => p.name > after);
      const page = start < 0 ? [] : all.slice(start, start + maxResults);
      const last = page.at(-1);
      const more = start >= 0 && start + maxResults < all.length;
      return {
        pipelines: page.map((p) => ({
          name: p.name,
          version: p.declaration.version,
          pipelineType: p.declaration.pipelineType,
          executionMode: p.declaration.executionMode,
          created: p.created,
          updated: p.updated,
        })),
        ...(more && last ? { nextToken: pageToken(last.name) } : {}),
      };
    },

    // `version` picks an earlier version's declaration. For a version that does not exist the service
    // answers PipelineNotFoundException, not the modeled PipelineVersionNotFoundException ("a known
    // issue with the API", service team via aws/aws-sdk#558).
    GetPipeline: (input): GetPipelineOutput => {
      const pipeline = world.pipeline(requireName(input.name, 'name'));
      const declaration =
        input.version === undefined || input.version === null
          ? pipeline.declaration
          : pipeline.versions.get(input.version as number);
      if (!declaration) {
        throw new CodePipelineError(
          'PipelineNotFoundException',
          `Pipeline '${pipeline.name}' has no version ${String(input.version)}`,
        );
      }
      return {
        pipeline: declaration,
        metadata: { pipelineArn: arn(pipeline.name), created: pipeline.created, updated: pipeline.updated },
      };
    },

    GetPipelineState: (input): GetPipelineStateOutput => {
      const pipeline = world.pipeline(requireName(input.name, 'name'));
      return {
        pipelineName: pipeline.name,
        pipelineVersion: pipeline.declaration.version,
        stageStates: pipeline.stages.map(stageState),
        created: pipeline.created,
        updated: pipeline.updated,
      };
    },

    GetPipelineExecution: (input): GetPipelineExecutionOutput => {
      const pipelineName = requireName(input.pipelineName, 'pipelineName');
      const executionId = requireExecutionId(input.pipelineExecutionId);
      const pipeline = world.pipeline(pipelineName);
      return { pipelineExecution: pipelineExecution(pipeline, world.execution(pipelineName, executionId)) };
    },

    ListPipelineExecutions: (input): ListPipelineExecutionsOutput => {
      const pipeline = world.pipeline(requireName(input.pipelineName, 'pipelineName'));
      const maxResults = pageSize(input.maxResults, 100);
      const before = readPageToken(input.nextToken);
      const stageFilter = succeededInStage(input.filter);
      const newestFirst = pipeline.executions
        .filter((e) => before === undefined || e.seq < Number(before))
        .filter((e) => stageFilter === undefined || e.succeededStages.has(stageFilter))
        .reverse();
      const page = newestFirst.slice(0, maxResults);
      const last = page.at(-1);
      return {
        pipelineExecutionSummaries: page.map(executionSummary),
        ...(newestFirst.length > maxResults && last ? { nextToken: pageToken(String(last.seq)) } : {}),
      };
    },

    StartPipelineExecution: (input, { caller }): StartPipelineExecutionOutput => {
      const name = requireName(input.name, 'name');
      const clientRequestToken = optionalString(input.clientRequestToken, 'clientRequestToken');
      const execution = world.startExecution(
        name,
        {
          revisionId: sourceRevisionOverride(input.sourceRevisions),
          clientRequestToken,
          variables: variableOverrides(input.variables),
        },
        caller,
      );
      return { pipelineExecutionId: execution.id };
    },

    // Input and errors from the SDK's model (StopPipelineExecutionInput: pipelineName,
    // pipelineExecutionId, abandon, reason); the behaviour is World.stopExecution's.
    StopPipelineExecution: (input): StopPipelineExecutionOutput => {
      const pipelineName = requireName(input.pipelineName, 'pipelineName');
      const executionId = requireExecutionId(input.pipelineExecutionId);
      const abandon = input.abandon ?? false;
      if (typeof abandon !== 'boolean') throw validationError("Value at 'abandon' must be a boolean");
      const reason = input.reason ?? undefined;
      if (reason !== undefined && (typeof reason !== 'string' || reason.length > STOP_REASON_MAX)) {
        throw validationError(
          `1 validation error detected: Value at 'reason' failed to satisfy constraint: Member must have length less than or equal to ${STOP_REASON_MAX}`,
        );
      }
      const execution = world.stopExecution(pipelineName, executionId, { abandon, reason });
      return { pipelineExecutionId: execution.id };
    },

    PutApprovalResult: (input, { caller }): PutApprovalResultOutput => {
      const pipelineName = requireName(input.pipelineName, 'pipelineName');
      const stageName = requireName(input.stageName, 'stageName');
      const actionName = requireName(input.actionName, 'actionName');
      const result = (input.result ?? {}) as Input;
      const summary = result.summary;
      if (typeof summary !== 'string')
        throw validationError("Value null at 'result.summary' failed to satisfy constraint: Member must not be null");
      if (summary.length > SUMMARY_MAX) {
        throw validationError(
          `1 validation error detected: Value at 'result.summary' failed to satisfy constraint: Member must have length less than or equal to ${SUMMARY_MAX}`,
        );
      }
      const status = result.status;
      if (status !== 'Approved' && status !== 'Rejected') {
        throw validationError(
          `1 validation error detected: Value '${String(status)}' at 'result.status' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected]`,
        );
      }
      const token = input.token;
      if (typeof token !== 'string' || !UUID.test(token)) {
        throw validationError(
          `1 validation error detected: Value '${String(token)}' at 'token' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
        );
      }
      const approvedAt = world.putApprovalResult(
        { pipelineName, stageName, actionName, token, status, summary },
        caller,
      );
      return { approvedAt };
    },

    CreatePipeline: (input): CreatePipelineOutput => {
      if (typeof input.pipeline !== 'object' || input.pipeline === null) throw validationError('pipeline is required');
      const pipeline = world.createPipeline(input.pipeline as PipelineDeclaration);
      return { pipeline, tags: Array.isArray(input.tags) ? input.tags : [] };
    },

    // UpdatePipelineInput { pipeline } (required), UpdatePipelineOutput { pipeline }: the structure
    // with its version incremented; the behaviour is World.updatePipeline's.
    UpdatePipeline: (input): UpdatePipelineOutput => {
      if (typeof input.pipeline !== 'object' || input.pipeline === null) {
        throw validationError(
          "1 validation error detected: Value null at 'pipeline' failed to satisfy constraint: Member must not be null",
        );
      }
      const declaration = input.pipeline as PipelineDeclaration;
      requireName(declaration.name, 'pipeline.name');
      return { pipeline: world.updatePipeline(declaration) };
    },

    // A Lambda invoke action reports its job's result, once: the job must exist (JobNotFoundException)
    // and still be running (InvalidJobStateException). GetJobDetails is not served: the API reference
    // gives it to custom actions only, and what it answers for a Lambda job is not documented.
    PutJobSuccessResult: (input) => {
      const jobId = requireJobId(input.jobId);
      const token = input.continuationToken;
      if (token !== undefined && (typeof token !== 'string' || token.length < 1 || token.length > 2048))
        throw validationError('continuationToken must be 1 to 2048 characters');
      jobs.succeeded(jobId, token as string | undefined);
      return {};
    },

    PutJobFailureResult: (input) => {
      const jobId = requireJobId(input.jobId);
      const details = (input.failureDetails ?? {}) as Input;
      if (!JOB_FAILURE_TYPES.includes(String(details.type)))
        throw validationError(`failureDetails.type must be one of ${JOB_FAILURE_TYPES.join(', ')}`);
      if (typeof details.message !== 'string' || details.message.length < 1 || details.message.length > 5000)
        throw validationError('failureDetails.message must be 1 to 5000 characters');
      jobs.failed(jobId);
      return {};
    },
  };
}

function stageState(stage: StageRecord): StageState {
  const inbound = stage.inbound ? { pipelineExecutionId: stage.inbound.id, status: 'InProgress' as const } : undefined;
  return {
    stageName: stage.name,
    ...(inbound ? { inboundExecution: inbound, inboundExecutions: [inbound] } : {}),
    inboundTransitionState: { enabled: true },
    actionStates: stage.actions.map((action) => actionState(stage, action.name as string)),
    ...(stage.run
      ? { latestExecution: { pipelineExecutionId: stage.run.execution.id, status: stage.run.status } }
      : {}),
    ...(stage.beforeEntry && stage.entryCheck
      ? { beforeEntryConditionState: conditionState(stage.beforeEntry.conditions?.[0]?.rules ?? [], stage.entryCheck) }
      : {}),
  };
}

/**
 * StageState.beforeEntryConditionState as the SDK's model shapes it: StageConditionState
 * { latestExecution: StageConditionsExecution { status }, conditionStates: [ConditionState
 * { latestExecution: ConditionExecution { status, lastStatusChange }, ruleStates: [RuleState
 * { ruleName, latestExecution: RuleExecution { ruleExecutionId, status, lastStatusChange } }] }] }.
 * Rules the current version no longer declares are left out, like actions.
 */
function conditionState(declared: readonly { name?: string | undefined }[], check: EntryCheck): StageConditionState {
  const names = new Set(declared.map((rule) => rule.name));
  return {
    latestExecution: { status: check.status },
    conditionStates: check.conditions.map((condition) => ({
      latestExecution: { status: condition.status, lastStatusChange: condition.lastStatusChange },
      ruleStates: condition.rules
        .filter((rule) => names.has(rule.ruleName))
        .map((rule) => ({
          ruleName: rule.ruleName,
          latestExecution: {
            ruleExecutionId: rule.ruleExecutionId,
            status: rule.status,
            lastStatusChange: rule.lastStatusChange,
          },
        })),
    })),
  };
}

function actionState(stage: StageRecord, actionName: string): ActionState {
  const run = stage.latestActionRuns.get(actionName);
  if (!run) return { actionName };
  return {
    actionName,
    ...(run.revision
      ? {
          currentRevision: {
            revisionId: run.revision.revisionId,
            revisionChangeId: run.revision.revisionId,
            created: run.revision.created,
          },
        }
      : {}),
    latestExecution: {
      actionExecutionId: run.actionExecutionId,
      status: run.status,
      ...(run.summary === undefined ? {} : { summary: run.summary }),
      lastStatusChange: run.lastStatusChange,
      // The token is shown only while the approval can still be answered.
      ...(run.token !== undefined && run.status === 'InProgress' ? { token: run.token } : {}),
      ...(run.lastUpdatedBy === undefined ? {} : { lastUpdatedBy: run.lastUpdatedBy }),
      ...(run.errorDetails === undefined ? {} : { errorDetails: run.errorDetails }),
    },
  };
}

const artifactRevision = (execution: ExecutionRecord) => ({
  name: 'SourceArtifact',
  revisionId: execution.revision.revisionId,
  revisionChangeIdentifier: execution.revision.revisionId,
  ...(execution.revision.summary === undefined ? {} : { revisionSummary: execution.revision.summary }),
  created: execution.revision.created,
});

function pipelineExecution(pipeline: PipelineRecord, execution: ExecutionRecord): PipelineExecution {
  const variables = [...execution.variables].map(([name, resolvedValue]) => ({ name, resolvedValue }));
  return {
    pipelineName: pipeline.name,
    // "The version number of the pipeline with the specified pipeline execution": the version it ran on.
    pipelineVersion: execution.pipelineVersion,
    pipelineExecutionId: execution.id,
    status: execution.status,
    ...(execution.statusSummary === undefined ? {} : { statusSummary: execution.statusSummary }),
    artifactRevisions: [artifactRevision(execution)],
    ...(variables.length > 0 ? { variables } : {}),
    trigger: execution.trigger,
    executionMode: 'SUPERSEDED',
    executionType: 'STANDARD',
  };
}

function executionSummary(execution: ExecutionRecord): PipelineExecutionSummary {
  return {
    pipelineExecutionId: execution.id,
    status: execution.status,
    ...(execution.statusSummary === undefined ? {} : { statusSummary: execution.statusSummary }),
    startTime: execution.startTime,
    lastUpdateTime: execution.lastUpdateTime,
    // PipelineExecutionSummary.sourceRevisions (SourceRevision: actionName, revisionId,
    // revisionSummary, revisionUrl in @aws-sdk/client-codepipeline's model): the same revision
    // GetPipelineExecution gives as artifactRevisions, so a reader of the list needs no lookup.
    sourceRevisions: [
      {
        actionName: 'Source',
        revisionId: execution.revision.revisionId,
        ...(execution.revision.summary === undefined ? {} : { revisionSummary: execution.revision.summary }),
      },
    ],
    trigger: execution.trigger,
    // PipelineExecutionSummary.stopTrigger: "The interaction that stopped a pipeline execution"
    // (StopExecutionTrigger: the user-specified `reason`).
    ...(execution.stop
      ? { stopTrigger: execution.stop.reason === undefined ? {} : { reason: execution.stop.reason } }
      : {}),
    executionMode: 'SUPERSEDED',
    executionType: 'STANDARD',
  };
}

function pageSize(value: unknown, max: number): number {
  if (value === undefined || value === null) return Math.min(100, max);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw validationError(
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    );
  }
  return value;
}

/** Page tokens are opaque to callers: the position after which the next page starts. */
const pageToken = (position: string) => Buffer.from(JSON.stringify({ after: position })).toString('base64url');

function readPageToken(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    const { after } = JSON.parse(Buffer.from(String(value), 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // falls through to the service's error for a token it did not issue
  }
  throw new CodePipelineError('InvalidNextTokenException', 'The next token was specified in an invalid format');
}

const JOB_FAILURE_TYPES = [
  'JobFailed',
  'ConfigurationError',
  'PermissionError',
  'RevisionOutOfSync',
  'RevisionUnavailable',
  'SystemUnavailable',
];

function requireJobId(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw validationError(
      `1 validation error detected: Value '${String(value)}' at 'jobId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
    );
  }
  return value;
}

function requireExecutionId(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw validationError(
      `1 validation error detected: Value '${String(value)}' at 'pipelineExecutionId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-f-]{36}`,
    );
  }
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw validationError(
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and 128`,
    );
  }
  return value;
}

function succeededInStage(filter: unknown): string | undefined {
  if (typeof filter !== 'object' || filter === null) return undefined;
  const stage = (filter as { succeededInStage?: { stageName?: unknown } }).succeededInStage?.stageName;
  return stage === undefined ? undefined : requireName(stage, 'filter.succeededInStage.stageName');
}

/**
 * StartPipelineExecutionInput.variables: "Variable names must match [A-Za-z0-9@\-_]+, and the values
 * can be anything except an empty string" (the SDK's model); PipelineVariable.value is at most 1000
 * characters (API reference).
 */
function variableOverrides(value: unknown): { name: string; value: string }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw validationError('variables must be a list');
  const seen = new Set<string>();
  return value.map((entry: unknown) => {
    const { name, value: given } = (entry ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== 'string' || !isValidVariableName(name)) {
      throw validationError(
        `1 validation error detected: Value '${String(name)}' at 'variables.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9@\\-_]+`,
      );
    }
    if (typeof given !== 'string' || given.length < 1 || given.length > 1000) {
      throw validationError(
        "1 validation error detected: Value at 'variables.member.value' failed to satisfy constraint: Member must have length between 1 and 1000",
      );
    }
    if (seen.has(name)) throw validationError(`Pipeline variable ${name} is given more than once`);
    seen.add(name);
    return { name, value: given };
  });
}

/** The emulated pipelines have one source action, so at most one override applies. */
function sourceRevisionOverride(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const [override] = value as Array<{ revisionValue?: unknown }>;
  if (typeof override?.revisionValue !== 'string')
    throw validationError('sourceRevisions[0].revisionValue is required');
  return override.revisionValue;
}
