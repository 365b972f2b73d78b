import type {
  ActionCategory,
  ActionDeclaration,
  PipelineDeclaration,
  PipelineVariableDeclaration,
  RuleDeclaration,
  StageDeclaration,
} from '@aws-sdk/client-codepipeline';
import { CodePipelineError, isValidName, validationError } from './errors.ts';

const CATEGORIES: readonly ActionCategory[] = ['Approval', 'Build', 'Compute', 'Deploy', 'Invoke', 'Source', 'Test'];

/** Seven days: CodePipeline's default (and, for most accounts, maximum) manual approval timeout. */
export const DEFAULT_APPROVAL_TIMEOUT_MINUTES = 7 * 24 * 60;

/** One declared stage, its actions grouped by `runOrder` (a group runs in parallel). */
export interface StageShape {
  readonly name: string;
  readonly actions: readonly ActionDeclaration[];
  readonly groups: readonly (readonly ActionDeclaration[])[];
}

const invalid = (type: string, message: string) => new CodePipelineError(type, message);

/** Only for normalized declarations, where every action has a known category. */
export const categoryOf = (action: ActionDeclaration): ActionCategory => action.actionTypeId?.category ?? 'Invoke';

export const isManualApproval = (action: ActionDeclaration) => action.actionTypeId?.category === 'Approval';

/**
 * Checks what the emulator relies on and fills in what CodePipeline would default, returning the
 * declaration GetPipeline will show as `version` (1 for CreatePipeline, the next one for
 * UpdatePipeline). Every execution mode of the API model may be declared (GetPipeline and
 * ListPipelines show it), but only SUPERSEDED pipelines run: starting another is refused rather than
 * run differently (world.ts). Stage conditions other than what `checkStageConditions` accepts are
 * refused too.
 */
export function normalizeDeclaration(input: PipelineDeclaration, accountId: string, version = 1): PipelineDeclaration {
  const name = input.name;
  if (typeof name !== 'string' || !isValidName(name)) {
    throw invalid('ValidationException', `Invalid pipeline name: ${String(name)}`);
  }
  // ExecutionMode in the API model: QUEUED | SUPERSEDED | PARALLEL.
  if (input.executionMode !== undefined && !['SUPERSEDED', 'QUEUED', 'PARALLEL'].includes(input.executionMode)) {
    throw invalid('ValidationException', `Invalid execution mode: ${String(input.executionMode)}`);
  }
  const pipelineType = input.pipelineType ?? 'V2';
  const variables = checkVariables(input.variables, pipelineType);
  const stages = input.stages ?? [];
  if (stages.length < 2) throw invalid('InvalidStructureException', 'Pipeline must contain at least two stages');
  const stageNames = new Set<string>();
  for (const stage of stages) {
    if (typeof stage.name !== 'string' || !isValidName(stage.name)) {
      throw invalid('InvalidStageDeclarationException', `Invalid stage name: ${String(stage.name)}`);
    }
    if (stageNames.has(stage.name)) {
      throw invalid('InvalidStageDeclarationException', `Stage name ${stage.name} is used more than once`);
    }
    stageNames.add(stage.name);
    checkActions(stage.name, stage.actions ?? []);
    checkStageConditions(stage, pipelineType, variables);
  }
  return structuredClone({
    ...input,
    roleArn: input.roleArn ?? `arn:aws:iam::${accountId}:role/${name}-pipeline-role`,
    artifactStore: input.artifactStore ?? { type: 'S3', location: `codepipeline-artifacts-${accountId}` },
    version,
    executionMode: input.executionMode ?? 'SUPERSEDED',
    pipelineType,
  });
}

/** PipelineVariableDeclaration.name: "Pattern: [A-Za-z0-9@\-_]+", length 1–128 (API reference). */
const VARIABLE_NAME = /^[A-Za-z0-9@\-_]{1,128}$/;

export const isValidVariableName = (value: string) => VARIABLE_NAME.test(value);

/**
 * Pipeline-level variables (PipelineDeclaration.variables): names as PipelineVariableDeclaration
 * allows them, `defaultValue` 1–1000 characters, `description` at most 200 (API reference,
 * API_PipelineVariableDeclaration). They are a V2 feature ("Pipeline-level variables" in the user
 * guide's pipeline types); the emulator refuses them on V1. Returns the declared names.
 */
