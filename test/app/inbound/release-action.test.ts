import { describe, expect, it } from 'vitest';
import { handleReleaseAction } from '../../../app/inbound/release-action.ts';
import { releaseDeps } from '../../support/release-deps.ts';

const jobEvent = (jobId: string, continuationToken?: string) => ({
  'CodePipeline.job': {
    id: jobId,
    data: {
      actionConfiguration: { configuration: { UserParameters: '{"product":"shop","env":"prod"}' } },
      ...(continuationToken ? { continuationToken } : {}),
    },
  },
});

const minutes = (n: number) => ({ getRemainingTimeInMillis: () => n * 60_000 });

describe('handleReleaseAction', () => {
  it('waits for pipelines another worker holds instead of handing CodePipeline a continuation at once', async () => {
    // Prepare: another invocation holds both pipelines, and lets them go while this one waits.
    const { deps, jobs, sleeps, duringSleep } = releaseDeps();
    deps.settings.incompleteWaitMs = 7_000;
    await handleReleaseAction(deps, jobEvent('j1'), minutes(0.5));
    jobs.length = 0;
    const pipelines = ['shop-cart', 'shop-catalog'];
    for (const pipeline of pipelines)
      deps.releases.holdLease('job-j1', pipeline, 'other', new Date('2025-03-04T10:04:00Z'));
    duringSleep(async () => {
      for (const pipeline of pipelines) await deps.releases.giveItemBack('job-j1', pipeline, 'other');
    });

    // Act
    await handleReleaseAction(deps, jobEvent('j1', 'job-j1'), minutes(5));

    // Assess
    expect(sleeps.filter((ms) => ms === 7_000)).toHaveLength(1);
    expect(jobs).toEqual([{ jobId: 'j1', succeeded: { summary: 'shop → prod: 2 approved', percentComplete: 100 } }]);
  });

  it('hands back a continuation without waiting when the invocation has no time to wait', async () => {
    // Prepare
    const { deps, jobs, sleeps } = releaseDeps();
    deps.settings.incompleteWaitMs = 7_000;
    await handleReleaseAction(deps, jobEvent('j2'), minutes(0.5));
    jobs.length = 0;
    for (const pipeline of ['shop-cart', 'shop-catalog'])
      deps.releases.holdLease('job-j2', pipeline, 'other', new Date('2025-03-04T10:04:00Z'));

    // Act
    await handleReleaseAction(deps, jobEvent('j2', 'job-j2'), { getRemainingTimeInMillis: () => 65_000 });

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
