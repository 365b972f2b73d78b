import {
  type Condition,
  CreatePipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidStageDeclarationException,
  InvalidStructureException,
  ListPipelineExecutionsCommand,
  type PipelineDeclaration,
  PutApprovalResultCommand,
  type StageState,
  StartPipelineExecutionCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from './emulator-fixture.ts';

const PIPELINE = 'shop-cart';
const STARTED = new Date('2024-10-14T07:00:00Z');

/** A VariableCheck rule: pipeline variable `qa` equals `on`. */
const QA_IS_ON = {
  name: 'QaIsOn',
  ruleTypeId: { category: 'Rule', owner: 'AWS', provider: 'VariableCheck', version: '1' },
  configuration: { Variable: '#{variables.qa}', Operator: 'EQ', Value: 'on' },
} as const;

/** shop-cart with variable `qa` (default `on`) and an entry condition on StagingQA. */
function gated(condition: Condition = { result: 'SKIP', rules: [QA_IS_ON] }): PipelineDeclaration {
  const definition = pipelineDefinition(PIPELINE);
  return {
    ...definition,
    variables: [{ name: 'qa', defaultValue: 'on', description: 'Stage into QA' }],
    stages: definition.stages?.map((stage) =>
      stage.name === 'StagingQA' ? { ...stage, beforeEntry: { conditions: [condition] } } : stage,
    ),
  };
}

describe('CodePipeline emulator: stage entry conditions and Skipped stages', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  async function withPipeline(declaration: PipelineDeclaration = gated()) {
    world = await startEmulator({ clock: () => STARTED });
    world.emulator.createPipeline(declaration);
  }

  /** Starts c1 with `qa` set to `value`, approves it in DEV and waits until nothing runs. */
  async function throughDev(qa: string) {
    const { pipelineExecutionId } = await world.client.send(
      new StartPipelineExecutionCommand({
        name: PIPELINE,
        variables: [{ name: 'qa', value: qa }],
        sourceRevisions: [{ actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: 'c1' }],
      }),
    );
    await world.emulator.settle();
    const { actionName, token } = await pendingToken(world.client, PIPELINE, 'StagingDEV');
    await world.client.send(
      new PutApprovalResultCommand({
        pipelineName: PIPELINE,
        stageName: 'StagingDEV',
        actionName,
        token,
        result: { status: 'Approved', summary: 'fine' },
      }),
    );
    await world.emulator.settle();
    return pipelineExecutionId as string;
  }

  async function stages() {
    const state = await world.client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    return new Map((state.stageStates ?? []).map((stage: StageState) => [stage.stageName, stage]));
  }

  const execution = async (pipelineExecutionId: string) =>
    (await world.client.send(new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId })))
      .pipelineExecution;

  const succeededIn = async (stageName: string) =>
    (
      await world.client.send(
        new ListPipelineExecutionsCommand({ pipelineName: PIPELINE, filter: { succeededInStage: { stageName } } }),
      )
    ).pipelineExecutionSummaries?.map((summary) => summary.pipelineExecutionId);

  it('skips the stage when a SKIP condition’s rule fails, and the execution goes on to succeed', async () => {
    // Prepare
    await withPipeline();

    // Act
    const c1 = await throughDev('off');

    // Assess
    const after = await stages();
    const qa = after.get('StagingQA');
    expect(qa?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'Skipped' });
    expect(qa?.beforeEntryConditionState).toEqual({
      latestExecution: { status: 'Failed' },
      conditionStates: [
        {
          latestExecution: { status: 'Failed', lastStatusChange: STARTED },
          ruleStates: [
            {
              ruleName: 'QaIsOn',
              latestExecution: { ruleExecutionId: expect.any(String), status: 'Failed', lastStatusChange: STARTED },
            },
          ],
        },
      ],
    });
    expect(qa?.actionStates?.map((state) => state.latestExecution)).toEqual([undefined, undefined, undefined]);
    expect(after.get('StagingPROD')?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'Succeeded' });
    expect(await execution(c1)).toMatchObject({
      status: 'Succeeded',
      variables: [{ name: 'qa', resolvedValue: 'off' }],
    });
    expect(await succeededIn('StagingQA')).toEqual([]);
    expect(await succeededIn('StagingPROD')).toEqual([c1]);
    expect(world.emulator.pendingApprovals()).toEqual([]);
  });

  it('enters the stage when the condition is met: the default value passes the check', async () => {
    // Prepare
    await withPipeline();

    // Act
    const c1 = world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();
    const { token } = await pendingToken(world.client, PIPELINE, 'StagingDEV');
    await world.client.send(
      new PutApprovalResultCommand({
        pipelineName: PIPELINE,
        stageName: 'StagingDEV',
        actionName: 'Approve',
        token,
        result: { status: 'Approved', summary: 'fine' },
      }),
    );
    await world.emulator.settle();

    // Assess
    const qa = (await stages()).get('StagingQA');
    expect(qa?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'InProgress' });
    expect(qa?.beforeEntryConditionState?.latestExecution).toEqual({ status: 'Succeeded' });
    expect(qa?.beforeEntryConditionState?.conditionStates?.[0]?.ruleStates?.[0]?.latestExecution?.status).toBe(
      'Succeeded',
    );
    expect(world.emulator.pendingApprovals()).toMatchObject([{ stageName: 'StagingQA', revisionId: 'c1' }]);
    expect(await execution(c1)).toMatchObject({
      status: 'InProgress',
      variables: [{ name: 'qa', resolvedValue: 'on' }],
    });
  });

  it('fails the stage and the execution when a FAIL condition’s rule fails', async () => {
    // Prepare
    await withPipeline(gated({ result: 'FAIL', rules: [QA_IS_ON] }));

    // Act
    const c1 = await throughDev('off');

    // Assess
    const after = await stages();
    expect(after.get('StagingQA')?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'Failed' });
    expect(after.get('StagingQA')?.beforeEntryConditionState?.latestExecution?.status).toBe('Failed');
    expect(after.get('StagingPROD')?.latestExecution).toBeUndefined();
    expect((await execution(c1))?.status).toBe('Failed');
  });

  it.each([
    ['NE', 'off', 'Skipped'],
    ['CONTAINS', 'of', 'Succeeded'],
    ['MATCHES', '^o(n|ff)$', 'Succeeded'],
    ['MATCHES', '^on$', 'Skipped'],
  ])('evaluates operator %s against %s', async (Operator, Value, outcome) => {
    // Prepare
    await withPipeline(
      gated({
        result: 'SKIP',
        rules: [{ ...QA_IS_ON, configuration: { ...QA_IS_ON.configuration, Operator, Value } }],
      }),
    );

    // Act
    await throughDev('off');

    // Assess
    const qa = (await stages()).get('StagingQA');
    expect(qa?.latestExecution?.status).toBe(outcome === 'Skipped' ? 'Skipped' : 'InProgress');
  });

  it('offers skipping to the sandbox too: its board shows the stage skipped', async () => {
    // Prepare
    await withPipeline(
      gated({ result: 'SKIP', rules: [{ ...QA_IS_ON, configuration: { ...QA_IS_ON.configuration, Value: 'never' } }] }),
    );

    // Act
    world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();
    world.emulator.answerInConsole(PIPELINE, 'StagingDEV', 'Approved');
    await world.emulator.settle();

    // Assess
    expect(world.emulator.board('shop')[0]?.stages.map((stage) => [stage.stageName, stage.state])).toEqual([
      ['Source', 'succeeded'],
      ['Build', 'succeeded'],
      ['StagingDEV', 'succeeded'],
      ['StagingQA', 'skipped'],
      ['StagingPROD', 'succeeded'],
    ]);
  });

  const withQa = (beforeEntry: unknown, extra: Partial<PipelineDeclaration> = {}): PipelineDeclaration => {
    const definition = gated();
    return {
      ...definition,
      ...extra,
      stages: definition.stages?.map((stage) =>
        stage.name === 'StagingQA' ? ({ ...stage, beforeEntry } as typeof stage) : stage,
      ),
    };
  };

  it.each([
    [
      'conditions on a V1 pipeline',
      withQa({ conditions: [{ result: 'SKIP', rules: [QA_IS_ON] }] }, { pipelineType: 'V1', variables: [] }),
      InvalidStructureException,
    ],
    [
      'two entry conditions',
      withQa({
        conditions: [
          { result: 'SKIP', rules: [QA_IS_ON] },
          { result: 'FAIL', rules: [QA_IS_ON] },
        ],
      }),
      InvalidStageDeclarationException,
    ],
    [
      'an entry condition that rolls back',
      withQa({ conditions: [{ result: 'ROLLBACK', rules: [QA_IS_ON] }] }),
      InvalidStageDeclarationException,
    ],
    [
      'a condition without rules',
      withQa({ conditions: [{ result: 'SKIP', rules: [] }] }),
      InvalidStageDeclarationException,
    ],
    [
      'a SKIP condition with a CloudWatchAlarm rule',
      withQa({
        conditions: [
          {
            result: 'SKIP',
            rules: [
              {
                name: 'Alarm',
                ruleTypeId: { category: 'Rule', owner: 'AWS', provider: 'CloudWatchAlarm', version: '1' },
              },
            ],
          },
        ],
      }),
      InvalidStageDeclarationException,
    ],
    [
      'a VariableCheck on an undeclared variable',
      withQa({
        conditions: [
          {
            result: 'SKIP',
            rules: [{ ...QA_IS_ON, configuration: { ...QA_IS_ON.configuration, Variable: '#{variables.nope}' } }],
          },
        ],
      }),
      InvalidStructureException,
    ],
    [
      'a VariableCheck with an unknown operator',
      withQa({
        conditions: [
          { result: 'SKIP', rules: [{ ...QA_IS_ON, configuration: { ...QA_IS_ON.configuration, Operator: 'GT' } }] },
        ],
      }),
      InvalidStageDeclarationException,
    ],
    [
      'a pipeline variable named twice',
      { ...gated(), variables: [{ name: 'qa' }, { name: 'qa' }] },
      InvalidStructureException,
    ],
  ])('refuses %s', async (_case, pipeline, ErrorClass) => {
    // Prepare
    world = await startEmulator();

    // Act
    const refused = world.client.send(new CreatePipelineCommand({ pipeline }));

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ErrorClass);
  });

  it.each([
    ['a variable the pipeline does not declare', [{ name: 'prod', value: 'on' }]],
    ['an empty value', [{ name: 'qa', value: '' }]],
    ['a name outside [A-Za-z0-9@\\-_]', [{ name: 'q a', value: 'on' }]],
  ])('refuses to start with %s', async (_case, variables) => {
    // Prepare
    await withPipeline();

    // Act
    const refused = world.client.send(new StartPipelineExecutionCommand({ name: PIPELINE, variables }));

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ValidationException);
  });
});
