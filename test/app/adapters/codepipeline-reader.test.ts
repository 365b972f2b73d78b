import { PutApprovalResultCommand, StopPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { CodePipelineReader } from '../../../app/adapters/codepipeline-reader.ts';
import { pendingApprovalIn, type StageSnapshot } from '../../../app/core/pipeline.ts';
import { productBoard } from '../../../app/core/product-board.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import { boardLine } from '../../../app/views/product-board.ts';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from '../../sandbox/codepipeline/emulator-fixture.ts';

const PIPELINE = 'shop-cart';
const STARTED = new Date('2025-03-04T08:00:00Z');
const shop = resolveProduct('shop', {});

/**
 * The reader and the product board on the real SDK against the CodePipeline emulator over loopback,
 * for executions that end otherwise than by success or failure: stopped, abandoned, superseded.
 */
describe('CodePipelineReader and the product board: stopped, abandoned and superseded executions', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  /** c1 waits for approval in StagingDEV of shop-cart. */
  async function waitingInDev() {
    world = await startEmulator({ clock: () => STARTED });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const c1 = world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    return { c1, reader: new CodePipelineReader(world.client) };
  }

  const stop = (pipelineExecutionId: string, abandon: boolean) =>
    world.client.send(
      new StopPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId, abandon, reason: 'Hotfix' }),
    );

  async function read(reader: CodePipelineReader) {
    const snapshot = await reader.snapshot(PIPELINE);
    const board = await productBoard(reader, shop);
    const row = board.rows[0];
    return {
      dev: snapshot.stages.find((stage) => stage.name === 'StagingDEV') as StageSnapshot,
      qa: snapshot.stages.find((stage) => stage.name === 'StagingQA') as StageSnapshot,
      cells: new Map(row?.cells.map((cell) => [cell.stageName, cell])),
      line: row ? boardLine(row, STARTED) : '',
      executions: await reader.executionsSince(PIPELINE, new Date(0)),
    };
  }

  it('a stopped execution (stop and wait, then approved): Stopped in the stage, ⏹️ on the board', async () => {
    // Prepare
    const { c1, reader } = await waitingInDev();
    await stop(c1, false);
    const { actionName, token } = await pendingToken(world.client, PIPELINE, 'StagingDEV');
    await world.client.send(
      new PutApprovalResultCommand({
        pipelineName: PIPELINE,
        stageName: 'StagingDEV',
        actionName,
        token,
        result: { status: 'Approved', summary: 'Fine, but stopped' },
      }),
    );
    await world.emulator.settle();

    // Act
    const { dev, qa, cells, line, executions } = await read(reader);

    // Assess
    expect(dev.latest).toEqual({
      executionId: c1,
      status: 'Stopped',
      revision: { revisionId: 'c1', summary: 'Add the cart' },
    });
    expect(dev.actions.find((action) => action.name === 'Approve')).toMatchObject({
      status: 'Succeeded',
      summary: 'Fine, but stopped',
    });
    expect(pendingApprovalIn(dev)).toBeUndefined();
    expect(qa.latest).toBeUndefined();
    expect(cells.get('StagingDEV')).toMatchObject({ state: 'stopped', revision: { revisionId: 'c1' } });
    expect(cells.get('StagingQA')?.state).toBe('none');
    expect(line).toBe('*cart*  Source `c1` ✅ · Build `c1` ✅ · StagingDEV `c1` ⏹️ · StagingQA – · StagingPROD –');
    expect(executions).toEqual([
      expect.objectContaining({
        executionId: c1,
        status: 'Stopped',
        revision: { revisionId: 'c1', summary: 'Add the cart' },
      }),
    ]);
  });

  it('a stopping execution whose approval still waits: the token is readable, the board says ⏹️', async () => {
    // Prepare
    const { c1, reader } = await waitingInDev();
    await stop(c1, false);

    // Act
    const { dev, cells, executions } = await read(reader);

    // Assess
    expect(dev.latest?.status).toBe('Stopping');
    expect(pendingApprovalIn(dev)).toMatchObject({ name: 'Approve', status: 'InProgress' });
    expect(cells.get('StagingDEV')?.state).toBe('stopped');
    expect(executions.map((execution) => execution.status)).toEqual(['Stopping']);
  });

  it('an abandoned execution: the approval is Abandoned without a token, the stage Stopped', async () => {
    // Prepare
    const { c1, reader } = await waitingInDev();
    await stop(c1, true);
    await world.emulator.settle();

    // Act
    const { dev, cells, line, executions } = await read(reader);

    // Assess
    expect(dev.latest).toMatchObject({ executionId: c1, status: 'Stopped' });
    const approval = dev.actions.find((action) => action.name === 'Approve');
    expect(approval?.status).toBe('Abandoned');
    expect(approval?.token).toBeUndefined();
    expect(pendingApprovalIn(dev)).toBeUndefined();
    expect(cells.get('StagingDEV')?.state).toBe('stopped');
    expect(line).toContain('StagingDEV `c1` ⏹️');
    expect(executions.map((execution) => [execution.revision?.revisionId, execution.status])).toEqual([
      ['c1', 'Stopped'],
    ]);
  });

  it('a superseded execution: gone from the stages, listed as Superseded, the newer one waits', async () => {
    // Prepare: c2 waits at DEV's transition behind c1's approval, then c3 supersedes it.
    const { c1, reader } = await waitingInDev();
    const c2 = world.emulator.commit(PIPELINE, 'c2');
    await world.emulator.settle();
    const c3 = world.emulator.commit(PIPELINE, 'c3');
    await world.emulator.settle();

    // Act
    const { dev, cells, line, executions } = await read(reader);

    // Assess
    expect(dev.latest).toMatchObject({ executionId: c1, status: 'InProgress' });
    expect(dev.inbound).toEqual({ executionId: c3, status: 'InProgress', revision: { revisionId: 'c3' } });
    expect(cells.get('StagingDEV')).toMatchObject({ state: 'awaiting-approval', waiting: { revisionId: 'c3' } });
    expect(line).toContain('StagingDEV `c1` ⏸️');
    expect(line).toContain('(next `c3`)');
    expect(line).not.toContain('c2');
    expect(executions.map((execution) => [execution.executionId, execution.status])).toEqual([
      [c3, 'InProgress'],
      [c2, 'Superseded'],
      [c1, 'InProgress'],
    ]);
  });
});

