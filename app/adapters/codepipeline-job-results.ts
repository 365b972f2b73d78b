import {
  type CodePipelineClient,
  InvalidJobStateException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import type { JobResults } from '../core/release-ports.ts';

/** PutJobSuccessResult / PutJobFailureResult. */
export class CodePipelineJobResults implements JobResults {
  constructor(private readonly client: CodePipelineClient) {}

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
 * A job takes one result (InvalidJobStateException after it). Lambda may invoke the action again
 * for the same job (at least once): the repeat resumes the same release and finds the job's result
 * already given, which stands.
 */
async function reportedOnce(report: Promise<unknown>): Promise<void> {
  try {
    await report;
  } catch (error) {
    if (!(error instanceof InvalidJobStateException)) throw error;
  }
}
