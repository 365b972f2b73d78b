import {
  GetJobDetailsCommand,
  InvalidJobStateException,
  JobNotFoundException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmulatorFixture, startEmulator } from './emulator-fixture.ts';

/*
 * The jobs of Lambda invoke actions, as the CodePipeline API reference describes GetJobDetails,
 * PutJobSuccessResult and PutJobFailureResult (shapes: the SDK's model), through the real SDK.
 */
/** What a call was refused with; undefined when it was not. */
const refusal = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('CodePipeline emulator: jobs of Lambda invoke actions', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  const releasing = {
    pipelineName: 'nightly-release',
    stageName: 'Release',
    actionName: 'Greenlight',
    configuration: { FunctionName: 'greenlight-release-action', UserParameters: '{"product":"shop","env":"prod"}' },
  };

  it("describes a job it gave with its action's configuration and where it runs, and no other", async () => {
    // Prepare
    world = await startEmulator();
    const event = world.emulator.jobs.start(releasing);
    const jobId = event['CodePipeline.job'].id;
    // Act
    const { jobDetails } = await world.client.send(new GetJobDetailsCommand({ jobId }));
    const unknown = await refusal(
      world.client.send(new GetJobDetailsCommand({ jobId: '11111111-2222-3333-4444-555555555555' })),
    );
    // Assess
    expect(event['CodePipeline.job'].data.actionConfiguration.configuration).toEqual(releasing.configuration);
    expect(jobDetails).toMatchObject({
      id: jobId,
      accountId: world.emulator.accountId,
      data: {
        actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' },
        actionConfiguration: { configuration: releasing.configuration },
        pipelineContext: {
          pipelineName: 'nightly-release',
          stage: { name: 'Release' },
          action: { name: 'Greenlight', actionExecutionId: expect.any(String) },
          pipelineArn: `arn:aws:codepipeline:${world.emulator.region}:${world.emulator.accountId}:nightly-release`,
        },
        artifactCredentials: expect.objectContaining({ accessKeyId: expect.any(String) }),
      },
    });
    expect(unknown).toBeInstanceOf(JobNotFoundException);
  });

  it('takes one result per job, and runs the action again after a success with a continuation token', async () => {
    // Prepare
    world = await startEmulator();
    const first = world.emulator.jobs.start(releasing)['CodePipeline.job'].id;
    const failing = world.emulator.jobs.start(releasing)['CodePipeline.job'].id;
    // Act
    await world.client.send(
      new PutJobSuccessResultCommand({
        jobId: first,
        continuationToken: 'job-1',
        executionDetails: { summary: '1/2' },
      }),
    );
    const again = world.emulator.jobs.next(first);
    const repeated = await refusal(world.client.send(new PutJobSuccessResultCommand({ jobId: first })));
    await world.client.send(
      new PutJobFailureResultCommand({ jobId: failing, failureDetails: { type: 'JobFailed', message: 'no' } }),
    );
    const afterFailure = await refusal(world.client.send(new PutJobSuccessResultCommand({ jobId: failing })));
    // Assess
    expect(again?.['CodePipeline.job'].id).not.toBe(first);
    expect(again?.['CodePipeline.job'].data.continuationToken).toBe('job-1');
    const { jobDetails } = await world.client.send(
      new GetJobDetailsCommand({ jobId: again?.['CodePipeline.job'].id ?? '' }),
    );
    expect(jobDetails?.data?.continuationToken).toBe('job-1');
    expect(repeated).toBeInstanceOf(InvalidJobStateException);
    expect(afterFailure).toBeInstanceOf(InvalidJobStateException);
    expect(world.emulator.jobs.next(failing)).toBeUndefined();
  });
});
