import {
  InvalidJobStateException,
  JobNotFoundException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmulatorFixture, startEmulator } from './emulator-fixture.ts';

/*
 * The jobs of Lambda invoke actions, as the CodePipeline user guide ("Invoke an AWS Lambda function
 * in a pipeline") and the API reference (PutJobSuccessResult, PutJobFailureResult and their
 * exceptions) describe them, through the real SDK.
 */

/** What a call was refused with; undefined when it was not. */
const refusal = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error,
  );

const configuration = { FunctionName: 'greenlight-release-action', UserParameters: '{"product":"shop","env":"prod"}' };

describe('CodePipeline emulator: jobs of Lambda invoke actions', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it("hands the function its job's event, and takes a result only for a job it gave", async () => {
    // Prepare
    world = await startEmulator();
    // Act
    const event = world.emulator.jobs.start({ configuration });
    const unknown = await refusal(
      world.client.send(new PutJobSuccessResultCommand({ jobId: '11111111-2222-3333-4444-555555555555' })),
    );
    const taken = await refusal(
      world.client.send(new PutJobSuccessResultCommand({ jobId: event['CodePipeline.job'].id })),
    );
    // Assess
    expect(event['CodePipeline.job']).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      accountId: world.emulator.accountId,
      data: { actionConfiguration: { configuration }, inputArtifacts: [], outputArtifacts: [] },
    });
    expect(unknown).toBeInstanceOf(JobNotFoundException);
    expect(taken).toBeUndefined();
  });

  it('takes one result per job, and runs the action again after a success with a continuation token', async () => {
    // Prepare
    world = await startEmulator();
    const first = world.emulator.jobs.start({ configuration })['CodePipeline.job'].id;
    const failing = world.emulator.jobs.start({ configuration })['CodePipeline.job'].id;
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
    expect(again?.['CodePipeline.job'].data).toMatchObject({
      actionConfiguration: { configuration },
      continuationToken: 'job-1',
    });
    expect(repeated).toBeInstanceOf(InvalidJobStateException);
    expect(afterFailure).toBeInstanceOf(InvalidJobStateException);
    expect(world.emulator.jobs.next(failing)).toBeUndefined();
  });
});
