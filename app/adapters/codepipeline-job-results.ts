import {
  type CodePipelineClient,
  GetJobDetailsCommand,
  InvalidJobStateException,
  JobNotFoundException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import type { JobDetails, JobResults } from '../core/release-ports.ts';

/** GetJobDetails, PutJobSuccessResult / PutJobFailureResult. */
export class CodePipelineJobResults implements JobResults {
  constructor(private readonly client: CodePipelineClient) {}

  async details(jobId: string): Promise<JobDetails | undefined> {
    try {
      const { jobDetails } = await this.client.send(new GetJobDetailsCommand({ jobId }));
      // Only what the action needs: the job also carries credentials for the artifact bucket.
      const data = jobDetails?.data;
      if (!data) return undefined;
      const pipelineName = data.pipelineContext?.pipelineName;
      return {
        configuration: { ...(data.actionConfiguration?.configuration ?? {}) },
        ...(data.continuationToken ? { continuationToken: data.continuationToken } : {}),
        ...(pipelineName ? { pipelineName } : {}),
      };
    } catch (error) {
      // No job of that id, or not even the form of one: CodePipeline gave no such job.
      if (error instanceof JobNotFoundException || error instanceof ValidationException) return undefined;
      throw error;
    }
  }

  async succeeded(
    jobId: string,
    result: { summary: string; percentComplete?: number; continuationToken?: string },
  ): Promise<void> {
    await reportedOnce(
      this.client.send(
        new PutJobSuccessResultCommand({
          jobId,
          executionDetails: {
            summary: result.summary.slice(0, 2048),
            ...(result.percentComplete === undefined ? {} : { percentComplete: result.percentComplete }),
          },
          ...(result.continuationToken ? { continuationToken: result.continuationToken } : {}),
        }),
      ),
    );
  }

  async failed(jobId: string, failure: { type: 'JobFailed' | 'ConfigurationError'; message: string }): Promise<void> {
    await reportedOnce(
      this.client.send(
        new PutJobFailureResultCommand({
          jobId,
          failureDetails: { type: failure.type, message: failure.message.slice(0, 5000) },
        }),
      ),
    );
  }
}

/**
 * A job takes one result. Lambda may invoke the action again for the same job (at least once):
 * the repeat resumes the same release and finds the job's result already given, which stands.
 */
async function reportedOnce(report: Promise<unknown>): Promise<void> {
  try {
    await report;
  } catch (error) {
    if (!(error instanceof InvalidJobStateException)) throw error;
  }
}
