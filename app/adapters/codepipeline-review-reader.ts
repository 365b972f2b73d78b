import {
  type CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  type PipelineExecutionSummary,
  PipelineNotFoundException,
} from '@aws-sdk/client-codepipeline';
import type { ApprovalRequest } from '../core/approval.ts';
import type { LayoutAction, PipelineLayout } from '../core/change-set.ts';
import { PipelineGoneError, TransientError } from '../core/errors.ts';
import type { ExecutionMark, RawRevision, SourceLocation } from '../core/revision.ts';
import type { ReviewReader, Waiting } from '../core/revision-review.ts';
import { PromiseMemo } from './promise-memo.ts';

/** Pages of executions read at most, looking back to production's (100 executions a page). */
const MAX_EXECUTION_PAGES = 5;

/**
 * ReviewReader on CodePipeline: GetPipeline for the structure, GetPipelineState for the execution an
 * approval waits in, GetPipelineExecution for its artifact revisions, ListPipelineExecutions for what
 * production runs and what ran since. Called on the notification's patient path only.
 */
export class CodePipelineReviewReader implements ReviewReader {
  /** Structures by pipeline and version: a version's structure never changes, so it is read once. */
  private readonly layouts: PromiseMemo<PipelineLayout & { source?: SourceLocation }>;

  constructor(
    private readonly client: CodePipelineClient,
    cacheLimit = 500,
  ) {
    this.layouts = new PromiseMemo(cacheLimit);
  }

  layout(pipelineName: string, version?: number): Promise<PipelineLayout & { source?: SourceLocation }> {
    if (version === undefined) return this.readLayout(pipelineName);
    return this.layouts.get(`${pipelineName}@${version}`, () => this.readLayout(pipelineName, version));
  }

  private async readLayout(
    pipelineName: string,
    version?: number,
  ): Promise<PipelineLayout & { source?: SourceLocation }> {
    const { pipeline } = await this.call(pipelineName, () =>
      this.client.send(new GetPipelineCommand({ name: pipelineName, ...(version === undefined ? {} : { version }) })),
    );
    const stages = (pipeline?.stages ?? []).map((stage) => ({
      name: stage.name ?? '',
      actions: (stage.actions ?? []).map(
        (action): LayoutAction => ({
          name: action.name ?? '',
          category: action.actionTypeId?.category ?? '',
          provider: action.actionTypeId?.provider ?? '',
          runOrder: action.runOrder ?? 1,
          configuration: { ...(action.configuration ?? {}) },
          ...(action.region ? { region: action.region } : {}),
          ...(action.roleArn ? { roleArn: action.roleArn } : {}),
        }),
      ),
    }));
    const sourceAction = stages.flatMap((stage) => stage.actions).find((action) => action.category === 'Source');
    return sourceAction ? { stages, source: sourceOf(sourceAction) } : { stages };
  }

  async waitingExecution(
    request: Pick<ApprovalRequest, 'pipelineName' | 'stageName' | 'actionName' | 'token'>,
  ): Promise<Waiting | undefined> {
    const state = await this.call(request.pipelineName, () =>
      this.client.send(new GetPipelineStateCommand({ name: request.pipelineName })),
    );
    const stage = state.stageStates?.find((candidate) => candidate.stageName === request.stageName);
    const action = stage?.actionStates?.find((candidate) => candidate.actionName === request.actionName);
    // Only while the action still waits with this very token is the stage's execution the approval's.
    const executionId = stage?.latestExecution?.pipelineExecutionId;
    if (action?.latestExecution?.token !== request.token || !executionId) return undefined;
    const last = state.stageStates?.at(-1);
    return {
      executionId,
      ...(state.pipelineVersion === undefined ? {} : { pipelineVersion: state.pipelineVersion }),
      ...(last?.stageName
        ? {
            lastStage: {
              name: last.stageName,
              ...(last.latestExecution?.pipelineExecutionId
                ? {
                    executionId: last.latestExecution.pipelineExecutionId,
                    ...(last.latestExecution.status ? { status: last.latestExecution.status } : {}),
                  }
                : {}),
            },
          }
        : {}),
    };
  }

