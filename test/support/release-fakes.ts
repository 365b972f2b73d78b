import type { MessageRef } from '../../app/core/approval.ts';
import type { Digest } from '../../app/core/digest.ts';
import { MaybeDeliveredError, PipelineGoneError, TransientError } from '../../app/core/errors.ts';
import type { PipelineSnapshot, StageSnapshot } from '../../app/core/pipeline.ts';
import type { PipelineReader } from '../../app/core/ports.ts';
import type { ProductBoard } from '../../app/core/product-board.ts';
import { type ItemResult, itemKey, type ReleasePlan, type ReleaseRun } from '../../app/core/release.ts';
import type { ReleaseProgress, ReleaseReporter, ReleaseStore } from '../../app/core/release-ports.ts';
import type { SlackMessage } from '../../app/views/approval-message.ts';
import { productBoardMessage } from '../../app/views/product-board.ts';

/**
 * In-memory fakes for the release core, with the DynamoDB store's conditional semantics: a plan is
 * saved once, confirmed once, a pipeline is leased by one holder and finished once. Each call is
 * atomic but yields first, so concurrent callers interleave as they would over a network.
 */
export class MemoryReleaseStore implements ReleaseStore {
  readonly #runs = new Map<
    string,
    Omit<ReleaseRun, 'results'> & { messageLeaseUntil?: number; firstMessageLeaseAt?: number }
  >();
  readonly #items = new Map<string, { owner?: string; until?: number; result?: ItemResult }>();
  /** Makes the next `leaseItem` calls fail as a broken store would. */
  failLeases = 0;

  async savePlan(plan: ReleasePlan): Promise<'created' | 'exists'> {
    await turn();
    if (this.#runs.has(plan.releaseId)) return 'exists';
    this.#runs.set(plan.releaseId, copy({ ...plan, state: 'planned' }));
    return 'created';
  }

  async get(releaseId: string): Promise<ReleaseRun | undefined> {
    await turn();
    const run = this.#runs.get(releaseId);
    if (!run) return undefined;
    const { messageLeaseUntil: _lease, firstMessageLeaseAt: _first, ...stored } = run;
    const results: Record<string, ItemResult> = {};
    for (const item of stored.items) {
      const result = this.#items.get(key(releaseId, itemKey(item)))?.result;
      if (result) results[itemKey(item)] = result;
    }
    return copy({ ...stored, results });
  }

  async confirm(releaseId: string, at: Date): Promise<'confirmed' | 'already' | 'not-found'> {
    await turn();
    const run = this.#runs.get(releaseId);
    if (!run) return 'not-found';
    if (run.state !== 'planned') return 'already';
    run.state = 'confirmed';
    run.confirmedAt = new Date(at);
    return 'confirmed';
  }

  async leaseMessage(releaseId: string, until: Date, now: Date): Promise<{ firstTakenAt: Date } | false> {
    await turn();
    const run = this.#runs.get(releaseId);
    if (!run || run.message) return false;
    if ((run.messageLeaseUntil ?? Number.NEGATIVE_INFINITY) >= now.getTime()) return false;
    run.messageLeaseUntil = until.getTime();
    run.firstMessageLeaseAt ??= now.getTime();
    return { firstTakenAt: new Date(run.firstMessageLeaseAt) };
  }

  async recordMessage(releaseId: string, message: MessageRef): Promise<boolean> {
    await turn();
    const run = this.#runs.get(releaseId);
    if (!run || run.message) return false;
    run.message = { ...message };
    return true;
  }

  async leaseItem(releaseId: string, pipelineName: string, owner: string, until: Date, now: Date): Promise<boolean> {
    await turn();
    if (this.failLeases > 0) {
      this.failLeases -= 1;
      throw new Error('ProvisionedThroughputExceededException');
    }
    const item = this.#items.get(key(releaseId, pipelineName)) ?? {};
    if (item.result) return false;
    if (item.owner && item.owner !== owner && (item.until ?? 0) >= now.getTime()) return false;
    this.#items.set(key(releaseId, pipelineName), { owner, until: until.getTime() });
    return true;
  }

  async giveItemBack(releaseId: string, pipelineName: string, owner: string): Promise<void> {
    await turn();
    const item = this.#items.get(key(releaseId, pipelineName));
    if (item?.owner === owner && !item.result) this.#items.delete(key(releaseId, pipelineName));
  }

  async finishItem(releaseId: string, pipelineName: string, owner: string, result: ItemResult): Promise<boolean> {
    await turn();
    const item = this.#items.get(key(releaseId, pipelineName));
    if (!item || item.result || item.owner !== owner) return false;
    this.#items.set(key(releaseId, pipelineName), { result: copy(result) });
    return true;
  }

  async finishRun(releaseId: string, at: Date): Promise<boolean> {
    await turn();
    const run = this.#runs.get(releaseId);
    if (run?.state !== 'confirmed') return false;
    run.state = 'finished';
    run.finishedAt = new Date(at);
    return true;
  }

  /** A lease someone else holds (a worker that is still busy, or died). */
  holdLease(releaseId: string, pipelineName: string, owner: string, until: Date): void {
    this.#items.set(key(releaseId, pipelineName), { owner, until: until.getTime() });
  }
}

/** Pipelines as the core reads them: set a snapshot per pipeline, or make reading it fail. */
export class FakeReader implements PipelineReader {
  readonly #pipelines = new Map<string, PipelineSnapshot | 'gone' | 'busy'>();
  readonly reads: string[] = [];

