import type { ActionCategory, ActionDeclaration, PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { CodePipelineError, isValidName } from './errors.ts';

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
 * declaration GetPipeline will show (version 1). Only the SUPERSEDED execution mode is emulated, so
 * another mode is refused rather than silently run differently.
 */
export function normalizeDeclaration(input: PipelineDeclaration, accountId: string): PipelineDeclaration {
  const name = input.name;
  if (typeof name !== 'string' || !isValidName(name)) {
    throw invalid('ValidationException', `Invalid pipeline name: ${String(name)}`);
  }
  if (input.executionMode !== undefined && input.executionMode !== 'SUPERSEDED') {
    throw invalid(
      'InvalidStructureException',
      `The emulator runs SUPERSEDED pipelines only, not ${input.executionMode}`,
    );
  }
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
  }
  return structuredClone({
    ...input,
    roleArn: input.roleArn ?? `arn:aws:iam::${accountId}:role/${name}-pipeline-role`,
    artifactStore: input.artifactStore ?? { type: 'S3', location: `codepipeline-artifacts-${accountId}` },
    version: 1,
    executionMode: 'SUPERSEDED',
    pipelineType: input.pipelineType ?? 'V2',
  });
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