  async executionRevision(pipelineName: string, executionId: string): Promise<RawRevision | undefined> {
    const { pipelineExecution } = await this.call(pipelineName, () =>
      this.client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })),
    );
    const artifact = pipelineExecution?.artifactRevisions?.find((revision) => revision.revisionId);
    if (!artifact?.revisionId) return undefined;
    return {
      revisionId: artifact.revisionId,
      ...(artifact.revisionSummary ? { revisionSummary: artifact.revisionSummary } : {}),
      ...(artifact.revisionUrl ? { revisionUrl: artifact.revisionUrl } : {}),
    };
  }

  async lastSucceededIn(pipelineName: string, stageName: string): Promise<ExecutionMark | undefined> {
    const { pipelineExecutionSummaries } = await this.call(pipelineName, () =>
      this.client.send(
        new ListPipelineExecutionsCommand({
          pipelineName,
          maxResults: 1,
          filter: { succeededInStage: { stageName } },
        }),
      ),
    );
    const newest = pipelineExecutionSummaries?.[0];
    return newest ? mark(newest) : undefined;
  }

  async executionsBackTo(
    pipelineName: string,
    executionId: string,
  ): Promise<Array<ExecutionMark & { revision?: RawRevision }>> {
    const marks: Array<ExecutionMark & { revision?: RawRevision }> = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_EXECUTION_PAGES; page++) {
      const answer = await this.call(pipelineName, () =>
        this.client.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: 100, nextToken })),
      );
      for (const summary of answer.pipelineExecutionSummaries ?? []) {
        marks.push(mark(summary));
        if (summary.pipelineExecutionId === executionId) return marks;
      }
      nextToken = answer.nextToken;
      if (!nextToken) return marks;
    }
    return marks;
  }

  private async call<T>(pipelineName: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof PipelineNotFoundException)
        throw new PipelineGoneError('pipeline', `No pipeline ${pipelineName}`, { cause: error });
      throw new TransientError(`CodePipeline did not answer for ${pipelineName}`, { cause: error });
    }
  }
}

/**
 * An execution as listed: PipelineExecutionSummary.sourceRevisions carries the same revision (id,
 * summary, URL) GetPipelineExecution gives as artifactRevisions, so a listed execution needs no lookup.
 */
function mark(summary: PipelineExecutionSummary): ExecutionMark & { revision?: RawRevision } {
  const source = summary.sourceRevisions?.find((revision) => revision.revisionId);
  const revision: RawRevision | undefined = source?.revisionId
    ? {
        revisionId: source.revisionId,
        ...(source.revisionSummary ? { revisionSummary: source.revisionSummary } : {}),
        ...(source.revisionUrl ? { revisionUrl: source.revisionUrl } : {}),
      }
    : undefined;
  return {
    executionId: summary.pipelineExecutionId ?? '',
    startedAt: summary.startTime?.getTime() ?? 0,
    ...(revision ? { revisionId: revision.revisionId, revision } : {}),
  };
}

/**
 * The repository a Source action reads: `FullRepositoryId` for connections (GitHub, GitLab,
 * Bitbucket), `RepositoryName` for CodeCommit, `Owner`/`Repo` for GitHub version 1 (action
 * configuration reference in the CodePipeline user guide).
 */
function sourceOf(action: LayoutAction): SourceLocation {
  const { FullRepositoryId, RepositoryName, Owner, Repo } = action.configuration;
  const repository =
    FullRepositoryId ?? RepositoryName ?? (Owner && Repo ? `${Owner}/${Repo}` : undefined) ?? undefined;
  return { provider: action.provider, ...(repository ? { repository } : {}) };
}
