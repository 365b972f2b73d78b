import {
  ActionNotFoundException,
  ApprovalAlreadyCompletedException,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidApprovalTokenException,
  InvalidStageDeclarationException,
  InvalidStructureException,
  ListPipelineExecutionsCommand,
  ListPipelinesCommand,
  type PipelineDeclaration,
  PipelineNotFoundException,
  PutApprovalResultCommand,
  type StageState,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  UpdatePipelineCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from './emulator-fixture.ts';

const PIPELINE = 'shop-cart';
const DAY_MS = 24 * 60 * 60 * 1000;
const CREATED = new Date('2024-05-02T08:00:00Z');
const EDITED = new Date('2024-05-02T09:30:00Z');

/** Version 2 of shop-cart: QA's approval asks something else. */
function editedDefinition(): PipelineDeclaration {
  const definition = pipelineDefinition(PIPELINE);
  const qa = definition.stages?.find((stage) => stage.name === 'StagingQA');
  const approve = qa?.actions?.find((action) => action.name === 'Approve');
  if (approve?.configuration) approve.configuration.CustomData = 'Run the QA checklist first.';
  return definition;
}

/** Version 2 of shop-cart without DEV's manual approval. */
function withoutDevApproval(): PipelineDeclaration {
  const definition = pipelineDefinition(PIPELINE);
  const dev = definition.stages?.find((stage) => stage.name === 'StagingDEV');
  if (dev) dev.actions = dev.actions?.filter((action) => action.name !== 'Approve');
  return definition;
}

describe('CodePipeline emulator: UpdatePipeline and Cancelled executions', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  let now = CREATED;

  /** c1 waits for approval in StagingDEV of shop-cart (version 1). */
  async function waitingInDev() {
    now = CREATED;
    world = await startEmulator({ clock: () => now });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const c1 = world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    return { c1, ...(await pendingToken(world.client, PIPELINE, 'StagingDEV')) };
  }

  const update = (pipeline: PipelineDeclaration) => world.client.send(new UpdatePipelineCommand({ pipeline }));

  async function stages() {
    const state = await world.client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    return new Map((state.stageStates ?? []).map((stage: StageState) => [stage.stageName, stage]));
  }

  const action = async (stageName: string, actionName: string) =>
    (await stages()).get(stageName)?.actionStates?.find((a) => a.actionName === actionName)?.latestExecution;

  const execution = async (pipelineExecutionId: string) =>
    (await world.client.send(new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId })))
      .pipelineExecution;

  const approve = (token: string, stageName = 'StagingDEV', actionName = 'Approve') =>
    world.client.send(
      new PutApprovalResultCommand({
        pipelineName: PIPELINE,
        stageName,
        actionName,
        token,
        result: { status: 'Approved', summary: 'fine' },
      }),
    );

  it('stores the declaration as the next version and keeps the earlier ones readable', async () => {
    // Prepare
    await waitingInDev();
    now = EDITED;

    // Act
    const answer = await update({ ...editedDefinition(), version: 1 });
    const current = await world.client.send(new GetPipelineCommand({ name: PIPELINE }));
    const first = await world.client.send(new GetPipelineCommand({ name: PIPELINE, version: 1 }));
    const [third] = await Promise.allSettled([
      world.client.send(new GetPipelineCommand({ name: PIPELINE, version: 3 })),
    ]);
    const state = await world.client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    const { pipelines } = await world.client.send(new ListPipelinesCommand({}));

    // Assess
    expect(answer.pipeline).toEqual({ ...editedDefinition(), version: 2 });
    expect(current.pipeline).toEqual(answer.pipeline);
    expect(current.metadata).toMatchObject({ created: CREATED, updated: EDITED });
    expect(first.pipeline).toEqual({ ...pipelineDefinition(PIPELINE), version: 1 });
    expect((third as PromiseRejectedResult).reason).toBeInstanceOf(PipelineNotFoundException);
    expect(state.pipelineVersion).toBe(2);
    expect(pipelines?.[0]).toMatchObject({ name: PIPELINE, version: 2, created: CREATED, updated: EDITED });
  });

  it('numbers each update one higher, whatever version the input carries', async () => {
    // Prepare
    await waitingInDev();

    // Act
    await update(editedDefinition());
    const answer = await update({ ...pipelineDefinition(PIPELINE), version: 1 });

    // Assess
    expect(answer.pipeline?.version).toBe(3);
  });

  it.each([
    ['no pipeline at all', undefined, ValidationException],
    ['a pipeline that does not exist', pipelineDefinition('shop-nothing'), PipelineNotFoundException],
    [
      'a single stage',
      { ...pipelineDefinition(PIPELINE), stages: pipelineDefinition(PIPELINE).stages?.slice(0, 1) },
      InvalidStructureException,
    ],
    [
      'a stage named twice',
      {
        ...pipelineDefinition(PIPELINE),
        stages: [...(pipelineDefinition(PIPELINE).stages ?? []), ...(pipelineDefinition(PIPELINE).stages ?? [])],
      },
      InvalidStageDeclarationException,
    ],
  ])('refuses %s with the SDK’s own error class and changes nothing', async (_case, pipeline, ErrorClass) => {
    // Prepare
    const { c1 } = await waitingInDev();

    // Act
    const refused = world.client.send(new UpdatePipelineCommand({ pipeline: pipeline as PipelineDeclaration }));

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ErrorClass);
    expect((await world.client.send(new GetPipelineCommand({ name: PIPELINE }))).pipeline?.version).toBe(1);
    expect((await execution(c1))?.status).toBe('InProgress');
  });

  it('lets a waiting approval complete, then cancels its stage and its execution', async () => {
    // Prepare
    const { c1, token } = await waitingInDev();

    // Act
    await update(editedDefinition());
    const meanwhile = {
      execution: (await execution(c1))?.status,
      stage: (await stages()).get('StagingDEV')?.latestExecution?.status,
      approval: await action('StagingDEV', 'Approve'),
    };
    await approve(token);
    await world.emulator.settle();

    // Assess
    expect(meanwhile).toEqual({
      execution: 'InProgress',
      stage: 'InProgress',
      approval: expect.objectContaining({ status: 'InProgress', token }),
    });
    expect(await action('StagingDEV', 'Approve')).toMatchObject({ status: 'Succeeded', summary: 'fine' });
    const after = await stages();
    expect(after.get('StagingDEV')?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'Cancelled' });
    expect(after.get('StagingQA')?.latestExecution).toBeUndefined();
    expect(await execution(c1)).toMatchObject({ status: 'Cancelled', pipelineVersion: 1 });
    const { pipelineExecutionSummaries } = await world.client.send(
      new ListPipelineExecutionsCommand({ pipelineName: PIPELINE }),
    );
    expect(pipelineExecutionSummaries?.map((summary) => [summary.pipelineExecutionId, summary.status])).toEqual([
      [c1, 'Cancelled'],
    ]);
    await expect(approve(token)).rejects.toBeInstanceOf(ApprovalAlreadyCompletedException);
    expect(world.emulator.pendingApprovals()).toEqual([]);
  });

  it('cancels an approval that expires meanwhile; its token is then invalid', async () => {
    // Prepare
    const { c1, token } = await waitingInDev();
    await update(editedDefinition());

    // Act
    world.emulator.advanceClock(7 * DAY_MS);
    await world.emulator.settle();

    // Assess
    expect(await action('StagingDEV', 'Approve')).toMatchObject({ status: 'Failed' });
    expect((await stages()).get('StagingDEV')?.latestExecution?.status).toBe('Cancelled');
    expect((await execution(c1))?.status).toBe('Cancelled');
    await expect(approve(token)).rejects.toBeInstanceOf(InvalidApprovalTokenException);
  });

  it('cannot answer an approval the new version removed: it can only expire, and then the run is cancelled', async () => {
    // Prepare
    const { c1, token } = await waitingInDev();

    // Act
    await update(withoutDevApproval());
    const [answered] = await Promise.allSettled([approve(token)]);
    const meanwhile = (await execution(c1))?.status;
    world.emulator.advanceClock(7 * DAY_MS);
    await world.emulator.settle();

    // Assess
    expect((answered as PromiseRejectedResult).reason).toBeInstanceOf(ActionNotFoundException);
    expect(meanwhile).toBe('InProgress');
    expect((await execution(c1))?.status).toBe('Cancelled');
    const dev = (await stages()).get('StagingDEV');
    expect(dev?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'Cancelled' });
    expect(dev?.actionStates?.map((state) => state.actionName)).toEqual(['Deploy', 'Test']);
  });

  it('lets a running action finish, starts nothing after it, and cancels the execution', async () => {
    // Prepare
    world = await startEmulator({ actionDelayMs: { Source: 250 } });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const c1 = world.emulator.commit(PIPELINE, 'c1');

    // Act
    await update(editedDefinition());
    await world.emulator.settle();

    // Assess
    const after = await stages();
    expect(await action('Source', 'Source')).toMatchObject({ status: 'Succeeded' });
    expect(after.get('Source')?.latestExecution).toEqual({ pipelineExecutionId: c1, status: 'Cancelled' });
    expect(after.get('Build')?.latestExecution).toBeUndefined();
    expect((await execution(c1))?.status).toBe('Cancelled');
  });

  it('cancels an execution waiting at a transition at once; a newer one runs on the new version', async () => {
    // Prepare: c2 waits at DEV's transition behind c1's approval.
    const { c1, token } = await waitingInDev();
    const c2 = world.emulator.commit(PIPELINE, 'c2');
    await world.emulator.settle();

    // Act
    await update(editedDefinition());
    const atTheTransition = (await stages()).get('StagingDEV')?.inboundExecution;
    const c3 = world.emulator.commit(PIPELINE, 'c3');
    await world.emulator.settle();
    const c3Waits = (await stages()).get('StagingDEV')?.inboundExecution;
    await approve(token);
    await world.emulator.settle();

    // Assess
    expect(atTheTransition).toBeUndefined();
    expect((await execution(c2))?.status).toBe('Cancelled');
    expect(c3Waits).toEqual({ pipelineExecutionId: c3, status: 'InProgress' });
    expect((await execution(c1))?.status).toBe('Cancelled');
    expect((await stages()).get('StagingDEV')?.latestExecution).toEqual({
      pipelineExecutionId: c3,
      status: 'InProgress',
    });
    expect(await execution(c3)).toMatchObject({ status: 'InProgress', pipelineVersion: 2 });
    expect(world.emulator.pendingApprovals()).toMatchObject([{ stageName: 'StagingDEV', revisionId: 'c3' }]);
  });

  it('leaves a stopping execution to stop', async () => {
    // Prepare
    const { c1, token } = await waitingInDev();
    await world.client.send(new StopPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: c1 }));

    // Act
    await update(editedDefinition());
    await approve(token);
    await world.emulator.settle();

    // Assess
    expect((await execution(c1))?.status).toBe('Stopped');
    expect((await stages()).get('StagingDEV')?.latestExecution?.status).toBe('Stopped');
  });

  it('offers updating to the sandbox too, and its board shows the cancelled stage stopped', async () => {
    // Prepare
    const { token } = await waitingInDev();

    // Act
    const declaration = world.emulator.updatePipeline(editedDefinition());
    await approve(token);
    await world.emulator.settle();

    // Assess
    expect(declaration.version).toBe(2);
    expect(world.emulator.board('shop')[0]?.stages[2]).toMatchObject({
      stageName: 'StagingDEV',
      revisionId: 'c1',
      state: 'stopped',
    });
    expect(world.emulator.calls('UpdatePipeline')).toEqual([]);
  });
});