function checkVariables(
  variables: readonly PipelineVariableDeclaration[] | undefined,
  pipelineType: string,
): ReadonlySet<string> {
  const names = new Set<string>();
  if (variables === undefined || variables.length === 0) return names;
  if (pipelineType !== 'V2') throw invalid('InvalidStructureException', 'Pipeline-level variables need a V2 pipeline');
  for (const variable of variables) {
    if (typeof variable.name !== 'string' || !isValidVariableName(variable.name)) {
      throw validationError(`Invalid pipeline variable name: ${String(variable.name)}`);
    }
    if (names.has(variable.name)) {
      throw invalid('InvalidStructureException', `Pipeline variable ${variable.name} is declared more than once`);
    }
    const { defaultValue, description } = variable;
    if (
      defaultValue !== undefined &&
      (typeof defaultValue !== 'string' || defaultValue.length < 1 || defaultValue.length > 1000)
    ) {
      throw validationError(`defaultValue of pipeline variable ${variable.name} must be 1 to 1000 characters`);
    }
    if (description !== undefined && (typeof description !== 'string' || description.length > 200)) {
      throw validationError(`description of pipeline variable ${variable.name} must be at most 200 characters`);
    }
    names.add(variable.name);
  }
  return names;
}

/** How a VariableCheck rule names a pipeline-level variable: `#{variables.<name>}` (user guide, "Variables reference"). */
const VARIABLE_REFERENCE = /^#\{variables\.([A-Za-z0-9@\-_]{1,128})\}$/;

/** The pipeline-level variable a VariableCheck rule reads (its `Variable` configuration). */
export function variableOf(rule: RuleDeclaration): string {
  return VARIABLE_REFERENCE.exec(rule.configuration?.Variable ?? '')?.[1] ?? '';
}

/** VariableCheck's operators: EQ, CONTAINS, MATCHES, NE (user guide, rule-reference-VariableCheck). */
export const VARIABLE_CHECK_OPERATORS = ['EQ', 'CONTAINS', 'MATCHES', 'NE'] as const;

/**
 * Stage conditions (StageDeclaration.beforeEntry / onSuccess / onFailure), as far as the emulator
 * runs them: `beforeEntry` with one condition (API_BeforeEntryConditions: "Array Members: Fixed
 * number of 1 item"), whose `result` is FAIL or SKIP ("Entry - ... result options: Fail or Skip",
 * user guide, stage-conditions) and whose 1–5 rules (API_Condition) are VariableCheck rules on
 * pipeline-level variables. Stage conditions exist on V2 pipelines only (What's New, 2024-10 "AWS
 * CodePipeline introduces skipping stage": "AWS CodePipeline V2 type pipelines…"). SKIP accepts only
 * LambdaInvoke and VariableCheck rules (stage-conditions, "Considerations"); the emulator cannot
 * invoke Lambda, so it refuses every rule but VariableCheck, and it refuses onSuccess/onFailure
 * conditions, which it does not evaluate, rather than ignore them.
 */
