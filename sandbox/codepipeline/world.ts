import { randomBytes, randomUUID } from 'node:crypto';
import type {
  ActionCategory,
  ActionDeclaration,
  ExecutionTrigger,
  PipelineDeclaration,
  RuleDeclaration,
  StageDeclaration,
} from '@aws-sdk/client-codepipeline';
import { CodePipelineError, validationError } from './errors.ts';
import type { PendingApprovalFacts } from './notification.ts';
import type {
  ActionRun,
  ApprovalAnswer,
  EntryCheck,
  ExecutionRecord,
  PendingApproval,
  PipelineRecord,
  Revision,
  RuleRun,
  StageRecord,
  StageRun,
  StopRequest,
} from './records.ts';
import type { EmulatorClock, Log, WorkTracker } from './scheduler.ts';
import {
  categoryOf,
  DEFAULT_APPROVAL_TIMEOUT_MINUTES,
  isManualApproval,
  normalizeDeclaration,
  stageShape,
  variableOf,
} from './structure.ts';

/** What the world needs from its host (index.ts): time, background work, delays, outbound notifications. */
export interface WorldDeps {
  readonly region: string;
  readonly accountId: string;
  readonly clock: EmulatorClock;
  readonly work: WorkTracker;
  readonly log: Log;
  readonly actionDelayMs: (category: ActionCategory) => number;
  readonly notifyApproval: (facts: PendingApprovalFacts) => void;
  readonly changed: (pipelineName: string) => void;
  /** Told of every non-approval action that succeeded (the sandbox's CloudFormation emulator creates change sets on it). */
  readonly actionSucceeded?: (facts: SucceededAction) => void;
}

/** A non-approval action that just succeeded, and the source revision its execution carries. */
export interface SucceededAction {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly action: ActionDeclaration;
  readonly revisionId: string;
}

/** Why a token is no longer pending: answered tokens get their own error (see putApprovalResult). */
type TokenFate = 'pending' | 'answered' | 'expired' | 'abandoned';

/** What PutApprovalResult answers for a token already answered: the API reference allows both. */
export type AnsweredTokenError = 'ApprovalAlreadyCompletedException' | 'InvalidApprovalTokenException';

interface IssuedToken {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly actionName: string;
  fate: TokenFate;
}

interface LiveApproval {
  readonly pipeline: PipelineRecord;
  readonly stage: StageRecord;
  readonly actionName: string;
  readonly run: ActionRun;
}

/**
 * The pipelines and their executions, run with CodePipeline's SUPERSEDED semantics:
 * one execution per stage; an execution that finishes a stage enters the next one if it is free or
 * waits at its inbound transition, where a newer arrival supersedes it; a manual approval holds its
 * stage until answered or expired; a failed action fails its stage and execution and frees the stage;
 * a stopped execution frees its stage once its in-progress actions are done or abandoned.
 *
 * Statuses as the SDK's enums name them (PipelineExecutionStatus, StageExecutionStatus,
 * ActionExecutionStatus in @aws-sdk/client-codepipeline): executions are InProgress, Stopping,
 * Stopped, Succeeded, Superseded, Cancelled or Failed; stages InProgress, Stopping, Stopped,
 * Succeeded, Cancelled, Skipped or Failed; actions InProgress, Abandoned, Succeeded or Failed. A
 * superseded execution never entered the stage it waited for, so no stage reports it (it leaves the
 * inbound slot). `Cancelled` comes from UpdatePipeline (see updatePipeline), `Skipped` from a stage's
 * `beforeEntry` condition with result SKIP (see #checkEntry).
 */
export class World {
  readonly #pipelines = new Map<string, PipelineRecord>();
  readonly #executions = new Map<string, ExecutionRecord>();
  readonly #tokens = new Map<string, IssuedToken>();
  /** Keyed by token. */
  readonly #pendingApprovals = new Map<string, LiveApproval>();
  readonly #failuresToInject = new Map<string, number>();
  #nextSeq = 1;
  /** The error for a token already answered (see putApprovalResult). */
  answeredTokenError: AnsweredTokenError = 'ApprovalAlreadyCompletedException';

  constructor(private readonly deps: WorldDeps) {}

