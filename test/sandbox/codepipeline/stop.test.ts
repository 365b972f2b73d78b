import {
  DuplicatedStopRequestException,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidApprovalTokenException,
  ListPipelineExecutionsCommand,
  PipelineExecutionNotStoppableException,
  PipelineNotFoundException,
  PutApprovalResultCommand,
  type StageState,
  StopPipelineExecutionCommand,
  type StopPipelineExecutionCommandInput,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from './emulator-fixture.ts';

const PIPELINE = 'shop-cart';
const DAY_MS = 24 * 60 * 60 * 1000;

describe('CodePipeline emulator: StopPipelineExecution', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  /** c1 waits for approval in StagingDEV. */
  async function waitingInDev() {
    world = await startEmulator();
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const pipelineExecutionId = world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    const pending = await pendingToken(world.client, PIPELINE, 'StagingDEV');
    return { ...pending, pipelineExecutionId };
  }

  const stop = (input: Partial<StopPipelineExecutionCommandInput> & { pipelineExecutionId: string }) =>
    world.client.send(new StopPipelineExecutionCommand({ pipelineName: PIPELINE, ...input }));

  async function stages() {
    const state = await world.client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    return new Map((state.stageStates ?? []).map((stage: StageState) => [stage.stageName, stage]));
  }

  const action = async (stageName: string, actionName: string) =>
    (await stages()).get(stageName)?.actionStates?.find((a) => a.actionName === actionName)?.latestExecution;

  async function executionStatus(pipelineExecutionId: string) {
    const { pipelineExecution } = await world.client.send(
      new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId }),
    );
    return pipelineExecution?.status;
  }

  const approve = (token: string, actionName = 'Approve') =>
    world.client.send(
      new PutApprovalResultCommand({
        pipelineName: PIPELINE,
        stageName: 'StagingDEV',
        actionName,
        token,
        result: { status: 'Approved', summary: 'fine' },
      }),
    );

  it('stop and wait: Stopping while the approval still waits; answering it ends in Stopped, not in QA', async () => {
    // Prepare
    const { pipelineExecutionId, token } = await waitingInDev();

    // Act
    const answer = await stop({ pipelineExecutionId, reason: 'Hotfix first' });
    const whileStopping = {
      execution: await executionStatus(pipelineExecutionId),
      stage: (await stages()).get('StagingDEV')?.latestExecution?.status,
      approval: await action('StagingDEV', 'Approve'),
    };
    await approve(token);
    await world.emulator.settle();

    // Assess
    expect(answer.pipelineExecutionId).toBe(pipelineExecutionId);
    expect(whileStopping).toEqual({
      execution: 'Stopping',
      stage: 'Stopping',
      approval: expect.objectContaining({ status: 'InProgress', token }),
    });
    expect(await executionStatus(pipelineExecutionId)).toBe('Stopped');
    const after = await stages();
    expect(after.get('StagingDEV')?.latestExecution).toEqual({ pipelineExecutionId, status: 'Stopped' });
    expect(await action('StagingDEV', 'Approve')).toMatchObject({ status: 'Succeeded', summary: 'fine' });
    expect(after.get('StagingQA')?.latestExecution).toBeUndefined();
    const { pipelineExecutionSummaries } = await world.client.send(
      new ListPipelineExecutionsCommand({ pipelineName: PIPELINE }),
    );
    expect(pipelineExecutionSummaries?.[0]).toMatchObject({
      pipelineExecutionId,
      status: 'Stopped',
      stopTrigger: { reason: 'Hotfix first' },
    });
    expect(world.emulator.pendingApprovals()).toEqual([]);
  });

  it('stop and wait: lets the running action finish and starts nothing after it', async () => {
    // Prepare
    world = await startEmulator({ actionDelayMs: { Source: 250 } });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const pipelineExecutionId = world.emulator.commit(PIPELINE, 'c1');

    // Act
    await stop({ pipelineExecutionId });
    await world.emulator.settle();

    // Assess
    const after = await stages();
    expect(after.get('Source')?.latestExecution).toEqual({ pipelineExecutionId, status: 'Stopped' });
    expect(await action('Source', 'Source')).toMatchObject({ status: 'Succeeded' });
    expect(after.get('Build')?.latestExecution).toBeUndefined();
    expect(await executionStatus(pipelineExecutionId)).toBe('Stopped');
  });

  it('stop and wait: an approval that expires meanwhile fails, and the execution is Stopped', async () => {
    // Prepare
    const { pipelineExecutionId } = await waitingInDev();
    await stop({ pipelineExecutionId });

    // Act
    world.emulator.advanceClock(7 * DAY_MS);
    await world.emulator.settle();

    // Assess
    expect(await action('StagingDEV', 'Approve')).toMatchObject({ status: 'Failed' });
    expect(await executionStatus(pipelineExecutionId)).toBe('Stopped');
  });

  it('stop and abandon: the approval is Abandoned, its token invalid, the execution Stopped', async () => {
    // Prepare
    const { pipelineExecutionId, token, actionName } = await waitingInDev();

    // Act
    await stop({ pipelineExecutionId, abandon: true, reason: 'Wrong branch' });
    await world.emulator.settle();

    // Assess
    expect(await executionStatus(pipelineExecutionId)).toBe('Stopped');
    expect((await stages()).get('StagingDEV')?.latestExecution).toEqual({ pipelineExecutionId, status: 'Stopped' });
    const approval = await action('StagingDEV', actionName);
    expect(approval?.status).toBe('Abandoned');
    expect(approval?.token).toBeUndefined();
    await expect(approve(token, actionName)).rejects.toBeInstanceOf(InvalidApprovalTokenException);
    expect(world.emulator.pendingApprovals()).toEqual([]);
  });

  it('stop and abandon unlocks the stage: the execution waiting at its transition enters it', async () => {
    // Prepare
    const { pipelineExecutionId } = await waitingInDev();
    const c2 = world.emulator.commit(PIPELINE, 'c2');
    await world.emulator.settle();
    const inbound = (await stages()).get('StagingDEV')?.inboundExecution;

    // Act
    await stop({ pipelineExecutionId, abandon: true });
    await world.emulator.settle();

    // Assess
    expect(inbound).toEqual({ pipelineExecutionId: c2, status: 'InProgress' });
    const dev = (await stages()).get('StagingDEV');
    expect(dev?.inboundExecution).toBeUndefined();
    expect(dev?.latestExecution).toEqual({ pipelineExecutionId: c2, status: 'InProgress' });
    expect(world.emulator.pendingApprovals()).toMatchObject([{ stageName: 'StagingDEV', revisionId: 'c2' }]);
  });

  it('stops an execution waiting at a transition at once: it leaves the transition', async () => {
    // Prepare
    await waitingInDev();
    const c2 = world.emulator.commit(PIPELINE, 'c2');
    await world.emulator.settle();

    // Act
    await stop({ pipelineExecutionId: c2 });

    // Assess
    expect(await executionStatus(c2)).toBe('Stopped');
    expect((await stages()).get('StagingDEV')?.inboundExecution).toBeUndefined();
  });

  it('takes stop and abandon after stop and wait', async () => {
    // Prepare
    const { pipelineExecutionId, actionName } = await waitingInDev();
    await stop({ pipelineExecutionId });

    // Act
    await stop({ pipelineExecutionId, abandon: true });
    await world.emulator.settle();

    // Assess
    expect(await executionStatus(pipelineExecutionId)).toBe('Stopped');
    expect(await action('StagingDEV', actionName)).toMatchObject({ status: 'Abandoned' });
  });

  it('refuses stop and wait twice with DuplicatedStopRequestException', async () => {
    // Prepare
    const { pipelineExecutionId } = await waitingInDev();
    await stop({ pipelineExecutionId });

    // Act
    const again = stop({ pipelineExecutionId });

    // Assess
    await expect(again).rejects.toBeInstanceOf(DuplicatedStopRequestException);
  });

  it.each([
    ['stop and abandon', true],
    ['stop and wait', false],
  ])('refuses %s during the moment a stop and abandon is Stopping', async (_case, abandon) => {
    // Prepare: the abandoning happens on the next turn of the event loop, so only an in-process
    // caller can ask again within that moment.
    const { pipelineExecutionId } = await waitingInDev();
    const first = world.emulator.stopExecution(PIPELINE, pipelineExecutionId, { abandon: true });

    // Act
    const again = () => world.emulator.stopExecution(PIPELINE, pipelineExecutionId, { abandon });

    // Assess
    expect(first).toBe('Stopping');
    expect(again).toThrow(expect.objectContaining({ type: 'DuplicatedStopRequestException' }));
    await world.emulator.settle();
    expect(await executionStatus(pipelineExecutionId)).toBe('Stopped');
  });

  it('refuses to stop what is not in progress with PipelineExecutionNotStoppableException', async () => {
    // Prepare: c1 stopped, c2 superseded at DEV's transition by c3, and an id that was never issued.
    const { pipelineExecutionId: c1 } = await waitingInDev();
    const c2 = world.emulator.commit(PIPELINE, 'c2');
    await world.emulator.settle();
    world.emulator.commit(PIPELINE, 'c3');
    await world.emulator.settle();
    await stop({ pipelineExecutionId: c1, abandon: true });
    await world.emulator.settle();

    // Act
    const results = await Promise.allSettled(
      [c1, c2, '0b9c2e4a-5d1f-4c3b-9a7e-2f6d8c1b3a5e'].map((pipelineExecutionId) => stop({ pipelineExecutionId })),
    );

    // Assess
    expect(await executionStatus(c2)).toBe('Superseded');
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(PipelineExecutionNotStoppableException);
    }
  });

  it.each([
    ['an unknown pipeline', { pipelineName: 'shop-nothing' }, PipelineNotFoundException],
    ['a reason over 200 characters', { reason: 'x'.repeat(201) }, ValidationException],
    ['an execution id that is no id', { pipelineExecutionId: 'c1' }, ValidationException],
  ])('refuses %s with the SDK’s own error class', async (_case, overrides, ErrorClass) => {
    // Prepare
    const { pipelineExecutionId } = await waitingInDev();

    // Act
    const refused = stop({ pipelineExecutionId, ...overrides });

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ErrorClass);
    expect(await executionStatus(pipelineExecutionId)).toBe('InProgress');
  });

  it('offers stopping to the sandbox too, and its board shows the stage stopped', async () => {
    // Prepare
    const { pipelineExecutionId } = await waitingInDev();

    // Act
    const status = world.emulator.stopExecution(PIPELINE, pipelineExecutionId, { abandon: true });
    await world.emulator.settle();

    // Assess
    expect(status).toBe('Stopping');
    expect(world.emulator.board('shop')[0]?.stages[2]).toMatchObject({
      stageName: 'StagingDEV',
      revisionId: 'c1',
      state: 'stopped',
    });
    expect(world.emulator.calls('StopPipelineExecution')).toEqual([]);
  });
});
