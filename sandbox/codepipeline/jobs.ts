import { randomUUID } from 'node:crypto';
import { CodePipelineError } from './errors.ts';

/**
 * The jobs CodePipeline creates for Lambda invoke actions (CodePipeline user guide, "Invoke an AWS
 * Lambda function in a pipeline"; API reference: PutJobSuccessResult, PutJobFailureResult): a job
 * is created when the action runs, handed to the function in its event, and ends with the first
 * result reported for it. A success that carries a continuation token makes CodePipeline run the
 * action again: a new job with that token.
 *
 * The emulator runs no Lambda functions: a test starts the job (as the action running would) and
 * invokes the handler with the event the job returns. No GetJobDetails: the API reference gives it
 * to custom actions only.
 */
export interface InvokeJobInput {
  /** The action's configuration: `FunctionName`, `UserParameters`. */
  configuration: Readonly<Record<string, string>>;
  /**
   * A job run again after a success that carried this token (what `next` gives after
   * PutJobSuccessResult): for a test of a token Greenlight's own reporting would not have given.
   */
  continuationToken?: string;
}

/** The event Lambda gets for a CodePipeline job (user guide, "Example JSON event"). */
export interface InvokeJobEvent {
  'CodePipeline.job': {
    id: string;
    accountId: string;
    data: {
      actionConfiguration: { configuration: Record<string, string> };
      inputArtifacts: [];
      outputArtifacts: [];
      artifactCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
      continuationToken?: string;
    };
  };
}

interface Job {
  id: string;
  configuration: Record<string, string>;
  continuationToken?: string;
  state: 'InProgress' | 'Succeeded' | 'Failed';
  /** The job CodePipeline ran next with this one's continuation token. */
  next?: string;
}

/** Temporary credentials for the artifact bucket, as every job carries them: fake, never real. */
const ARTIFACT_CREDENTIALS = {
  accessKeyId: 'ASIAEMULATOREXAMPLE1',
  secretAccessKey: 'emulator/artifact/credentials/EXAMPLEKEY',
  sessionToken: 'emulator-session-token-EXAMPLE',
};

export class InvokeJobs {
  readonly #jobs = new Map<string, Job>();

  constructor(private readonly accountId: string) {}

  /** The action runs: a job is created, and its event is what the function is invoked with. */
  start(input: InvokeJobInput): InvokeJobEvent {
    const job: Job = {
      id: randomUUID(),
      configuration: { ...input.configuration },
      state: 'InProgress',
      ...(input.continuationToken === undefined ? {} : { continuationToken: input.continuationToken }),
    };
    this.#jobs.set(job.id, job);
    return this.#event(job);
  }

  /** The event of the job CodePipeline ran after `jobId` reported success with a continuation token. */
  next(jobId: string): InvokeJobEvent | undefined {
    const next = this.#jobs.get(jobId)?.next;
    const job = next ? this.#jobs.get(next) : undefined;
    return job ? this.#event(job) : undefined;
  }

  /** PutJobSuccessResult: the job ends; with a continuation token the action runs again. */
  succeeded(jobId: string, continuationToken?: string): void {
    const job = this.#inProgress(jobId);
    job.state = 'Succeeded';
    if (continuationToken === undefined) return;
    const next: Job = { id: randomUUID(), configuration: job.configuration, continuationToken, state: 'InProgress' };
    this.#jobs.set(next.id, next);
    job.next = next.id;
  }

  /** PutJobFailureResult: the job ends. */
  failed(jobId: string): void {
    this.#inProgress(jobId).state = 'Failed';
  }

  #inProgress(jobId: string): Job {
    const job = this.#jobs.get(jobId);
    // JobNotFoundException: "The job was specified in an invalid format or cannot be found."
    if (!job)
      throw new CodePipelineError(
        'JobNotFoundException',
        'The job was specified in an invalid format or cannot be found.',
      );
    // InvalidJobStateException: "The job state was specified in an invalid format."
    if (job.state !== 'InProgress')
      throw new CodePipelineError('InvalidJobStateException', `The job ${jobId} is ${job.state}, not InProgress.`);
    return job;
  }

  #event(job: Job): InvokeJobEvent {
    return {
      'CodePipeline.job': {
        id: job.id,
        accountId: this.accountId,
        data: {
          actionConfiguration: { configuration: { ...job.configuration } },
          inputArtifacts: [],
          outputArtifacts: [],
          artifactCredentials: { ...ARTIFACT_CREDENTIALS },
          ...(job.continuationToken ? { continuationToken: job.continuationToken } : {}),
        },
      },
    };
  }
}