function checkStageConditions(stage: StageDeclaration, pipelineType: string, variables: ReadonlySet<string>): void {
  const where = `stage ${String(stage.name)}`;
  for (const kind of ['onSuccess', 'onFailure'] as const) {
    if (stage[kind] !== undefined) {
      throw invalid('InvalidStructureException', `The emulator does not evaluate ${kind} conditions (${where})`);
    }
  }
  const entry = stage.beforeEntry;
  if (entry === undefined) return;
  if (pipelineType !== 'V2')
    throw invalid('InvalidStructureException', `Stage conditions need a V2 pipeline (${where})`);
  const conditions = entry.conditions;
  if (!Array.isArray(conditions) || conditions.length !== 1) {
    throw invalid('InvalidStageDeclarationException', `beforeEntry of ${where} must have exactly one condition`);
  }
  const [condition] = conditions;
  const result = condition?.result;
  if (result !== undefined && result !== 'FAIL' && result !== 'SKIP') {
    throw invalid(
      'InvalidStageDeclarationException',
      `The result of an entry condition is FAIL or SKIP, not ${result} (${where})`,
    );
  }
  const rules = condition?.rules ?? [];
  if (rules.length < 1 || rules.length > 5) {
    throw invalid('InvalidStageDeclarationException', `A condition has 1 to 5 rules (${where})`);
  }
  const ruleNames = new Set<string>();
  for (const rule of rules) {
    if (typeof rule.name !== 'string' || !isValidName(rule.name) || ruleNames.has(rule.name)) {
      throw invalid(
        'InvalidStageDeclarationException',
        `Invalid or repeated rule name ${String(rule.name)} (${where})`,
      );
    }
    ruleNames.add(rule.name);
    const type = rule.ruleTypeId;
    if (type?.category !== 'Rule' || typeof type.provider !== 'string') {
      throw invalid(
        'InvalidStageDeclarationException',
        `Rule ${rule.name} needs ruleTypeId {category: Rule, provider} (${where})`,
      );
    }
    if (result === 'SKIP' && type.provider !== 'LambdaInvoke' && type.provider !== 'VariableCheck') {
      throw invalid(
        'InvalidStageDeclarationException',
        `A SKIP condition takes LambdaInvoke or VariableCheck rules only (${where})`,
      );
    }
    if (type.provider !== 'VariableCheck') {
      throw invalid(
        'InvalidStructureException',
        `The emulator evaluates VariableCheck rules only, not ${type.provider} (${where})`,
      );
    }
    const operator = rule.configuration?.Operator;
    if (!VARIABLE_CHECK_OPERATORS.includes(operator as (typeof VARIABLE_CHECK_OPERATORS)[number])) {
      throw invalid(
        'InvalidStageDeclarationException',
        `Rule ${rule.name}: Operator must be one of ${VARIABLE_CHECK_OPERATORS.join(', ')} (${where})`,
      );
    }
    if (typeof rule.configuration?.Value !== 'string') {
      throw invalid('InvalidStageDeclarationException', `Rule ${rule.name}: Value is required (${where})`);
    }
    if (!variables.has(variableOf(rule))) {
      throw invalid(
        'InvalidStructureException',
        `Rule ${rule.name}: the emulator resolves only #{variables.<name>} of a declared pipeline variable (${where})`,
      );
    }
  }
}

function checkActions(stageName: string, actions: readonly ActionDeclaration[]): void {
  if (actions.length === 0) throw invalid('InvalidStageDeclarationException', `Stage ${stageName} has no actions`);
  const actionNames = new Set<string>();
  for (const action of actions) {
    const where = `action ${String(action.name)} in stage ${stageName}`;
    if (typeof action.name !== 'string' || !isValidName(action.name)) {
      throw invalid('InvalidActionDeclarationException', `Invalid name for ${where}`);
    }
    if (actionNames.has(action.name)) throw invalid('InvalidActionDeclarationException', `Duplicate ${where}`);
    actionNames.add(action.name);
    const category = action.actionTypeId?.category;
    if (category === undefined || !CATEGORIES.includes(category)) {
      throw invalid('InvalidActionDeclarationException', `Unknown category ${String(category)} for ${where}`);
    }
    const runOrder = action.runOrder ?? 1;
    if (!Number.isInteger(runOrder) || runOrder < 1 || runOrder > 999) {
      throw invalid('InvalidActionDeclarationException', `runOrder must be 1–999 for ${where}`);
    }
    const timeout = action.timeoutInMinutes;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) {
      throw invalid('InvalidActionDeclarationException', `timeoutInMinutes must be a positive integer for ${where}`);
    }
  }
}

/** Groups a stage's actions by runOrder, ascending: the order in which they run. */
export function stageShape(name: string, actions: readonly ActionDeclaration[]): StageShape {
  const byOrder = new Map<number, ActionDeclaration[]>();
  for (const action of actions) {
    const order = action.runOrder ?? 1;
    byOrder.set(order, [...(byOrder.get(order) ?? []), action]);
  }
  const groups = [...byOrder.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
  return { name, actions, groups };
}