  createPipeline(input: PipelineDeclaration): PipelineDeclaration {
    const declaration = normalizeDeclaration(input, this.deps.accountId);
    const name = declaration.name as string;
    if (this.#pipelines.has(name)) {
      throw new CodePipelineError('PipelineNameInUseException', `Pipeline with name '${name}' already exists`);
    }
    const now = this.deps.clock.now();
    this.#pipelines.set(name, {
      name,
      declaration,
      versions: new Map([[1, declaration]]),
      created: now,
      updated: now,
      stages: stageRecords(declaration, new Map()),
      executions: [],
      executionsByRequestToken: new Map(),
    });
    this.deps.changed(name);
    return declaration;
  }

  /**
   * UpdatePipeline: the full declaration replaces the current one as the next version ("Updating the
   * pipeline increases the version number of the pipeline by 1", the SDK's UpdatePipelineCommand
   * doc); a `version` in the input is not checked (the AWS CLI's update-pipeline example sends
   * version 1 and gets version 3 back, aws/aws-cli awscli/examples/codepipeline/update-pipeline.rst).
   * The name identifies the pipeline ("The pipeline name cannot be changed", same example). The SDK's
   * model lists no PipelineNotFoundException for this operation; for an unknown name the emulator
   * answers as every other operation that takes a pipeline name does.
   *
   * Executions that are not complete: "When you update a pipeline, CodePipeline gracefully completes
   * all the running actions and then fails the stages and pipeline executions where the running
   * actions were completed" (user guide, pipelines-edit.html, "Edit a pipeline (console)"), and the
   * status for that is `Cancelled` ("The pipeline's definition was updated before the pipeline
   * execution could be completed", PipelineExecution.status; "the pipeline's definition was updated
   * before the stage execution could be completed", StageExecution.status; "The pipeline execution
   * was canceled because the pipeline structure was updated", doc_source/
   * detect-state-changes-cloudwatch-events.md). So an execution running in a stage keeps its running
   * actions — a waiting manual approval keeps its token and can still be answered or expire (an
   * approval whose action or stage the new version removed can only expire: PutApprovalResult looks
   * its stage and action up in the current version) — starts nothing after them, and then its stage
   * and the execution are `Cancelled`; the stage stays locked until then. An execution waiting at an
   * inbound transition has no running action: it is `Cancelled` at once and leaves the transition.
   * A stopping execution goes on stopping and ends `Stopped`. Nothing reruns: "editing a pipeline
   * does not rerun the most recent revision through the pipeline" (pipelines-edit.html).
   */
  updatePipeline(input: PipelineDeclaration): PipelineDeclaration {
    const pipeline = this.pipeline(typeof input.name === 'string' ? input.name : '');
    const version = (pipeline.declaration.version ?? 1) + 1;
    const declaration = normalizeDeclaration(input, this.deps.accountId, version);
    // Runs already under way would go on as SUPERSEDED ones in a pipeline now shown as another mode.
    if (
      declaration.executionMode !== 'SUPERSEDED' &&
      pipeline.executions.some((execution) => execution.status === 'InProgress')
    )
      throw new CodePipelineError(
        'ValidationException',
        `The emulator runs SUPERSEDED pipelines only; ${pipeline.name} has executions in progress`,
      );
    const now = this.deps.clock.now();
    const cancelling: StageRecord[] = [];
    for (const execution of pipeline.executions) {
      if (execution.status !== 'InProgress') continue;
      const runningIn = pipeline.stages.find(
        (stage) => stage.run?.execution === execution && stage.run.status === 'InProgress',
      );
      if (runningIn) {
        execution.cancelledBy = { version };
        cancelling.push(runningIn);
        continue;
      }
      for (const stage of pipeline.stages) if (stage.inbound === execution) stage.inbound = undefined;
      execution.status = 'Cancelled';
      execution.lastUpdateTime = now;
    }
    pipeline.declaration = declaration;
    pipeline.versions.set(version, declaration);
    pipeline.updated = now;
    pipeline.stages = stageRecords(declaration, new Map(pipeline.stages.map((stage) => [stage.name, stage])));
    for (const stage of cancelling) this.#actionFinished(pipeline, stage);
    this.deps.changed(pipeline.name);
    return declaration;
  }

  /** Every pipeline, by name. */
  pipelines(): PipelineRecord[] {
    return [...this.#pipelines.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  pipeline(name: string): PipelineRecord {
    const pipeline = this.#pipelines.get(name);
    if (!pipeline) {
      const message = `Account '${this.deps.accountId}' does not have a pipeline with name '${name}'`;
      throw new CodePipelineError('PipelineNotFoundException', message);
    }
    return pipeline;
  }

  execution(pipelineName: string, executionId: string): ExecutionRecord {
    const pipeline = this.pipeline(pipelineName);
    const execution = this.#executions.get(executionId);
    if (!execution || execution.pipelineName !== pipeline.name) {
      throw new CodePipelineError(
        'PipelineExecutionNotFoundException',
        `Pipeline execution with id '${executionId}' does not exist in pipeline with name '${pipelineName}'`,
      );
    }
    return execution;
  }

  /** A source change: starts an execution carrying `revision`, as a webhook-triggered run would. */
  commit(pipelineName: string, revision: { revisionId: string; summary?: string | undefined }): ExecutionRecord {
    const pipeline = this.pipeline(pipelineName);
    const sourceRevision = { ...revision, created: this.deps.clock.now() };
    pipeline.lastRevision = sourceRevision;
    return this.#start(pipeline, sourceRevision, { triggerType: 'Webhook', triggerDetail: 'emulator commit' }, []);
  }

  /**
   * StartPipelineExecution: re-runs the latest source revision (or the one given), like the real
   * service re-fetching the head of the branch. A repeated client request token returns the same run.
   */
  startExecution(
    pipelineName: string,
    request: {
      revisionId?: string | undefined;
      clientRequestToken?: string | undefined;
      variables?: readonly { name: string; value: string }[] | undefined;
    },
    caller: string,
  ): ExecutionRecord {
    const pipeline = this.pipeline(pipelineName);
    const token = request.clientRequestToken;
    const earlier = token === undefined ? undefined : pipeline.executionsByRequestToken.get(token);
    if (earlier) return earlier;
    const variables = request.variables ?? [];
    const declared = new Set((pipeline.declaration.variables ?? []).map((variable) => variable.name));
    const unknown = variables.find((variable) => !declared.has(variable.name));
    // Overrides are for declared pipeline-level variables ("A list that overrides pipeline variables",
    // StartPipelineExecutionInput.variables); the emulator refuses an undeclared one.
    if (unknown) throw validationError(`Pipeline variable ${unknown.name} is not declared in pipeline ${pipelineName}`);
    const now = this.deps.clock.now();
    const revision: Revision =
      request.revisionId !== undefined
        ? { revisionId: request.revisionId, created: now }
        : (pipeline.lastRevision ?? {
            revisionId: randomBytes(20).toString('hex'),
            summary: 'Emulated source change',
            created: now,
          });
    pipeline.lastRevision = revision;
    const execution = this.#start(
      pipeline,
      revision,
      { triggerType: 'StartPipelineExecution', triggerDetail: caller },
      variables,
    );
    if (token !== undefined) pipeline.executionsByRequestToken.set(token, execution);
    return execution;
  }

  /**
   * Answers a pending manual approval. Rule for the two "too late" errors (CodePipeline documents
   * both loosely): a token that was answered (approved or rejected) gives
   * ApprovalAlreadyCompletedException ("has already been approved or rejected"), or, with
   * `answeredTokenError`, InvalidApprovalTokenException, which the API reference words "already
   * received a response or has expired"; any other token that is not the action's pending one —
   * unknown, expired, abandoned, or for another action — gives InvalidApprovalTokenException.
   */
  putApprovalResult(answer: ApprovalAnswer, caller: string): Date {
    const pipeline = this.pipeline(answer.pipelineName);
    const stage = pipeline.stages.find((s) => s.name === answer.stageName);
    if (!stage) {
      throw new CodePipelineError(
        'StageNotFoundException',
        `Stage '${answer.stageName}' not found in pipeline '${answer.pipelineName}'`,
      );
    }
    if (!stage.actions.some((a) => a.name === answer.actionName)) {
      throw new CodePipelineError(
        'ActionNotFoundException',
        `Action '${answer.actionName}' not found in stage '${answer.stageName}'`,
      );
    }
    const live = this.#pendingApprovals.get(answer.token);
    if (!live || live.stage !== stage || live.actionName !== answer.actionName) {
      const issued = this.#tokens.get(answer.token);
      const sameAction =
        issued?.pipelineName === pipeline.name &&
        issued.stageName === stage.name &&
        issued.actionName === answer.actionName;
      if (sameAction && issued.fate === 'answered' && this.answeredTokenError === 'ApprovalAlreadyCompletedException') {
        throw new CodePipelineError(
          'ApprovalAlreadyCompletedException',
          'The approval action has already been approved or rejected',
        );
      }
      throw new CodePipelineError(
        'InvalidApprovalTokenException',
        `The token '${answer.token}' is not valid for this approval request`,
      );
    }
    const now = this.deps.clock.now();
    this.#closeApproval(live, 'answered');
    live.run.status = answer.status === 'Approved' ? 'Succeeded' : 'Failed';
    live.run.summary = answer.summary;
    live.run.lastUpdatedBy = caller;
    live.run.lastStatusChange = now;
    this.#actionFinished(pipeline, stage);
    this.deps.changed(pipeline.name);
    return now;
  }

  /**
   * StopPipelineExecution (docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-stop.html,
   * awsdocs/aws-codepipeline-user-guide doc_source/pipelines-stop.md):
   * - stop and wait: the execution (and its stage) is `Stopping` while its in-progress actions go on
   *   to `Succeeded` or `Failed` — a waiting manual approval keeps its token and can still be answered
   *   or expire; no later action or stage starts; then the execution and stage are `Stopped` and the
   *   stage unlocks;
   * - stop and abandon: `Stopping` "for a very short time" (here: until the next turn of the event
   *   loop), then in-progress actions are `Abandoned` (an approval's token is then invalid), the
   *   execution and stage `Stopped`, and the stage unlocks;
   * - an execution waiting at an inbound transition can be stopped too ("You can also stop a pipeline
   *   execution that is an inbound execution", same page): nothing of it runs, so it is `Stopped` at
   *   once and leaves the transition.
   * Errors as the SDK's model lists them for this operation: stop-and-wait again, or abandon again,
   * while `Stopping` gives DuplicatedStopRequestException (stop-and-wait then abandon is allowed);
   * an execution that is not in progress gives PipelineExecutionNotStoppableException ("The
   * execution might already be in a Stopped state, or it might no longer be in progress"). The model
   * lists no PipelineExecutionNotFoundException for this operation, so an unknown id gets that too.
   */
  stopExecution(pipelineName: string, executionId: string, request: StopRequest): ExecutionRecord {
    const pipeline = this.pipeline(pipelineName);
    const execution = this.#executions.get(executionId);
    if (!execution || execution.pipelineName !== pipeline.name) {
      throw new CodePipelineError(
        'PipelineExecutionNotStoppableException',
        `Pipeline execution with id '${executionId}' does not exist in pipeline with name '${pipelineName}'`,
      );
    }
    if (execution.status === 'Stopping') {
      if (execution.stop?.abandon || !request.abandon) {
        throw new CodePipelineError(
          'DuplicatedStopRequestException',
          `Pipeline execution '${executionId}' is already stopping`,
        );
      }
    } else if (execution.status !== 'InProgress') {
      throw new CodePipelineError(
        'PipelineExecutionNotStoppableException',
        `Pipeline execution '${executionId}' is ${execution.status} and cannot be stopped`,
      );
    }
    const reason = request.reason ?? execution.stop?.reason;
    execution.stop = { abandon: request.abandon, ...(reason === undefined ? {} : { reason }) };
    execution.status = 'Stopping';
    execution.lastUpdateTime = this.deps.clock.now();
    const waitingAt = pipeline.stages.find((stage) => stage.inbound === execution);
    const runningIn = pipeline.stages.find(
      (stage) => stage.run?.execution === execution && isLocking(stage.run.status),
    );
    if (waitingAt) waitingAt.inbound = undefined;
    if (!runningIn) {
      execution.status = 'Stopped';
    } else if (request.abandon) {
      const stageRun = runningIn.run;
      if (stageRun) stageRun.status = 'Stopping';
      this.deps.work.later(0, () => {
        if (runningIn.run !== stageRun || stageRun?.status !== 'Stopping') return;
        const group = stageRun.groups[stageRun.group] ?? [];
        this.#abandon(
          pipeline,
          group.map((action) => runningIn.latestActionRuns.get(action.name as string)),
        );
        this.#actionFinished(pipeline, runningIn);
        this.deps.changed(pipeline.name);
      });
    } else {
      const stageRun = runningIn.run;
      if (stageRun) stageRun.status = 'Stopping';
      this.#actionFinished(pipeline, runningIn);
    }
    this.deps.changed(pipeline.name);
    return execution;
  }

  /** Makes the next `times` runs of a (non-approval) action fail. */
  failNext(pipelineName: string, stageName: string, actionName: string, times = 1): void {
    const stage = this.pipeline(pipelineName).stages.find((s) => s.name === stageName);
    const action = stage?.actions.find((a) => a.name === actionName);
    if (!action) throw new Error(`No action ${pipelineName}/${stageName}/${actionName}`);
    if (isManualApproval(action)) throw new Error('A manual approval fails by being rejected: use PutApprovalResult');
    const key = actionKey(pipelineName, stageName, actionName);
    this.#failuresToInject.set(key, (this.#failuresToInject.get(key) ?? 0) + times);
  }

  pendingApprovals(): PendingApproval[] {
    return [...this.#pendingApprovals.entries()].map(([token, live]) => ({
      pipelineName: live.pipeline.name,
      stageName: live.stage.name,
      actionName: live.actionName,
      token,
      revisionId: this.#executions.get(live.run.executionId)?.revision.revisionId ?? '',
      pipelineExecutionId: live.run.executionId,
      expiresAt: live.run.expiresAt ?? this.deps.clock.now(),
    }));
  }

  /** Fails approvals whose timeout has passed on the emulator clock. */
  expireApprovals(): void {
    const now = this.deps.clock.now();
    for (const live of [...this.#pendingApprovals.values()]) {
      if (!live.run.expiresAt || live.run.expiresAt.getTime() > now.getTime()) continue;
      this.#closeApproval(live, 'expired');
      live.run.status = 'Failed';
      live.run.lastStatusChange = now;
      live.run.errorDetails = {
        code: 'JobFailed',
        message: 'The approval request expired before it was approved or rejected',
      };
      this.#actionFinished(live.pipeline, live.stage);
      this.deps.changed(live.pipeline.name);
    }
  }

  #start(
    pipeline: PipelineRecord,
    revision: Revision,
    trigger: ExecutionTrigger,
    overrides: readonly { name: string; value: string }[],
  ): ExecutionRecord {
    const mode = pipeline.declaration.executionMode ?? 'SUPERSEDED';
    // The emulator runs executions as a SUPERSEDED pipeline does; another mode is refused, not run differently.
    if (mode !== 'SUPERSEDED')
      throw new CodePipelineError(
        'ValidationException',
        `The emulator runs SUPERSEDED pipelines only; ${pipeline.name} is ${mode}`,
      );
    const now = this.deps.clock.now();
    const variables = new Map<string, string>();
    for (const variable of pipeline.declaration.variables ?? []) {
      if (variable.name !== undefined && variable.defaultValue !== undefined)
        variables.set(variable.name, variable.defaultValue);
    }
    for (const { name, value } of overrides) variables.set(name, value);
    const execution: ExecutionRecord = {
      id: randomUUID(),
      seq: this.#nextSeq++,
      pipelineName: pipeline.name,
      revision,
      trigger,
      startTime: now,
      pipelineVersion: pipeline.declaration.version ?? 1,
      variables,
      status: 'InProgress',
      lastUpdateTime: now,
      succeededStages: new Set(),
    };
    pipeline.executions.push(execution);
    this.#executions.set(execution.id, execution);
    this.#arrive(pipeline, execution, 0);
    this.deps.changed(pipeline.name);
    return execution;
  }

  /** An execution reaches a stage's inbound transition: it enters, or waits and maybe supersedes. */
  #arrive(pipeline: PipelineRecord, execution: ExecutionRecord, stageIndex: number): void {
    const stage = pipeline.stages[stageIndex];
    if (!stage) return;
    // A stopping execution keeps the stage locked until its in-progress actions are done.
    if (!stage.run || !isLocking(stage.run.status)) {
      this.#enter(pipeline, stage, execution);
      return;
    }
    const waiting = stage.inbound;
    if (!waiting) {
      stage.inbound = execution;
      return;
    }
    const [older, newer] = waiting.seq < execution.seq ? [waiting, execution] : [execution, waiting];
    stage.inbound = newer;
    stage.lastSuperseded = older;
    older.status = 'Superseded';
    older.statusSummary = `Superseded by ${newer.id} at the transition into ${stage.name}`;
    older.lastUpdateTime = this.deps.clock.now();
  }

  #enter(pipeline: PipelineRecord, stage: StageRecord, execution: ExecutionRecord): void {
    stage.run = { execution, status: 'InProgress', groups: stage.groups, group: 0 };
    execution.lastUpdateTime = this.deps.clock.now();
    const entry = this.#checkEntry(stage, execution);
    if (entry === 'SKIP') {
      this.#finishStage(pipeline, stage, 'Skipped');
    } else if (entry === 'FAIL') {
      this.#finishStage(pipeline, stage, 'Failed');
    } else {
      this.#startGroup(pipeline, stage, 0);
    }
  }

  /**
   * Evaluates the stage's `beforeEntry` condition as the execution enters, and returns its result
   * when it fails (undefined: enter). "If all rules in a condition succeed, then the condition is
   * met… if one rule fails in the condition, then the condition fails" (user guide,
   * stage-conditions.html); with SKIP, "If the rule fails, the condition fails and the stage where the
   * condition is configured will fail, resulting in the stage being skipped" (What's New, 2024-10,
   * "AWS CodePipeline introduces skipping stage"), and the execution goes on to the next stage; with
   * FAIL the stage fails. The emulator evaluates at once, when the execution enters the unlocked
   * stage, and only VariableCheck rules on pipeline-level variables (structure.ts): the rule passes
   * "when the variable value meets the rule criteria" (user guide, rule-reference-VariableCheck); an
   * unresolved variable (declared without a default and not given at start) fails the rule.
   */
  #checkEntry(stage: StageRecord, execution: ExecutionRecord): 'FAIL' | 'SKIP' | undefined {
    const condition = stage.beforeEntry?.conditions?.[0];
    if (!condition) return undefined;
    const now = this.deps.clock.now();
    const rules = (condition.rules ?? []).map(
      (rule): RuleRun => ({
        ruleName: rule.name as string,
        ruleExecutionId: randomUUID(),
        status: variableCheck(rule, execution.variables) ? 'Succeeded' : 'Failed',
        lastStatusChange: now,
      }),
    );
    const status = rules.every((rule) => rule.status === 'Succeeded') ? 'Succeeded' : 'Failed';
    const check: EntryCheck = {
      pipelineExecutionId: execution.id,
      status,
      conditions: [{ status, lastStatusChange: now, rules }],
    };
    stage.entryCheck = check;
    if (status === 'Succeeded') return undefined;
    // Condition.result is optional in the model; an entry condition without one is taken as FAIL.
    return condition.result === 'SKIP' ? 'SKIP' : 'FAIL';
  }

  #startGroup(pipeline: PipelineRecord, stage: StageRecord, group: number): void {
    const run = stage.run;
    if (!run) return;
    run.group = group;
    for (const action of run.groups[group] ?? []) this.#startAction(pipeline, stage, run, action);
  }

  #startAction(pipeline: PipelineRecord, stage: StageRecord, stageRun: StageRun, action: ActionDeclaration): void {
    const actionName = action.name as string;
    const run: ActionRun = {
      actionExecutionId: randomUUID(),
      executionId: stageRun.execution.id,
      status: 'InProgress',
      lastStatusChange: this.deps.clock.now(),
    };
    stage.latestActionRuns.set(actionName, run);
    if (isManualApproval(action)) {
      this.#openApproval(pipeline, stage, action, run);
      return;
    }
    this.deps.work.later(this.deps.actionDelayMs(categoryOf(action)), () => {
      // The run may have been abandoned (its stage failed) while this step waited.
      if (run.status !== 'InProgress' || stage.run !== stageRun) return;
      this.#completeAction(pipeline, stage, action, run);
      this.#actionFinished(pipeline, stage);
      this.deps.changed(pipeline.name);
    });
  }

  #completeAction(pipeline: PipelineRecord, stage: StageRecord, action: ActionDeclaration, run: ActionRun): void {
    const key = actionKey(pipeline.name, stage.name, action.name as string);
    const failures = this.#failuresToInject.get(key) ?? 0;
    run.lastStatusChange = this.deps.clock.now();
    if (failures > 0) {
      this.#failuresToInject.set(key, failures - 1);
      run.status = 'Failed';
      run.errorDetails = { code: 'JobFailed', message: `Injected failure of ${action.name}` };
      return;
    }
    run.status = 'Succeeded';
    const execution = stage.run?.execution;
    if (execution)
      this.deps.actionSucceeded?.({
        pipelineName: pipeline.name,
        stageName: stage.name,
        action,
        revisionId: execution.revision.revisionId,
      });
    if (categoryOf(action) === 'Source') {
      const revision = stage.run?.execution.revision;
      if (revision) {
        run.revision = revision;
        if (revision.summary !== undefined) run.summary = revision.summary;
      }
    }
  }

  #openApproval(pipeline: PipelineRecord, stage: StageRecord, action: ActionDeclaration, run: ActionRun): void {
    const token = randomUUID();
    const timeoutMinutes = action.timeoutInMinutes ?? DEFAULT_APPROVAL_TIMEOUT_MINUTES;
    const expiresAt = new Date(run.lastStatusChange.getTime() + timeoutMinutes * 60_000);
    const actionName = action.name as string;
    run.token = token;
    run.expiresAt = expiresAt;
    this.#tokens.set(token, { pipelineName: pipeline.name, stageName: stage.name, actionName, fate: 'pending' });
    this.#pendingApprovals.set(token, { pipeline, stage, actionName, run });
    const topicArn = action.configuration?.NotificationArn;
    // Like CodePipeline, publish only when the action names a topic.
    if (topicArn === undefined) return;
    this.deps.notifyApproval({
      region: this.deps.region,
      accountId: this.deps.accountId,
      topicArn,
      pipelineName: pipeline.name,
      stageName: stage.name,
      actionName,
      token,
      expiresAt,
      externalEntityLink: action.configuration?.ExternalEntityLink,
      customData: action.configuration?.CustomData,
    });
  }

  #closeApproval(live: LiveApproval, fate: TokenFate): void {
    const token = live.run.token;
    if (token === undefined) return;
    this.#pendingApprovals.delete(token);
    const issued = this.#tokens.get(token);
    if (issued) issued.fate = fate;
  }

  /**
   * After any action of the running group ends: fail the stage, start the next group, or finish. In a
   * stopping execution: once nothing runs any more, the stage and execution are Stopped, whatever the
   * actions' outcomes ("After the actions complete (that is, the action fails or succeeds), the
   * pipeline execution changes to a Stopped state", doc_source/pipelines-stop.md). In an execution
   * cancelled by UpdatePipeline: once all running actions completed, whatever their outcomes, the
   * stage and execution are Cancelled (see updatePipeline).
   */
  #actionFinished(pipeline: PipelineRecord, stage: StageRecord): void {
    const stageRun = stage.run;
    if (!stageRun || !isLocking(stageRun.status)) return;
    const runs = (stageRun.groups[stageRun.group] ?? []).map((a) => stage.latestActionRuns.get(a.name as string));
    if (stageRun.status === 'Stopping') {
      if (!runs.some((run) => run?.status === 'InProgress')) this.#finishStage(pipeline, stage, 'Stopped');
      return;
    }
    if (stageRun.execution.cancelledBy) {
      if (!runs.some((run) => run?.status === 'InProgress')) this.#finishStage(pipeline, stage, 'Cancelled');
      return;
    }
    if (runs.some((run) => run?.status === 'Failed')) {
      this.#abandon(pipeline, runs);
      this.#finishStage(pipeline, stage, 'Failed');
    } else if (runs.some((run) => run?.status === 'InProgress')) {
      return;
    } else if (stageRun.group + 1 < stageRun.groups.length) {
      this.#startGroup(pipeline, stage, stageRun.group + 1);
    } else {
      this.#finishStage(pipeline, stage, 'Succeeded');
    }
  }

  /**
   * Simplification: when one action of a parallel group fails, the others still running are
   * abandoned at once rather than waited for (a pending approval's token becomes invalid).
   */
  #abandon(pipeline: PipelineRecord, runs: readonly (ActionRun | undefined)[]): void {
    const now = this.deps.clock.now();
    for (const run of runs) {
      if (run?.status !== 'InProgress') continue;
      if (run.token !== undefined) {
        const live = this.#pendingApprovals.get(run.token);
        if (live) this.#closeApproval(live, 'abandoned');
      }
      run.status = 'Abandoned';
      run.lastStatusChange = now;
    }
    this.deps.changed(pipeline.name);
  }

  /**
   * Ends the stage's run. Succeeded and Skipped move the execution on (a skipped stage is not one it
   * succeeded in, for ListPipelineExecutions' `succeededInStage`); the others end it.
   */
  #finishStage(
    pipeline: PipelineRecord,
    stage: StageRecord,
    status: 'Succeeded' | 'Failed' | 'Stopped' | 'Cancelled' | 'Skipped',
  ): void {
    const stageRun = stage.run;
    if (!stageRun) return;
    const execution = stageRun.execution;
    stageRun.status = status;
    execution.lastUpdateTime = this.deps.clock.now();
    if (status === 'Succeeded') execution.succeededStages.add(stage.name);
    if (status === 'Stopped' || status === 'Cancelled') {
      // An execution stopped meanwhile stays Stopped.
      if (execution.status === 'InProgress' || execution.status === 'Stopping') execution.status = status;
    } else if (status === 'Failed') {
      execution.status = 'Failed';
      execution.statusSummary = `Stage ${stage.name} failed`;
    } else if (stage.index === pipeline.stages.length - 1) {
      execution.status = 'Succeeded';
    } else {
      this.#arrive(pipeline, execution, stage.index + 1);
    }
    const waiting = stage.inbound;
    if (waiting) {
      stage.inbound = undefined;
      this.#enter(pipeline, stage, waiting);
    }
  }
}

