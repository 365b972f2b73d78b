import {
  type CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  type ListPipelineExecutionsCommandOutput,
  PipelineNotFoundException,
  paginateListPipelineExecutions,
  paginateListPipelines,
  type StageExecution,
} from '@aws-sdk/client-codepipeline';
import { GreenlightError, PipelineGoneError, TransientError } from '../core/errors.ts';
import type {
  ActionStatus,
  ExecutionRef,
  ExecutionStatus,
  ExecutionSummary,
  PipelineSnapshot,
  Revision,
} from '../core/pipeline.ts';
import type { PipelineReader } from '../core/ports.ts';
import { PromiseMemo } from './promise-memo.ts';

/**
 * PipelineReader on CodePipeline. A stage's revision comes from its execution's revisions, which
 * never change, so they are cached per execution id: a board of N pipelines costs N
 * GetPipelineState calls plus one GetPipelineExecution per execution not seen before. Executions
 * just listed (ListPipelineExecutions carries each one's source revisions) need no lookup at all.
 */
export class CodePipelineReader implements PipelineReader {
  /** Lookups: stages sharing an execution ask for it once, even when read at once. */
  private readonly revisions: PromiseMemo<Revision | undefined>;
  /**
   * Revisions of the executions last listed for a pipeline, kept for its next snapshot only (which
   * takes them), so memory holds the pipelines being read, not every execution ever listed.
   */
  private readonly listed = new Map<string, Map<string, Revision>>();

  constructor(
    private readonly client: CodePipelineClient,
    cacheLimit = 5_000,
  ) {
    this.revisions = new PromiseMemo(cacheLimit);
  }

  async listPipelines(prefix: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const page of paginateListPipelines({ client: this.client, pageSize: 1000 }, {})) {
        for (const pipeline of page.pipelines ?? []) if (pipeline.name?.startsWith(prefix)) names.push(pipeline.name);
      }
    } catch (error) {
      // A role that could not be assumed in the pipelines' account says so in its own words.
      if (error instanceof GreenlightError) throw error;
      throw new TransientError('Could not list pipelines', { cause: error });
    }
    return names.sort();
  }

  async snapshot(pipelineName: string): Promise<PipelineSnapshot> {
    const listed = this.listed.get(pipelineName);
    this.listed.delete(pipelineName);
    const state = await this.call(pipelineName, () =>
      this.client.send(new GetPipelineStateCommand({ name: pipelineName })),
    );
    const stages = await Promise.all(
      (state.stageStates ?? []).map(async (stage) => ({
        name: stage.stageName ?? '',
        ...(await this.ref('latest', pipelineName, stage.latestExecution, listed)),
        ...(await this.ref('inbound', pipelineName, stage.inboundExecution, listed)),
        actions: (stage.actionStates ?? []).map((action) => ({
          name: action.actionName ?? '',
          ...defined({
            status: action.latestExecution?.status as ActionStatus | undefined,
            lastChange: action.latestExecution?.lastStatusChange,
            summary: action.latestExecution?.summary,
            updatedBy: action.latestExecution?.lastUpdatedBy,
            token: action.latestExecution?.status === 'InProgress' ? action.latestExecution.token : undefined,
          }),
        })),
      })),
    );
    return { name: pipelineName, stages };
  }

  /**
   * The pipeline's executions that started since `since`, newest first. Each summary carries the
   * execution's source revisions (PipelineExecutionSummary.sourceRevisions in the API model), the
   * same revision GetPipelineExecution's artifactRevisions would give: the next snapshot of this
   * pipeline takes them from here.
   */
  async executionsSince(pipelineName: string, since: Date): Promise<ExecutionSummary[]> {
    const executions: ExecutionSummary[] = [];
    const pages = paginateListPipelineExecutions({ client: this.client, pageSize: 100 }, { pipelineName });
    await this.call(pipelineName, async () => {
      for await (const page of pages as AsyncIterable<ListPipelineExecutionsCommandOutput>) {
        for (const execution of page.pipelineExecutionSummaries ?? []) {
          if (!execution.startTime || execution.startTime < since) return; // newest first: the rest is older
          const source = execution.sourceRevisions?.[0];
          executions.push({
            executionId: execution.pipelineExecutionId ?? '',
            status: execution.status as ExecutionStatus,
            startTime: execution.startTime,
            lastUpdateTime: execution.lastUpdateTime ?? execution.startTime,
            ...(source?.revisionId
              ? { revision: defined({ revisionId: source.revisionId, summary: source.revisionSummary }) }
              : {}),
          });
        }
      }
    });
    const revisions = new Map<string, Revision>();
    for (const { executionId, revision } of executions) if (revision) revisions.set(executionId, revision);
    this.listed.set(pipelineName, revisions);
    return executions;
  }

  private async ref(
    key: 'latest' | 'inbound',
    pipelineName: string,
    execution: StageExecution | undefined,
    listed: ReadonlyMap<string, Revision> | undefined,
  ): Promise<Partial<Record<'latest' | 'inbound', ExecutionRef>>> {
    if (!execution?.pipelineExecutionId) return {};
    const revision =
      listed?.get(execution.pipelineExecutionId) ?? (await this.revision(pipelineName, execution.pipelineExecutionId));
    return {
      [key]: {
        executionId: execution.pipelineExecutionId,
        status: execution.status as ExecutionStatus,
        ...(revision ? { revision } : {}),
      },
    };
  }

  private revision(pipelineName: string, executionId: string): Promise<Revision | undefined> {
    return this.revisions.get(executionId, () => this.lookUpRevision(pipelineName, executionId));
  }

  private async lookUpRevision(pipelineName: string, executionId: string): Promise<Revision | undefined> {
    const { pipelineExecution } = await this.call(pipelineName, () =>
      this.client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId })),
    );
    const artifact = pipelineExecution?.artifactRevisions?.[0];
    return artifact?.revisionId
      ? defined({ revisionId: artifact.revisionId, summary: artifact.revisionSummary })
      : undefined;
  }

  private async call<T>(pipelineName: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof PipelineNotFoundException)
        throw new PipelineGoneError('pipeline', `No pipeline ${pipelineName}`, { cause: error });
      if (error instanceof GreenlightError) throw error;
      throw new TransientError(`CodePipeline did not answer for ${pipelineName}`, { cause: error });
    }
  }
}

/** Drops undefined fields, so optional properties stay absent rather than undefined. */
function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
