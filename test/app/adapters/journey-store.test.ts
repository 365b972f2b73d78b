import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '../../../app/adapters/dynamo-approval-store.ts';
import type { JourneyLink, JourneyStore, ReleaseStepStore, ThreadPost } from '../../../app/core/ports.ts';
import { approvalRequest } from '../../support/fakes.ts';
import { MemoryJourneyStore } from '../../support/journey-fakes.ts';
import { useLocalDynamo } from '../../support/local-dynamo.ts';

/**
 * One contract for JourneyStore, run against the in-memory fake and DynamoApprovalStore on
 * dynalite, so the fake the core's tests use cannot drift from the conditional writes.
 */

const local = useLocalDynamo();
let seq = 0;

const link = (overrides: Partial<JourneyLink> = {}): JourneyLink => ({
  pipelineName: 'shop-cart',
  executionId: `exec-${++seq}`,
  stageName: 'StagingQA',
  approvalId: `approval-${seq}`,
  stages: ['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD'],
  region: 'eu-central-1',
  ...overrides,
});

const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 12, minute));
const lease = (minute: number) => at(minute + 2);

describe.each([
  [
    'the in-memory fake',
    async () => ({ journeys: new MemoryJourneyStore() as JourneyStore & ReleaseStepStore, reminderOn: undefined }),
  ],
  [
    'DynamoApprovalStore on dynalite',
    async () => {
      const store = new DynamoApprovalStore(DynamoDBDocumentClient.from(local.client), local.dynamo.tableName);
      return { journeys: store as JourneyStore & ReleaseStepStore, reminderOn: store };
    },
  ],
])('JourneyStore: %s', (_name, make) => {
  it('keeps the first link of an execution and stage, and lists every link of the execution', async () => {
    // Prepare
    const { journeys } = await make();
    const dev = link({ stageName: 'StagingDEV' });
    const qa = { ...dev, stageName: 'StagingQA', approvalId: 'qa-approval' };
    // Act
    await journeys.linkJourney(dev);
    await journeys.linkJourney(qa);
    await journeys.linkJourney({ ...qa, approvalId: 'a-later-one' });
    // Assess
    const found = await journeys.journeysOf(dev.pipelineName, dev.executionId);
    expect(found.sort((a, b) => a.stageName.localeCompare(b.stageName))).toEqual([dev, qa]);
    expect(await journeys.journeysOf(dev.pipelineName, 'another-execution')).toEqual([]);
  });

  it('lets one holder take a post; after it is done nobody takes it again', async () => {
    // Prepare
    const { journeys } = await make();
    const l = link();
    await journeys.linkJourney(l);
    const post: ThreadPost = { kind: 'journey', ...l, step: 'started:StagingPROD' };
    // Act
    const first = await journeys.takePost(post, 'a', lease(0), at(0));
    const second = await journeys.takePost(post, 'b', lease(0), at(0));
    const again = await journeys.takePost(post, 'a', lease(0), at(0));
    await journeys.postDone(post, 'a', at(1));
    const afterDone = await journeys.takePost(post, 'c', lease(30), at(30));
    const otherStep = await journeys.takePost({ ...post, step: 'succeeded:StagingPROD' }, 'b', lease(0), at(0));
    // Assess: the holder's own retry gets it again (its first write's answer may have been lost)
    expect([first, second, again, afterDone, otherStep]).toEqual([true, false, true, false, true]);
  });

  it('gives a failed post back for a retry, and lets a post whose holder died be taken once its lease ran out', async () => {
    // Prepare
    const { journeys } = await make();
    const l = link();
    await journeys.linkJourney(l);
    const failed: ThreadPost = { kind: 'journey', ...l, step: 'failed:StagingPROD' };
    const abandoned: ThreadPost = { kind: 'journey', ...l, step: 'production' };
    await journeys.takePost(failed, 'a', lease(0), at(0));
    await journeys.takePost(abandoned, 'a', lease(0), at(0));
    // Act
    await journeys.givePostBack(failed, 'somebody-else');
    const stillHeld = await journeys.takePost(failed, 'b', lease(0), at(0));
    await journeys.givePostBack(failed, 'a');
    const retried = await journeys.takePost(failed, 'b', lease(0), at(0));
    const beforeEnd = await journeys.takePost(abandoned, 'c', lease(1), at(1));
    const afterEnd = await journeys.takePost(abandoned, 'c', lease(3), at(3));
    // Assess
    expect([stillHeld, retried, beforeEnd, afterEnd]).toEqual([false, true, false, true]);
  });

  it('keeps each released pipeline’s newest step, counting versions, and lets one holder draw at a time', async () => {
    // Prepare
    const { journeys } = await make();
    const releaseId = `release-${++seq}`;
    const step = (kind: 'started' | 'succeeded', rank: number) => ({
      kind,
      stageName: 'StagingPROD',
      rank,
      at: at(rank),
    });
    const steps = journeys;
    // Act
    const versions = [
      await steps.recordReleaseStep(releaseId, 'shop-cart', step('succeeded', 1)),
      await steps.recordReleaseStep(releaseId, 'shop-cart', step('started', 0)),
      await steps.recordReleaseStep(releaseId, 'shop-web', step('started', 0)),
    ];
    const first = await steps.takeReleaseDraw(releaseId, 'a', lease(0), at(0));
    const second = await steps.takeReleaseDraw(releaseId, 'b', lease(0), at(1));
    await steps.giveReleaseDrawBack(releaseId, 'a', at(1));
    const afterGiven = await steps.takeReleaseDraw(releaseId, 'b', lease(1), at(1));
    // Assess: a late `started` does not replace `succeeded`
    expect(versions).toEqual([1, undefined, 2]);
    expect([first, second, afterGiven]).toEqual([true, false, true]);
    expect(await steps.releaseSteps(releaseId)).toEqual({
      steps: { 'shop-cart': step('succeeded', 1), 'shop-web': step('started', 0) },
      version: 2,
      drawnAt: at(1),
    });
  });

  it('takes an approval’s reminder once', async () => {
    // Prepare
    const { journeys, reminderOn } = await make();
    const request = approvalRequest({ pipelineName: `remind-${++seq}` });
    await reminderOn?.saveRequest(request);
    const post: ThreadPost = { kind: 'reminder', approvalId: request.id };
    // Act
    const first = await journeys.takePost(post, 'a', lease(0), at(0));
    await journeys.postDone(post, 'a', at(0));
    const second = await journeys.takePost(post, 'b', lease(90), at(90));
    // Assess
    expect([first, second]).toEqual([true, false]);
    // The approval's record reads as before: the reminder's marker is no part of it.
    if (reminderOn) expect((await reminderOn.get(request.id))?.request).toEqual(request);
  });
});