  set(snapshot: PipelineSnapshot | { name: string; state: 'gone' | 'busy' }): this {
    this.#pipelines.set(snapshot.name, 'stages' in snapshot ? structuredClone(snapshot) : snapshot.state);
    return this;
  }

  async listPipelines(prefix: string): Promise<string[]> {
    await turn();
    return [...this.#pipelines.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  async snapshot(pipelineName: string): Promise<PipelineSnapshot> {
    await turn();
    this.reads.push(pipelineName);
    const found = this.#pipelines.get(pipelineName);
    if (!found || found === 'gone') throw new PipelineGoneError('pipeline', `No pipeline ${pipelineName}`);
    if (found === 'busy') throw new TransientError(`CodePipeline did not answer for ${pipelineName}`);
    return structuredClone(found);
  }

  async executionsSince(): Promise<never[]> {
    return [];
  }
}

/** The release's progress message, as posted and redrawn. */
export class FakeProgress implements ReleaseProgress {
  readonly posted: ReleaseRun[] = [];
  readonly updates: ReleaseRun[] = [];
  failPosts = 0;
  /** The next posts land in the channel, but Slack's answer is lost. */
  loseAnswers = 0;
  readonly #messages: Array<{ releaseId: string; message: MessageRef }> = [];

  async post(run: ReleaseRun): Promise<MessageRef> {
    await turn();
    if (this.failPosts > 0) {
      this.failPosts -= 1;
      throw new Error('An API error occurred: channel_not_found');
    }
    this.posted.push(copy(run));
    const message = { channel: run.channel, ts: `1700000000.${String(this.posted.length).padStart(6, '0')}` };
    this.#messages.push({ releaseId: run.releaseId, message });
    if (this.loseAnswers > 0) {
      this.loseAnswers -= 1;
      throw new MaybeDeliveredError('Slack did not answer the post');
    }
    return message;
  }

  async find(run: ReleaseRun): Promise<MessageRef | undefined> {
    await turn();
    return this.#messages.find((posted) => posted.releaseId === run.releaseId)?.message;
  }

  async update(run: ReleaseRun): Promise<void> {
    await turn();
    this.updates.push(copy(run));
  }
}

/** The worker's Slack, recorded. */
export class FakeReporter implements ReleaseReporter {
  readonly plans: Array<{ viewId: string; plan: ReleasePlan; viewHash?: string }> = [];
  readonly digests: Array<{ url: string; digest: Digest }> = [];
  readonly problems: string[] = [];
  readonly responses: Array<{ url: string; message: SlackMessage }> = [];
  readonly progress: ReleaseRun[] = [];
  closedViews = new Set<string>();

