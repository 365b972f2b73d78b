import {
  type PipelineDeclaration,
  PutApprovalResultCommand,
  StartPipelineExecutionCommand,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline';
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

/** shop-cart whose StagingQA is skipped unless pipeline variable `qa` is `on` (its default). */
function skippableQa(): PipelineDeclaration {
  const definition = pipelineDefinition(PIPELINE);
  return {
    ...definition,
    variables: [{ name: 'qa', defaultValue: 'on' }],
    stages: definition.stages?.map((stage) =>
      stage.name === 'StagingQA'
        ? {
            ...stage,
            beforeEntry: {
              conditions: [
                {
                  result: 'SKIP',
                  rules: [
                    {
                      name: 'QaIsOn',
                      ruleTypeId: { category: 'Rule', owner: 'AWS', provider: 'VariableCheck', version: '1' },
                      configuration: { Variable: '#{variables.qa}', Operator: 'EQ', Value: 'on' },
                    },
                  ],
                },
              ],
            },
          }
        : stage,
    ),
  };
}

/**
 * The reader and the product board on the real SDK against the CodePipeline emulator over loopback,
 * for the two stage statuses that come neither from running nor from stopping: `Cancelled` (the
 * pipeline was updated mid-run) and `Skipped` (a stage condition skipped the stage).
 */
describe('CodePipelineReader and the product board: cancelled and skipped stages', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  async function emulated(declaration: PipelineDeclaration) {
    world = await startEmulator({ clock: () => STARTED });
    world.emulator.createPipeline(declaration);
    return new CodePipelineReader(world.client);
  }

  async function approveDev() {
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
  }

  async function read(reader: CodePipelineReader) {
    const snapshot = await reader.snapshot(PIPELINE);
    const row = (await productBoard(reader, shop)).rows[0];
    const stage = (name: string) => snapshot.stages.find((s) => s.name === name) as StageSnapshot;
    return {
      dev: stage('StagingDEV'),
      qa: stage('StagingQA'),
      cells: new Map(row?.cells.map((cell) => [cell.stageName, cell])),
      line: row ? boardLine(row, STARTED) : '',
      executions: await reader.executionsSince(PIPELINE, new Date(0)),
    };
  }

  it('a pipeline updated while an approval waits: still ⏸️ until answered, then Cancelled, ⏹️', async () => {
    // Prepare
    const reader = await emulated(pipelineDefinition(PIPELINE));
    const c1 = world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    await world.client.send(new UpdatePipelineCommand({ pipeline: pipelineDefinition(PIPELINE) }));

    // Act
    const meanwhile = await read(reader);
    await approveDev();
    const after = await read(reader);

    // Assess
    expect(meanwhile.dev.latest?.status).toBe('InProgress');
    expect(pendingApprovalIn(meanwhile.dev)).toMatchObject({ name: 'Approve', status: 'InProgress' });
    expect(meanwhile.cells.get('StagingDEV')?.state).toBe('awaiting-approval');
    expect(after.dev.latest).toEqual({
      executionId: c1,
      status: 'Cancelled',
      revision: { revisionId: 'c1', summary: 'Add the cart' },
    });
    expect(pendingApprovalIn(after.dev)).toBeUndefined();
    expect(after.qa.latest).toBeUndefined();
    expect(after.cells.get('StagingDEV')).toMatchObject({ state: 'stopped', revision: { revisionId: 'c1' } });
    expect(after.line).toBe('*cart*  Source `c1` ✅ · Build `c1` ✅ · StagingDEV `c1` ⏹️ · StagingQA – · StagingPROD –');
    expect(after.executions.map((execution) => [execution.executionId, execution.status])).toEqual([[c1, 'Cancelled']]);
  });

  it('a stage a SKIP condition skipped: Skipped, ⏭️, and the revision goes on to PROD', async () => {
    // Prepare
    const reader = await emulated(skippableQa());
    const { pipelineExecutionId: c1 } = await world.client.send(
      new StartPipelineExecutionCommand({
        name: PIPELINE,
        variables: [{ name: 'qa', value: 'off' }],
        sourceRevisions: [{ actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: 'c1' }],
      }),
    );
    await world.emulator.settle();

    // Act
    await approveDev();
    const { qa, cells, line, executions } = await read(reader);

    // Assess
    expect(qa.latest).toEqual({ executionId: c1, status: 'Skipped', revision: { revisionId: 'c1' } });
    expect(pendingApprovalIn(qa)).toBeUndefined();
    expect(cells.get('StagingQA')).toMatchObject({ state: 'skipped', revision: { revisionId: 'c1' } });
    expect(cells.get('StagingPROD')?.state).toBe('succeeded');
    expect(line).toBe(
      '*cart*  Source `c1` ✅ · Build `c1` ✅ · StagingDEV `c1` ✅ · StagingQA `c1` ⏭️ · StagingPROD `c1` ✅',
    );
    expect(executions.map((execution) => [execution.executionId, execution.status])).toEqual([[c1, 'Succeeded']]);
  });
});
