import type { ApprovalRequest } from './approval.ts';
import { type ChangeSetRef, type ChangeSetReview, gatedChangeSet, type PipelineLayout } from './change-set.ts';
import { TransientError } from './errors.ts';
import type { Log } from './ports.ts';
import {
  type ExecutionMark,
  type ProductionGap,
  type RawRevision,
  type RevisionReview,
  readRevisionSummary,
  revisionsSince,
  type SourceLocation,
  sourceRevision,
  compareUrl as toCompareUrl,
} from './revision.ts';

/**
 * What an approval asks people to approve (docs/what-am-i-approving.md): the source revision and its
 * distance from production, and the CloudFormation change set it gates. Stored with the request.
 */
export interface ApprovalReview {
  revision: RevisionReview;
  /** Undefined when the approval gates no change set (or `unread`). */
  changeSet?: ChangeSetReview;
  /** The reads did not finish within their time (REVIEW_BUDGET_MS): nothing is known of a change set. */
  unread?: true;
}

/**
 * How long the notification waits for the review before posting without it: CodePipeline throttles
 * a burst of approvals that a release causes, and the message must not wait for every retry (the
 * notification Lambda has 30 s, and its posts may wait 12 s for Slack's rate limit).
 */
export const REVIEW_BUDGET_MS = 5_000;

/** The review of an approval whose reads did not finish in time. */
export const UNREAD_REVIEW: ApprovalReview = {
  revision: { kind: 'unknown', why: 'CodePipeline did not answer in time' },
  unread: true,
};

/**
 * CodePipeline, as far as the review goes. Implementations throw the core's errors (PipelineGoneError,
 * TransientError), never the SDK's.
 */
export interface ReviewReader {
  /**
   * The pipeline's structure (GetPipeline) and where its source lives (its first Source action).
   * With `version`, a structure read before for that version may be given again (it never changes).
   */
  layout(pipelineName: string, version?: number): Promise<PipelineLayout & { source?: SourceLocation }>;
  /**
   * Where the approval waits (GetPipelineState): the execution in its stage, while the action waits
   * with this request's token, the pipeline's version, and the last stage's latest execution (what
   * production runs when it succeeded); undefined when CodePipeline shows the approval no more.
   */
  waitingExecution(
    request: Pick<ApprovalRequest, 'pipelineName' | 'stageName' | 'actionName' | 'token'>,
  ): Promise<Waiting | undefined>;
  /** The execution's source revision (GetPipelineExecution's first artifact revision). */
  executionRevision(pipelineName: string, executionId: string): Promise<RawRevision | undefined>;
  /** The newest execution that succeeded in the stage (ListPipelineExecutions, `succeededInStage`). */
  lastSucceededIn(pipelineName: string, stageName: string): Promise<ExecutionMark | undefined>;
  /**
   * Executions newest first (ListPipelineExecutions) back to `executionId` included, with their source
   * revisions; the list ends earlier when it is longer than the reader reads.
   */
  executionsBackTo(
    pipelineName: string,
    executionId: string,
  ): Promise<Array<ExecutionMark & { revision?: RawRevision }>>;
}

/**
 * CloudFormation's DescribeChangeSet, every page. What CloudFormation answers about the change set
 * itself (not found, no permission, FAILED) is a review of its own kind; a call that got no answer
 * throws TransientError.
 */
export interface ChangeSetReader {
  read(ref: ChangeSetRef): Promise<ChangeSetReview>;
}

export interface ReviewDeps {
  reader: ReviewReader;
  changeSets: ChangeSetReader;
  log: Log;
  /** Aborted when the notification stops waiting for the review: no read starts after that. */
  signal?: AbortSignal;
}

/** The readers, refusing to start a read once the review was given up (its result would be thrown away). */
function untilGivenUp(deps: ReviewDeps): ReviewDeps {
  const { signal } = deps;
  if (!signal) return deps;
  const guard = <A extends unknown[], R>(read: (...args: A) => Promise<R>) => {
    return (...args: A): Promise<R> =>
      signal.aborted ? Promise.reject(new TransientError('The review was given up')) : read(...args);
  };
  const { reader, changeSets, log } = deps;
  return {
    ...deps,
    // What a given-up review could not read was already said once ("posting without it").
    log: {
      debug: (message, context) => log.debug(message, context),
      info: (message, context) => log.info(message, context),
      warn: (message, context) => (signal.aborted ? log.debug(message, context) : log.warn(message, context)),
      error: (message, context) => log.error(message, context),
    },
    reader: {
      layout: guard(reader.layout.bind(reader)),
      waitingExecution: guard(reader.waitingExecution.bind(reader)),
      executionRevision: guard(reader.executionRevision.bind(reader)),
      lastSucceededIn: guard(reader.lastSucceededIn.bind(reader)),
      executionsBackTo: guard(reader.executionsBackTo.bind(reader)),
    },
    changeSets: { read: guard(changeSets.read.bind(changeSets)) },
  };
}

/**
 * Reads the review of one approval. Never throws: whatever cannot be read becomes a plain line
 * ("Greenlight could not read …"), because an approval must be posted whatever its review says.
 * Few calls, since a burst of approvals shares CodePipeline's rate with releases: the pipeline's
 * structure is read once per version, and the revision comes from the listing that counts the
 * revisions since production where there is one.
 */
