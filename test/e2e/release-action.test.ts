import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../sandbox/app/function-url-server.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { productWaitsAt, release, releaseMessages, releasingJob, topView } from '../support/release-world.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

/** The releasing pipeline's action runs: the job CodePipeline creates, and the event it invokes the function with. */
function jobEvent(userParameters: string, continuationToken?: string) {
  const event = releasingJob(world, userParameters, continuationToken);
  return { event, jobId: event['CodePipeline.job'].id };
}

/** A Lambda context with the release action's five minutes ahead of it. */
const plentyOfTime = (): Context => ({ ...lambdaContext('release-action'), getRemainingTimeInMillis: () => 300_000 });

/** A Lambda context whose remaining time runs low (under the one-minute margin) after `plenty` looks. */
function runningOut(plenty: number): Context {
  let looks = 0;
  return { ...lambdaContext('release-action'), getRemainingTimeInMillis: () => (++looks <= plenty ? 600_000 : 5_000) };
}

const results = (jobId: string) =>
  world.emulator
    .calls()
    .filter((call) => call.operation.startsWith('PutJob') && call.input.jobId === jobId)
    .map((call): Record<string, unknown> => ({ operation: call.operation, ...call.input }));

const approvalsOf = (product: string) =>
  world.emulator
    .calls('PutApprovalResult')
    .filter((call) => call.ok && String(call.input.pipelineName).startsWith(`${product}-`));