  async post(run: ReleaseRun): Promise<MessageRef> {
    this.progress.push(run);
    return { channel: run.channel, ts: '1.000001' };
  }
  async update(run: ReleaseRun): Promise<void> {
    this.progress.push(run);
  }
  async find(): Promise<MessageRef | undefined> {
    return undefined;
  }
  async showPlan(viewId: string, plan: ReleasePlan, viewHash?: string): Promise<void> {
    if (this.closedViews.has(viewId)) throw Object.assign(new Error('not_found'), { data: { error: 'not_found' } });
    this.plans.push({ viewId, plan, ...(viewHash ? { viewHash } : {}) });
  }
  async showProblem(_viewId: string, _heading: string, text: string): Promise<void> {
    this.problems.push(text);
  }
  async respond(url: string, text: string): Promise<void> {
    this.responses.push({ url, message: { text, blocks: [] } });
  }
  async showBoard(url: string, board: ProductBoard): Promise<void> {
    this.responses.push({ url, message: productBoardMessage(board, new Date('2025-03-04T10:00:00Z')) });
  }
  async showDigest(url: string, digest: Digest): Promise<void> {
    this.digests.push({ url, digest });
  }
}

export interface StageState {
  revisionId?: string;
  status?: 'InProgress' | 'Succeeded' | 'Failed';
  /** A token makes the stage's Approve action wait (status InProgress). */
  token?: string;
  /** The action that is running or failed, when the stage is not at its approval. */
  busyAction?: string;
  since?: Date;
  inboundRevisionId?: string;
}

const STAGES = ['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD'] as const;

/** A seed-000 pipeline as GetPipelineState shows it: each named stage's state, the rest never reached. */
export function pipelineSnapshot(
  name: string,
  stages: Partial<Record<(typeof STAGES)[number], StageState>>,
): PipelineSnapshot {
  return {
    name,
    stages: STAGES.map((stageName): StageSnapshot => {
      const state = stages[stageName];
      const actions =
        stageName === 'Source' || stageName === 'Build'
          ? [{ name: stageName }]
          : stageName === 'StagingPROD'
            ? [{ name: 'Deploy' }]
            : [{ name: 'Deploy' }, { name: 'Test' }, { name: 'Approve' }];
      if (!state) return { name: stageName, actions };
      const at = state.since ?? new Date('2025-03-04T09:00:00Z');
      return {
        name: stageName,
        latest: {
          executionId: `exec-${state.revisionId ?? 'x'}`,
          status: state.token ? 'InProgress' : (state.status ?? 'Succeeded'),
          ...(state.revisionId
            ? { revision: { revisionId: state.revisionId, summary: `Commit ${state.revisionId}` } }
            : {}),
        },
        ...(state.inboundRevisionId
          ? {
              inbound: {
                executionId: `exec-${state.inboundRevisionId}`,
                status: 'InProgress' as const,
                revision: { revisionId: state.inboundRevisionId },
              },
            }
          : {}),
        actions: actions.map((action) => {
          if (state.token && action.name === 'Approve')
            return { name: action.name, status: 'InProgress' as const, token: state.token, lastChange: at };
          if (state.busyAction === action.name)
            return {
              name: action.name,
              status: state.status === 'Failed' ? ('Failed' as const) : ('InProgress' as const),
              lastChange: at,
            };
          return { name: action.name, status: 'Succeeded' as const, lastChange: at };
        }),
      };
    }),
  };
}

/** A real-format token (lowercase UUID) numbered for readable failures. */
export const token = (n: number): string => `0b1c2d3e-4f50-4a6b-8c7d-${String(n).padStart(12, '0')}`;

const turn = () => Promise.resolve();
const copy = <T>(value: T): T => structuredClone(value);
const key = (releaseId: string, pipelineName: string) => `${releaseId}/${pipelineName}`;