describe('CodePipelineReader: revisions from the executions it listed', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it('shows the stages’ revisions from ListPipelineExecutions, asking GetPipelineExecution for none', async () => {
    // Prepare: c1 waits in StagingQA, c2 in StagingDEV
    world = await startEmulator({ clock: () => STARTED });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    world.emulator.answerInConsole(PIPELINE, 'StagingDEV', 'Approved');
    await world.emulator.settle();
    world.emulator.commit(PIPELINE, { revisionId: 'c2', summary: 'Fix the total' });
    await world.emulator.settle();
    const reader = new CodePipelineReader(world.client);
    world.emulator.clearCalls();

    // Act
    await reader.executionsSince(PIPELINE, new Date(0));
    const listed = await reader.snapshot(PIPELINE);
    const lookupsAfterListing = world.emulator.calls('GetPipelineExecution').length;
    const unlisted = await new CodePipelineReader(world.client).snapshot(PIPELINE);

    // Assess: the same stages either way; only the reader that had not listed asked for each execution
    const revisions = Object.fromEntries(listed.stages.map((stage) => [stage.name, stage.latest?.revision]));
    expect(revisions).toMatchObject({
      StagingDEV: { revisionId: 'c2', summary: 'Fix the total' },
      StagingQA: { revisionId: 'c1', summary: 'Add the cart' },
    });
    expect(listed.stages).toEqual(unlisted.stages);
    expect(lookupsAfterListing).toBe(0);
    expect(world.emulator.calls('GetPipelineExecution').length).toBeGreaterThan(0);
  });
});