/** A stage is locked while an execution runs in it, stopping included (doc_source/pipelines-stop.md). */
const isLocking = (status: StageRun['status']) => status === 'InProgress' || status === 'Stopping';

const actionKey = (pipelineName: string, stageName: string, actionName: string) =>
  `${pipelineName}/${stageName}/${actionName}`;

/**
 * The stage records of a declaration. A stage whose name `previous` holds keeps its record — what
 * ran in it, what waits at its transition — with the new declared parts; a run in it keeps the
 * groups it entered with.
 */
function stageRecords(declaration: PipelineDeclaration, previous: ReadonlyMap<string, StageRecord>): StageRecord[] {
  return (declaration.stages ?? []).map((stage: StageDeclaration, index): StageRecord => {
    const shape = stageShape(stage.name as string, stage.actions ?? []);
    const kept = previous.get(shape.name);
    if (!kept) {
      return { ...shape, index, beforeEntry: stage.beforeEntry, latestActionRuns: new Map() };
    }
    kept.index = index;
    kept.actions = shape.actions;
    kept.groups = shape.groups;
    kept.beforeEntry = stage.beforeEntry;
    return kept;
  });
}

/**
 * A VariableCheck rule on an execution's pipeline-level variables (user guide,
 * rule-reference-VariableCheck): EQ "equal to the string value", CONTAINS "contains the string value
 * as a substring", MATCHES "matches a given regex expression" (Java syntax there; JavaScript's here),
 * NE "not equal". A variable without a value, or a pattern that is no regular expression, fails it.
 */
function variableCheck(rule: RuleDeclaration, variables: ReadonlyMap<string, string>): boolean {
  const actual = variables.get(variableOf(rule));
  if (actual === undefined) return false;
  const expected = rule.configuration?.Value ?? '';
  switch (rule.configuration?.Operator) {
    case 'EQ':
      return actual === expected;
    case 'NE':
      return actual !== expected;
    case 'CONTAINS':
      return actual.includes(expected);
    case 'MATCHES':
      try {
        return new RegExp(expected).test(actual);
      } catch {
        return false;
      }
    default:
      return false;
  }
}
