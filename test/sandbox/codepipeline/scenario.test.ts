import {
  type CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
  type StageState,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from './emulator-fixture.ts';

const PIPELINE = 'shop-cart';

/** The symbols of docs/concepts.md's worked example (one pipeline, four commits): ✓ succeeded, ◯ in progress (deploying, testing or waiting for approval), ✗ failed. */
const SYMBOL: Record<string, string> = { Succeeded: '✓', InProgress: '◯', Failed: '✗' };

/** One row of its table, read over the API: Source+Building, StagingDEV, StagingQA, StagingPROD. */
async function tableRow(client: CodePipelineClient): Promise<string[]> {
  const state = await client.send(new GetPipelineStateCommand({ name: PIPELINE }));
  const cell = async (stageName: string) => {
    const latest = state.stageStates?.find((s: StageState) => s.stageName === stageName)?.latestExecution;
    if (!latest?.pipelineExecutionId || !latest.status) return '-';
    const { pipelineExecution } = await client.send(
      new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: latest.pipelineExecutionId }),
    );
    return `${pipelineExecution?.artifactRevisions?.[0]?.revisionId} ${SYMBOL[latest.status] ?? latest.status}`;
  };
  const [source, build, dev, qa, prod] = await Promise.all(
    ['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD'].map(cell),
  );
  return [source === build ? (build ?? '') : `${source} / ${build}`, dev ?? '', qa ?? '', prod ?? ''];
}

describe('CodePipeline emulator: the worked example of docs/concepts.md (SUPERSEDED mode)', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it('moves commits through the stages exactly as the article’s table says', async () => {
    // Prepare
    world = await startEmulator();
    const { emulator, client } = world;
    emulator.createPipeline(pipelineDefinition(PIPELINE));
    const commit = (revision: string) => async () => {
      emulator.commit(PIPELINE, { revisionId: revision, summary: `commit ${revision}` });
    };
    const decide = (status: 'Approved' | 'Rejected', revision: string, stageName: string) => async () => {
      const { actionName, token, pipelineExecutionId } = await pendingToken(client, PIPELINE, stageName);
      const { pipelineExecution } = await client.send(
        new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId }),
      );
      // The story names the revision it decides on: it must be the one the approval holds.
      expect(pipelineExecution?.artifactRevisions?.[0]?.revisionId).toBe(revision);
      await client.send(
        new PutApprovalResultCommand({
          pipelineName: PIPELINE,
          stageName,
          actionName,
          token,
          result: { status, summary: `${status} ${revision}` },
        }),
      );
    };
    const approve = (revision: string, stage: string) => decide('Approved', revision, stage);
    const reject = (revision: string, stage: string) => decide('Rejected', revision, stage);
    const story: Array<[string, () => Promise<void>, string[]]> = [
      ['commit c1', commit('c1'), ['c1 ✓', 'c1 ◯', '-', '-']],
      ['approve c1 in DEV', approve('c1', 'StagingDEV'), ['c1 ✓', 'c1 ✓', 'c1 ◯', '-']],
      ['commit c2', commit('c2'), ['c2 ✓', 'c2 ◯', 'c1 ◯', '-']],
      ['approve c2 in DEV', approve('c2', 'StagingDEV'), ['c2 ✓', 'c2 ✓', 'c1 ◯', '-']],
      ['commit c3', commit('c3'), ['c3 ✓', 'c3 ◯', 'c1 ◯', '-']],
      ['reject c1 in QA', reject('c1', 'StagingQA'), ['c3 ✓', 'c3 ◯', 'c2 ◯', '-']],
      ['commit c4', commit('c4'), ['c4 ✓', 'c3 ◯', 'c2 ◯', '-']],
      ['approve c3 in DEV', approve('c3', 'StagingDEV'), ['c4 ✓', 'c4 ◯', 'c2 ◯', '-']],
      ['reject c4 in DEV', reject('c4', 'StagingDEV'), ['c4 ✓', 'c4 ✗', 'c2 ◯', '-']],
      ['reject c2 in QA', reject('c2', 'StagingQA'), ['c4 ✓', 'c4 ✗', 'c3 ◯', '-']],
      ['approve c3 in QA', approve('c3', 'StagingQA'), ['c4 ✓', 'c4 ✗', 'c3 ✓', 'c3 ✓']],
    ];

    // Act
    const played: Array<[string, string[]]> = [];
    for (const [step, act] of story) {
      await act();
      await emulator.settle();
      played.push([step, await tableRow(client)]);
    }

    // Assess
    expect(played).toEqual(story.map(([step, , row]) => [step, row]));
  });

  it('supersedes the execution waiting at a transition when a newer one arrives', async () => {
    // Prepare
    world = await startEmulator();
    const { emulator, client } = world;
    emulator.createPipeline(pipelineDefinition(PIPELINE));
    emulator.commit(PIPELINE, 'c1');
    await emulator.settle();
    const c2 = emulator.commit(PIPELINE, 'c2');
    await emulator.settle();

    // Act
    const c3 = emulator.commit(PIPELINE, 'c3');
    await emulator.settle();

    // Assess
    const state = await client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    const dev = state.stageStates?.find((s) => s.stageName === 'StagingDEV');
    expect(dev?.inboundExecution).toEqual({ pipelineExecutionId: c3, status: 'InProgress' });
    const { pipelineExecutionSummaries } = await client.send(
      new ListPipelineExecutionsCommand({ pipelineName: PIPELINE }),
    );
    expect(pipelineExecutionSummaries?.map((e) => [e.sourceRevisions?.[0]?.revisionId, e.status])).toEqual([
      ['c3', 'InProgress'],
      ['c2', 'Superseded'],
      ['c1', 'InProgress'],
    ]);
    expect(pipelineExecutionSummaries?.[1]?.pipelineExecutionId).toBe(c2);
    expect(emulator.board('shop')[0]?.stages[2]).toMatchObject({
      stageName: 'StagingDEV',
      revisionId: 'c1',
      state: 'awaiting-approval',
      waiting: { revisionId: 'c3' },
      lastSuperseded: { revisionId: 'c2' },
    });
  });

  it('lets the waiting execution into a stage whose deploy failed', async () => {
    // Prepare
    world = await startEmulator();
    const { emulator } = world;
    emulator.createPipeline(pipelineDefinition(PIPELINE));
    emulator.failNext(PIPELINE, 'StagingDEV', 'Test');

    // Act
    emulator.commit(PIPELINE, 'c1');
    await emulator.settle();
    const afterFailure = emulator.board('shop')[0]?.stages[2];
    emulator.commit(PIPELINE, 'c2');
    await emulator.settle();

    // Assess
    expect(afterFailure).toMatchObject({ revisionId: 'c1', state: 'failed' });
    expect(emulator.board('shop')[0]?.stages[2]).toMatchObject({ revisionId: 'c2', state: 'awaiting-approval' });
    expect(emulator.pendingApprovals()).toMatchObject([
      { pipelineName: PIPELINE, stageName: 'StagingDEV', revisionId: 'c2' },
    ]);
  });
});
