import { PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePipelineEvent } from '../../../app/inbound/pipeline-events.ts';
import { type CodePipelineEvent, pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { actionFailed, pipelineStarted, stageStopped } from '../../fixtures/codepipeline-events.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from './emulator-fixture.ts';

const PIPELINE = 'shop-cart';

/** `Pipeline STARTED`, `Stage StagingDEV SUCCEEDED`, `Action StagingDEV/Approve FAILED`: one line per event. */
const story = (events: CodePipelineEvent[]) =>
  events.map((event) => {
    const { stage, action, state } = event.detail as Record<string, string>;
    const level = event['detail-type'].split(' ')[1];
    return [level, action ? `${stage}/${action}` : stage, state].filter(Boolean).join(' ');
  });

describe('CodePipeline emulator: EventBridge events', () => {
  let world: EmulatorFixture;
  const delivered: CodePipelineEvent[] = [];
  afterEach(async () => {
    delivered.length = 0;
    await world.close();
  });

  /** c1 waits for approval in StagingDEV; events are delivered to `delivered`. */
  async function waitingInDev() {
    world = await startEmulator({ onPipelineEvent: (event) => void delivered.push(event) });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const executionId = world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    return { executionId, ...(await pendingToken(world.client, PIPELINE, 'StagingDEV')) };
  }

  it('tells a run’s story in the documented events, each once, from the outside in and back', async () => {
    // Act
    await waitingInDev();
    // Assess
    expect(story(world.emulator.pipelineEvents())).toEqual([
      'Pipeline STARTED',
      'Stage Source STARTED',
      'Action Source/Source STARTED',
      'Action Source/Source SUCCEEDED',
      'Stage Source SUCCEEDED',
      'Stage Build STARTED',
      'Action Build/Build STARTED',
      'Action Build/Build SUCCEEDED',
      'Stage Build SUCCEEDED',
      'Stage StagingDEV STARTED',
      'Action StagingDEV/Deploy STARTED',
      'Action StagingDEV/Deploy SUCCEEDED',
      'Action StagingDEV/Test STARTED',
      'Action StagingDEV/Test SUCCEEDED',
      'Action StagingDEV/Approve STARTED',
    ]);
    expect(delivered).toEqual(world.emulator.pipelineEvents());
  });

  it('emits the envelope and detail fields the user guide documents', async () => {
    // Prepare
    const { executionId, token } = await waitingInDev();
    // Act: someone rejects in the console
    await world.client.send(
      new PutApprovalResultCommand({
        pipelineName: PIPELINE,
        stageName: 'StagingDEV',
        actionName: 'Approve',
        token,
        result: { status: 'Rejected', summary: 'Not yet' },
      }),
    );
    await world.emulator.settle();
    // Assess: same keys as the docs' samples (fixtures/codepipeline-events.ts), same types
    const events = world.emulator.pipelineEvents();
    const [started] = events;
    const rejected = events.find((e) => e.detail.action === 'Approve' && e.detail.state === 'FAILED');
    const stageFailed = events.find((e) => e['detail-type'].includes('Stage') && e.detail.state === 'FAILED');
    expect(Object.keys(started ?? {}).sort()).toEqual(Object.keys(pipelineStarted).sort());
    expect(Object.keys(started?.detail ?? {}).sort()).toEqual(Object.keys(pipelineStarted.detail).sort());
    expect(Object.keys(stageFailed?.detail ?? {}).sort()).toEqual(Object.keys(stageStopped.detail).sort());
    expect(Object.keys(rejected?.detail ?? {}).sort()).toEqual(Object.keys(actionFailed.detail).sort());
    expect(started).toMatchObject({
      version: '0',
      source: 'aws.codepipeline',
      account: '123456789012',
      region: 'us-east-2',
      resources: [`arn:aws:codepipeline:us-east-2:123456789012:${PIPELINE}`],
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      detail: {
        'execution-id': executionId,
        'execution-trigger': { 'trigger-type': 'Webhook' },
        version: 1,
        'pipeline-execution-attempt': 1,
      },
    });
    expect(rejected?.detail).toMatchObject({
      'execution-result': { 'external-execution-summary': 'Not yet' },
      type: { owner: 'AWS', provider: 'Manual', category: 'Approval', version: '1' },
    });
    expect(story(events).slice(-3)).toEqual([
      'Action StagingDEV/Approve FAILED',
      'Stage StagingDEV FAILED',
      'Pipeline FAILED',
    ]);
    for (const event of events) expect(parsePipelineEvent(event)).toMatchObject({ ok: true });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('reports a stop and abandon at the approval as ABANDONED, STOPPED and STOPPING → STOPPED', async () => {
    // Prepare
    const { executionId } = await waitingInDev();
    const before = world.emulator.pipelineEvents().length;
    // Act
    world.emulator.stopExecution(PIPELINE, executionId, { abandon: true, reason: 'Wrong branch' });
    await world.emulator.settle();
    // Assess
    const events = world.emulator.pipelineEvents().slice(before);
    expect(story(events)).toEqual([
      'Stage StagingDEV STOPPING',
      'Pipeline STOPPING',
      'Action StagingDEV/Approve ABANDONED',
      'Stage StagingDEV STOPPED',
      'Pipeline STOPPED',
    ]);
    expect(events[1]?.detail['stop-execution-comments']).toBe('Wrong branch');
  });

  it('reports an approval that timed out as FAILED with the error code', async () => {
    // Prepare
    await waitingInDev();
    const before = world.emulator.pipelineEvents().length;
    // Act
    world.emulator.advanceClock(7 * 24 * 60 * 60 * 1000 + 60_000);
    await world.emulator.settle();
    // Assess
    const events = world.emulator.pipelineEvents().slice(before);
    expect(story(events)).toEqual(['Action StagingDEV/Approve FAILED', 'Stage StagingDEV FAILED', 'Pipeline FAILED']);
    expect(events[0]?.detail['execution-result']).toEqual({ 'error-code': 'JobFailed' });
  });
});