export async function reviewApproval(given: ReviewDeps, request: ApprovalRequest): Promise<ApprovalReview> {
  const deps = untilGivenUp(given);
  let waiting: Waiting | undefined | 'failed' = 'failed';
  try {
    waiting = await deps.reader.waitingExecution(request);
  } catch (error) {
    deps.log.warn('Could not read where the approval waits', { approvalId: request.id, error });
  }
  let layout: (PipelineLayout & { source?: SourceLocation }) | undefined;
  try {
    layout = await deps.reader.layout(
      request.pipelineName,
      waiting === 'failed' ? undefined : waiting?.pipelineVersion,
    );
  } catch (error) {
    deps.log.warn('Could not read the pipeline structure for the approval review', { approvalId: request.id, error });
  }
  const [revision, changeSet] = await Promise.all([
    revisionUnderReview(deps, request, layout, waiting),
    layout ? changeSetUnderReview(deps, request, layout) : undefined,
  ]);
  return changeSet ? { revision, changeSet } : { revision };
}

/** Where an approval waits, as GetPipelineState shows it. */
export interface Waiting {
  executionId: string;
  pipelineVersion?: number;
  lastStage?: { name: string; executionId?: string; status?: string };
}

async function changeSetUnderReview(
  deps: ReviewDeps,
  request: ApprovalRequest,
  layout: PipelineLayout,
): Promise<ChangeSetReview | undefined> {
  const ref = gatedChangeSet(layout, request.stageName, request.actionName, request.region);
  if (!ref) return undefined;
  if ('variables' in ref)
    return {
      kind: 'unreadable',
      why: 'its stack or change set name is set by a pipeline variable',
      stackName: '',
      changeSetName: '',
      region: request.region,
    };
  try {
    return await deps.changeSets.read(ref);
  } catch (error) {
    deps.log.warn('Could not read the change set the approval gates', { approvalId: request.id, error });
    const { stackName, changeSetName, region } = ref;
    return { kind: 'unreadable', why: 'CloudFormation did not answer', stackName, changeSetName, region };
  }
}

/**
 * The revision, and where production stands: the revision of the newest execution that succeeded in
 * the pipeline's last stage (the one that deploys to production), and how many revisions the pipeline
 * ran since.
 */
async function revisionUnderReview(
  deps: ReviewDeps,
  request: ApprovalRequest,
  layout: (PipelineLayout & { source?: SourceLocation }) | undefined,
  waiting: Waiting | undefined | 'failed',
): Promise<RevisionReview> {
  const { reader, log } = deps;
  const { pipelineName } = request;
  if (waiting === 'failed') return { kind: 'unknown', why: 'CodePipeline did not answer' };
  if (!waiting) return { kind: 'unknown', why: 'CodePipeline no longer shows this approval waiting' };
  const { executionId, lastStage } = waiting;
  const stageName = lastStage?.name ?? layout?.stages.at(-1)?.name;

  // Production's execution: the last stage's latest when it succeeded (no call), else the newest that did.
  let productionId: string | undefined;
  let since: Array<ExecutionMark & { revision?: RawRevision }> | undefined;
  let productionRevision: string | undefined;
  let gap: ProductionGap | undefined;
  try {
    if (!stageName) gap = { kind: 'unknown', why: 'the pipeline structure could not be read' };
    else if (lastStage?.executionId && lastStage.status === 'Succeeded') productionId = lastStage.executionId;
    else if (lastStage && !lastStage.executionId) gap = { kind: 'none', stageName };
    else {
      const production = await reader.lastSucceededIn(pipelineName, stageName);
      if (production) productionId = production.executionId;
      else gap = { kind: 'none', stageName };
    }
    if (productionId) {
      since = await reader.executionsBackTo(pipelineName, productionId);
      productionRevision =
        since.find((execution) => execution.executionId === productionId)?.revisionId ??
        (await reader.executionRevision(pipelineName, productionId))?.revisionId;
      if (productionRevision === undefined) gap = { kind: 'unknown', why: 'production’s revision is not known' };
    }
  } catch (error) {
    log.warn('Could not read what production runs', { approvalId: request.id, error });
    gap = { kind: 'unknown', why: 'CodePipeline did not answer' };
  }

  let raw = since?.find((execution) => execution.executionId === executionId)?.revision;
  try {
    raw ??= await reader.executionRevision(pipelineName, executionId);
  } catch (error) {
    log.warn('Could not read the revision under review', { approvalId: request.id, error });
    return { kind: 'unknown', why: 'CodePipeline did not answer' };
  }
  if (!raw) return { kind: 'unknown', why: 'the pipeline execution names no source revision' };
  const revision = sourceRevision(raw, layout?.source, request.region);
  if (!gap && productionId && productionRevision !== undefined) {
    if (productionRevision === raw.revisionId) gap = { kind: 'same' };
    else {
      const count = since ? revisionsSince(since, productionId, executionId) : undefined;
      const { providerType } = readRevisionSummary(raw.revisionSummary);
      const compareUrl = toCompareUrl(layout?.source, providerType, productionRevision, raw.revisionId, request.region);
      gap = {
        kind: 'behind',
        revisionId: productionRevision,
        ...(count !== undefined ? { count } : {}),
        ...(compareUrl ? { compareUrl } : {}),
      };
    }
  }
  return { kind: 'known', revision, production: gap ?? { kind: 'unknown', why: 'CodePipeline did not answer' } };
}
