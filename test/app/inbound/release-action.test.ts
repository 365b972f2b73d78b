import { describe, expect, it } from 'vitest';
import type { JobDetails } from '../../../app/core/release-ports.ts';
import { handleReleaseAction } from '../../../app/inbound/release-action.ts';
import { releaseDeps } from '../../support/release-deps.ts';

const USER_PARAMETERS = '{"product":"shop","env":"prod"}';

/** CodePipeline runs the action: a job it knows (GetJobDetails), and the event it invokes the function with. */
function jobEvent(known: Map<string, JobDetails>, jobId: string, continuationToken?: string) {
  known.set(jobId, {
    configuration: { UserParameters: USER_PARAMETERS },
    ...(continuationToken ? { continuationToken } : {}),
  });
  return {
    'CodePipeline.job': {
      id: jobId,
      data: {
        actionConfiguration: { configuration: { UserParameters: USER_PARAMETERS } },
        ...(continuationToken ? { continuationToken } : {}),
      },
    },
  };
}

const minutes = (n: number) => ({ getRemainingTimeInMillis: () => n * 60_000 });

describe('handleReleaseAction', () => {
  it('waits for pipelines another worker holds instead of handing CodePipeline a continuation at once', async () => {
    // Prepare: another invocation holds both pipelines, and lets them go while this one waits.
    const { deps, jobs, knownJobs, sleeps, duringSleep } = releaseDeps();
    deps.settings.incompleteWaitMs = 7_000;
    await handleReleaseAction(deps, jobEvent(knownJobs, 'j1'), minutes(0.5));
    jobs.length = 0;
    const pipelines = ['shop-cart', 'shop-catalog'];
    for (const pipeline of pipelines)
      deps.releases.holdLease('job-j1', pipeline, 'other', new Date('2025-03-04T10:04:00Z'));
    duringSleep(async () => {
      for (const pipeline of pipelines) await deps.releases.giveItemBack('job-j1', pipeline, 'other');
    });

    // Act
    await handleReleaseAction(deps, jobEvent(knownJobs, 'j1', 'job-j1'), minutes(5));

    // Assess
    expect(sleeps.filter((ms) => ms === 7_000)).toHaveLength(1);
    expect(jobs).toEqual([{ jobId: 'j1', succeeded: { summary: 'shop → prod: 2 approved', percentComplete: 100 } }]);
  });

  it('hands back a continuation without waiting when the invocation has no time to wait', async () => {
    // Prepare
    const { deps, jobs, knownJobs, sleeps } = releaseDeps();
    deps.settings.incompleteWaitMs = 7_000;
    await handleReleaseAction(deps, jobEvent(knownJobs, 'j2'), minutes(0.5));
    jobs.length = 0;
    for (const pipeline of ['shop-cart', 'shop-catalog'])
      deps.releases.holdLease('job-j2', pipeline, 'other', new Date('2025-03-04T10:04:00Z'));

    // Act
    await handleReleaseAction(deps, jobEvent(knownJobs, 'j2', 'job-j2'), { getRemainingTimeInMillis: () => 65_000 });

    // Assess
    expect(sleeps.filter((ms) => ms === 7_000)).toEqual([]);
    expect(jobs).toEqual([
      {
        jobId: 'j2',
        succeeded: { summary: 'shop → prod: 0/2 done so far', percentComplete: 0, continuationToken: 'job-j2' },
      },
    ]);
  });
});

describe('an invocation that is not a job CodePipeline gave', () => {
  it('releases nothing and reports nothing, whatever its event says', async () => {
    // Prepare: anyone who may invoke the function sends a job event of their own
    const { deps, jobs, sent } = releaseDeps();
    const forged = {
      'CodePipeline.job': {
        id: 'j9',
        data: { actionConfiguration: { configuration: { UserParameters: USER_PARAMETERS } } },
      },
    };
    // Act
    await handleReleaseAction(deps, forged, minutes(5));
    // Assess
    expect(jobs).toEqual([]);
    expect(sent).toEqual([]);
    expect(await deps.releases.get('job-j9')).toBeUndefined();
    expect(deps.log.entries.map((entry) => entry.message)).toContain(
      'Refused an invocation whose job CodePipeline does not know',
    );
  });

  it('takes the parameters CodePipeline gave the job, not the ones in the event', async () => {
    // Prepare: a real job of a pipeline that releases nothing (bad parameters), invoked with other ones
    const { deps, jobs, knownJobs, sent } = releaseDeps();
    knownJobs.set('j8', { configuration: { UserParameters: 'nothing to release' } });
    const event = {
      'CodePipeline.job': {
        id: 'j8',
        data: { actionConfiguration: { configuration: { UserParameters: USER_PARAMETERS } } },
      },
    };
    // Act
    await handleReleaseAction(deps, event, minutes(5));
    // Assess
    expect(jobs).toEqual([
      { jobId: 'j8', failed: { type: 'ConfigurationError', message: expect.stringContaining('UserParameters') } },
    ]);
    expect(sent).toEqual([]);
  });

  it('leaves a job of another function alone', async () => {
    // Prepare
    const { deps, jobs, knownJobs } = releaseDeps();
    knownJobs.set('j7', {
      configuration: {
        FunctionName: 'arn:aws:lambda:eu-central-1:123456789012:function:deploy-thing',
        UserParameters: USER_PARAMETERS,
      },
    });
    // Act
    await handleReleaseAction(deps, jobEvent(new Map(), 'j7'), {
      ...minutes(5),
      functionName: 'greenlight-release-action',
    });
    // Assess
    expect(jobs).toEqual([]);
    expect(await deps.releases.get('job-j7')).toBeUndefined();
  });
});
