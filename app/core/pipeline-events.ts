import type { ApprovalRecord, Outcome } from './approval.ts';
import { logContext } from './decide-approval.ts';
import { PipelineGoneError, TransientError } from './errors.ts';
import type { PipelineReader } from './ports.ts';
import { type SettleDeps, settleApproval } from './settle-approval.ts';

/**
 * Keeping approvals true to CodePipeline from its own events (docs/architecture.md, "Messages follow
 * CodePipeline"). An event is a hint that something changed in a pipeline, never the truth: events
 * come at least once and in any order, so each one only makes Greenlight look again, at CodePipeline's
 * state, for the approvals it may concern. What ended there is closed once (the first outcome stands,
 * its audit event has a fixed id); what still waits is left alone, without a write or a redraw.
 */

/** Where CodePipeline says something changed. */
export interface PipelineChange {
  pipelineName: string;
  /** Stage and action events name their stage; pipeline events concern every stage. */
  stageName?: string;
  /** The pipeline's region (the event's `region`), when known. */
  region?: string;
}

export type FollowDeps = SettleDeps & { reader: PipelineReader };

/** `checked`: open approvals the change may concern; `closed`: those found ended and closed now. */
export interface FollowResult {
  checked: number;
  closed: number;
}

/**
 * Closes every open approval of the changed pipeline (and stage) that has ended in CodePipeline:
 * decided in the console or CLI (credited to a Greenlight decision when it was one), expired,
 * stopped, cancelled or replaced, or gone. Throws when CodePipeline could not be read for one of
 * them, after trying the others, so the event is delivered again.
 */
export async function followPipelineChange(deps: FollowDeps, change: PipelineChange): Promise<FollowResult> {
  const open = (await deps.store.listOpen()).filter((record) => concerns(record, change));
  const failures: unknown[] = [];
  let closed = 0;
  for (const record of open) {
    try {
      if (await closeIfEnded(deps, record)) closed += 1;
    } catch (error) {
      deps.log.warn('Could not bring an approval in line with CodePipeline; the event will be retried', {
        ...logContext(record),
        error,
      });
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} approvals could not be settled`);
  return { checked: open.length, closed };
}

const concerns = (record: ApprovalRecord, change: PipelineChange): boolean =>
  record.request.pipelineName === change.pipelineName &&
  (change.stageName === undefined || record.request.stageName === change.stageName) &&
  (change.region === undefined || record.request.region === change.region) &&
  // A request Greenlight could not read fully names no action it could look up: the console decides it.
  !record.request.unreadable;

/** True when the approval had ended and is closed now. */
async function closeIfEnded(deps: FollowDeps, record: ApprovalRecord): Promise<boolean> {
  const id = record.request.id;
  // The cheap look first: most events concern approvals that still wait, which need nothing.
  const seen = await deps.pipelines.approvalResult(record.request);
  if (seen.state === 'pending') return false;
  if (seen.state === 'unknown') throw new TransientError(`CodePipeline did not say where ${id} stands`);
  const result = await settleApproval(deps, id, { endedHow: (open) => endedHow(deps, open) });
  // `busy`: a decision is being applied right now (a Greenlight click's own PutApprovalResult sends
  // these events while its claim is live), and its holder closes the approval. A holder that died
  // leaves it to the next click, release or settle job once its claim runs out, as ever.
  return result.status === 'recorded';
}

/**
 * How an approval ended that CodePipeline no longer shows as the action's current one, from the
 * pipeline's state (GetPipelineState): an abandoned action or a stopped stage execution is
 * `stopped` (StopPipelineExecution, stop and abandon); a cancelled one `cancelled` (the pipeline
 * was updated); a missing pipeline, stage or action `gone`; otherwise CodePipeline moved on.
 */
async function endedHow(deps: FollowDeps, record: ApprovalRecord): Promise<Outcome | undefined> {
  const { pipelineName, stageName, actionName } = record.request;
  const at = deps.clock();
  let snapshot: Awaited<ReturnType<PipelineReader['snapshot']>>;
  try {
    snapshot = await deps.reader.snapshot(pipelineName);
  } catch (error) {
    if (error instanceof PipelineGoneError) return { kind: 'gone', what: 'pipeline', at };
    throw error;
  }
  const stage = snapshot.stages.find((s) => s.name === stageName);
  if (!stage) return { kind: 'gone', what: 'stage', at };
  const action = stage.actions.find((a) => a.name === actionName);
  if (!action) return { kind: 'gone', what: 'action', at };
  const stageStatus = stage.latest?.status;
  if (action.status === 'Abandoned' || stageStatus === 'Stopped' || stageStatus === 'Stopping')
    return { kind: 'stopped', why: 'stopped', at };
  if (stageStatus === 'Cancelled') return { kind: 'stopped', why: 'cancelled', at };
  return { kind: 'stopped', why: 'replaced', at };
}