describe('CodePipeline emulator: execution modes', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it('refuses to switch a pipeline to PARALLEL while an execution runs, which would go on as SUPERSEDED', async () => {
    // Prepare: c1 waits for approval in StagingDEV
    world = await startEmulator({ clock: () => CREATED });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();
    // Act
    const switched = world.client.send(
      new UpdatePipelineCommand({ pipeline: { ...pipelineDefinition(PIPELINE), executionMode: 'PARALLEL' } }),
    );
    // Assess
    await expect(switched).rejects.toBeInstanceOf(ValidationException);
    const { pipeline } = await world.client.send(new GetPipelineCommand({ name: PIPELINE }));
    expect(pipeline?.executionMode).toBe('SUPERSEDED');
  });

  it('shows a PARALLEL pipeline as declared, and refuses to run it rather than run it as SUPERSEDED', async () => {
    // Prepare
    world = await startEmulator({ clock: () => CREATED });
    world.emulator.createPipeline({ ...pipelineDefinition(PIPELINE), executionMode: 'PARALLEL' });
    // Act
    const { pipeline } = await world.client.send(new GetPipelineCommand({ name: PIPELINE }));
    const listed = await world.client.send(new ListPipelinesCommand({}));
    const started = world.client.send(new StartPipelineExecutionCommand({ name: PIPELINE }));
    // Assess
    expect(pipeline?.executionMode).toBe('PARALLEL');
    expect(listed.pipelines?.find((p) => p.name === PIPELINE)?.executionMode).toBe('PARALLEL');
    await expect(started).rejects.toBeInstanceOf(ValidationException);
    await expect(started).rejects.toThrow(/runs SUPERSEDED pipelines only/);
  });
});