describe('the release action of a releasing pipeline', () => {
  it('releases the product and reports success to CodePipeline', async () => {
    // Prepare
    await productWaitsAt(world, 'nightly', ['api', 'web', 'worker'], 'StagingQA');
    const { event, jobId } = jobEvent('{"product":"nightly","env":"prod"}');

    // Act
    await world.handlers.releaseAction(event, plentyOfTime());
    await world.settle();

    // Assess
    expect(approvalsOf('nightly')).toHaveLength(3);
    expect(results(jobId)).toEqual([
      {
        operation: 'PutJobSuccessResult',
        jobId,
        executionDetails: { summary: 'nightly → prod: 3 approved', percentComplete: 100 },
      },
    ]);
    const progress = releaseMessages(world, SANDBOX_CHANNELS.approvals).at(-1);
    expect(progress?.text).toBe('✅ Released nightly to prod — 3/3 approved');
    const summaries = approvalsOf('nightly').map((call) => (call.input.result as { summary: string }).summary);
    expect(summaries[0]).toBe(
      `Approved by nightly → prod by the releasing pipeline (job-${jobId}) via Greenlight release`,
    );
  });

  it('goes on where it stopped when its time runs short, through a continuation token', async () => {
    // Prepare
    await productWaitsAt(world, 'long', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], 'StagingQA');
    const { event, jobId } = jobEvent('{"product":"long","env":"prod"}');

    // Act: CodePipeline runs the action again, a new job with the token the first one gave
    await world.handlers.releaseAction(event, runningOut(3));
    await world.settle();
    const first = results(jobId);
    const approvedFirst = approvalsOf('long').length;
    const again = world.emulator.jobs.next(jobId);
    if (!again) throw new Error('CodePipeline ran the action no second time');
    const nextJobId = again['CodePipeline.job'].id;
    await world.handlers.releaseAction(again, plentyOfTime());
    await world.settle();

    // Assess
    expect(first).toEqual([
      {
        operation: 'PutJobSuccessResult',
        jobId,
        continuationToken: `job-${jobId}`,
        executionDetails: {
          summary: `long → prod: ${approvedFirst}/10 done so far`,
          percentComplete: approvedFirst * 10,
        },
      },
    ]);
    expect(approvedFirst).toBe(3);
    expect(again['CodePipeline.job'].data.continuationToken).toBe(`job-${jobId}`);
    expect(results(nextJobId)).toEqual([
      {
        operation: 'PutJobSuccessResult',
        jobId: nextJobId,
        executionDetails: { summary: 'long → prod: 10 approved', percentComplete: 100 },
      },
    ]);
    expect(approvalsOf('long')).toHaveLength(10);
    expect(new Set(approvalsOf('long').map((call) => call.input.pipelineName)).size).toBe(10);
  });

  it('approves nothing when a continuation token names a release someone planned in Slack and never confirmed', async () => {
    // Prepare: Alice opens /release guarded prod and closes the modal without confirming
    await productWaitsAt(world, 'guarded', ['a', 'b'], 'StagingQA');
    await release(world, 'U0ALICE', SANDBOX_CHANNELS.approvals, 'guarded prod');
    const { releaseId } = JSON.parse(topView(world, 'U0ALICE').private_metadata) as { releaseId: string };
    const { event, jobId } = jobEvent('{"product":"guarded","env":"prod"}', releaseId);

    // Act: a releasing pipeline's job comes with her release id as its continuation token
    await world.handlers.releaseAction(event, plentyOfTime());
    await world.settle();

    // Assess
    expect(approvalsOf('guarded')).toEqual([]);
    expect(results(jobId)).toEqual([
      {
        operation: 'PutJobFailureResult',
        jobId,
        failureDetails: {
          type: 'JobFailed',
          message: 'The continuation token is not one Greenlight gave for this action.',
        },
      },
    ]);
  });

  it('resumes instead of starting over when Lambda invokes it again for the same job', async () => {
    // Prepare
    await productWaitsAt(world, 'twice', ['a', 'b'], 'StagingQA');
    const { event, jobId } = jobEvent('{"product":"twice","env":"prod"}');
    await world.handlers.releaseAction(event, plentyOfTime());

    // Act
    await world.handlers.releaseAction(event, plentyOfTime());
    await world.settle();

    // Assess
    expect(approvalsOf('twice')).toHaveLength(2);
    expect(results(jobId).map((r) => r.operation)).toEqual(['PutJobSuccessResult', 'PutJobSuccessResult']);
    // CodePipeline keeps the first result; the repeat's is refused, and the action does not fail over it.
    expect(
      world.emulator
        .calls('PutJobSuccessResult')
        .filter((call) => call.input.jobId === jobId)
        .map((call) => call.ok),
    ).toEqual([true, false]);
  });

  it('reports a failure when a pipeline could not be approved, and says how to go on', async () => {
    // Prepare
    await productWaitsAt(world, 'flaky', ['a', 'b'], 'StagingQA');
    const { event, jobId } = jobEvent('{"product":"flaky","env":"prod"}');
    world.emulator.failNextCall('PutApprovalResult', 'ValidationException', 1, 'Injected refusal');

    // Act
    await world.handlers.releaseAction(event, plentyOfTime());
    await world.settle();

    // Assess
    expect(results(jobId)).toEqual([
      {
        operation: 'PutJobFailureResult',
        jobId,
        failureDetails: {
          type: 'JobFailed',
          message: 'flaky → prod: 1 approved, 1 failed. Retry the action to approve what is still pending.',
        },
      },
    ]);
  });

  it('reports a configuration error for bad parameters, an unknown product or env', async () => {
    // Prepare
    await productWaitsAt(world, 'known', ['a'], 'StagingDEV');
    const jobs = ['shop prod', '{"product":"unknown","env":"prod"}', '{"product":"known","env":"live"}'].map((params) =>
      jobEvent(params),
    );

    // Act
    for (const { event } of jobs) await world.handlers.releaseAction(event, plentyOfTime());

    // Assess
    const failures = jobs.map(({ jobId }) => results(jobId)[0]?.failureDetails);
    expect(failures[0]).toEqual({
      type: 'ConfigurationError',
      message: 'UserParameters must be JSON like {"product":"shop","env":"prod"}.',
    });
    expect(failures[1]).toMatchObject({ type: 'ConfigurationError' });
    expect((failures[1] as { message: string }).message).toMatch(/^There is no product unknown\. Products: .*known/);
    expect(failures[2]).toEqual({
      type: 'ConfigurationError',
      message: 'Product known has no env live. Envs: qa, prod.',
    });
  });
});
