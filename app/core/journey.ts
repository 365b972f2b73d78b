import { type ApprovalId, type ApprovalRecord, type ApprovalRequest, type Decision, personOf } from './approval.ts';
import { MaybeDeliveredError, PipelineGoneError, TransientError } from './errors.ts';
import { type ReleaseJourneyDeps, showInRelease } from './journey-release.ts';
import { pendingApprovalIn } from './pipeline.ts';
import { type PipelinePlace, type ReaderAt, sameAccount } from './pipeline-events.ts';
import { USER_ID } from './policy.ts';
import type {
  ApprovalStore,
  Clock,
  IdSource,
  JourneyLink,
  JourneyStepPost,
  JourneyStore,
  Log,
  PipelineReader,
  ThreadNotifier,
  ThreadPost,
} from './ports.ts';
import { itemKey } from './release.ts';
import type { StartedApproval } from './unnotified-approval.ts';

/**
 * The change's journey after an approval (docs/architecture.md, "Messages follow CodePipeline"):
 * once Greenlight approved a change, the same execution is followed through the stages after the
 * approval's, and each step goes into the approval message's thread — deploy started, succeeded,
 * failed (naming the failed action, with a console link, mentioning the approver), and "reached
 * production" with the time since the approval.
 *
 * Two things make this work with events that come at least once and in any order:
 * - **The link.** An approval's record knows its token, not its execution. While the approval waits,
 *   CodePipeline shows both (the stage's execution and the action's token), so the approval's own
 *   STARTED event links the execution to the approval (one item per execution and approval stage,
 *   the first link stands). Which approval a later event belongs to is then a lookup: the linked
 *   approval in the nearest stage before the event's. Whether Greenlight approved it is the
 *   approval's record (`approved`, by a click or a release); console and CLI decisions get no posts.
 * - **Steps imply their predecessors.** A stage that succeeded also started; a later stage that
 *   started means the ones before it succeeded; the pipeline's success means every stage did. So
 *   each event posts every step it implies that was not posted yet, in the journey's order, and an
 *   event that comes late finds its step posted. Each post is taken with a conditional write (a
 *   lease, given back when the post fails), so it goes out once.
 */

/** What one CodePipeline event says about an execution (app/inbound/pipeline-events.ts reads it). */
export interface ExecutionHint {
  level: 'pipeline' | 'stage' | 'action';
  pipelineName: string;
  executionId: string;
  state: string;
  stageName?: string;
  actionName?: string;
  /** The action's category (`Approval`, `Deploy`, …), for action events. */
  category?: string;
  /** The action's `execution-result.external-execution-summary`, when it has one. */
  summary?: string;
  region?: string;
  /** The pipeline's account when a product names it (core/pipeline-events.ts eventPlace); absent: Greenlight's own. */
  account?: string;
  /** When it happened (the event's `time`). */
  at?: Date;
}

export interface JourneyDeps extends Partial<ReleaseJourneyDeps> {
  store: Pick<ApprovalStore, 'get'>;
  journeys: JourneyStore;
  /** Reads the pipeline where it lives: in another account through its role, never with Greenlight's own credentials. */
  readerAt: ReaderAt;
  threads: Pick<ThreadNotifier, 'journeyStep'>;
  /**
   * The approval id of a token where it waits (a digest of the token, and in another account of its
   * account and region too: the core does no cryptography).
   */
  approvalIdFor: (token: string, place?: PipelinePlace) => ApprovalId;
  /**
   * An approval that started with no request stored yet is looked at again a grace period later,
   * and posted from the pipeline's state if no notification brought it (core/unnotified-approval.ts).
   */
  checkNotifiedLater?: (started: StartedApproval) => Promise<void>;
  clock: Clock;
  ids: IdSource;
  log: Log;
}

/**
 * How long a post is held by the delivery that took it: far beyond one chat.postMessage with its
 * rate-limit waits (the worker's budget is 30 s), so a live poster is never overtaken.
 */
export const THREAD_POST_LEASE_MS = 120_000;

type Step = { kind: 'started' | 'succeeded' | 'failed'; stageName: string } | { kind: 'production' };

/** `linked`: an approval waiting in the execution was linked; `posted`: thread posts made now. */
export interface JourneyResult {
  linked: boolean;
  posted: number;
}

/** Follows one event of an execution: links a waiting approval, or posts the steps it implies. */
export async function followJourney(deps: JourneyDeps, hint: ExecutionHint): Promise<JourneyResult> {
  if (isApprovalStart(hint)) {
    const started = await linkWaitingApproval(deps, hint);
    if (started && deps.checkNotifiedLater && !(await deps.store.get(started.approvalId)))
      await deps.checkNotifiedLater(started);
    await showNextApproval(deps, hint, 'waiting');
    return { linked: started !== undefined, posted: 0 };
  }
  if (!isJourneyEvent(hint)) return { linked: false, posted: 0 };
  const links = await deps.journeys.journeysOf(hint.pipelineName, hint.executionId);
  // A stage holding an approval of this execution that started fails by that approval's ending (its
  // actions before it succeeded): rejected or expired, as its own message shows. No thread post; a
  // release's line says its change stopped there.
  if (hint.state === 'FAILED' && links.some((link) => link.stageName === hint.stageName)) {
    await showNextApproval(deps, hint, 'stopped', links);
    return { linked: false, posted: 0 };
  }
  const link = followingLink(links, hint);
  if (!link) return { linked: false, posted: 0 };
  const record = await recordedApproval(deps, link.approvalId);
  // An execution id names one execution in one account: an approval of another account is not this one's.
  if (!record || !sameAccount(record.request, hint.account)) return { linked: false, posted: 0 };
  const decision = approvedInSlack(record);
  if (!decision) return { linked: false, posted: 0 };
  const steps = impliedSteps(link, hint);
  const releaseId = record.outcome?.releaseId;
  let posted = 0;
  for (const step of steps) {
    // A release's changes are followed on its progress message, one line each; their threads get
    // only a failure, which needs the requester. Fifty threads hearing every step would be noise,
    // and more posts than Slack allows a channel (about one a second).
    if (releaseId && step.kind !== 'failed') continue;
    if (await postStep(deps, { link, record, decision, hint }, step)) posted += 1;
  }
  const last = steps.at(-1);
  if (releaseId && last) await showOnRelease(deps, releaseId, link, record.request, last, hint.at ?? deps.clock());
  return { linked: false, posted };
}

/**
 * A released change reached the next approval (it waits in a later stage of the same execution), or
 * stopped there (that approval was rejected or expired): its release's line says so. No stage event
 * would say it waits, as the stage runs on until that approval is answered. Threads hear nothing of
 * either: the next approval's own message is the news.
 */
async function showNextApproval(
  deps: JourneyDeps,
  hint: ExecutionHint,
  kind: 'waiting' | 'stopped',
  links?: readonly JourneyLink[],
): Promise<void> {
  if (!deps.releaseSteps || hint.stageName === undefined) return;
  // Best effort, as every release line: the event's own work (the link) is done and stands.
  try {
    const link = followingLink(links ?? (await deps.journeys.journeysOf(hint.pipelineName, hint.executionId)), hint);
    if (!link) return;
    const seen = await deps.store.get(link.approvalId);
    // Only a release's approve has a line to draw: a click's still being written is not waited for.
    if (!seen || (beingRecorded(seen) && !seen.claim?.actor.release)) return;
    const record = await recordedApproval(deps, link.approvalId, seen);
    if (!record || !sameAccount(record.request, hint.account) || !approvedInSlack(record)) return;
    const releaseId = record.outcome?.releaseId;
    if (releaseId)
      await showOnRelease(
        deps,
        releaseId,
        link,
        record.request,
        { kind, stageName: hint.stageName },
        hint.at ?? deps.clock(),
      );
  } catch (error) {
    deps.log.warn('Could not show on its release where a released change met its next approval', {
      pipeline: hint.pipelineName,
      executionId: hint.executionId,
      stage: hint.stageName,
      error,
    });
  }
}

/** For a release's approval: the pipeline's line on the release's progress message (core/journey-release.ts). */
async function showOnRelease(
  deps: JourneyDeps,
  releaseId: string,
  link: JourneyLink,
  request: Pick<ApprovalRequest, 'account' | 'region'>,
  step: Step | { kind: 'waiting' | 'stopped'; stageName: string },
  at: Date,
) {
  const { releases, releaseSteps, releaseView, sleep } = deps;
  if (!releases || !releaseSteps || !releaseView || !sleep) return;
  const after = link.stages.slice(stageIndex(link, link.stageName) + 1);
  // Within a stage: started, its approval waiting (0.5, added later: ranks kept with releases stay
  // as they were), succeeded, and its ends: failed, or stopped at its approval.
  const rank =
    step.kind === 'production'
      ? after.length * 3
      : after.indexOf(step.stageName) * 3 +
        { started: 0, waiting: 0.5, succeeded: 1, failed: 2, stopped: 2 }[step.kind];
  await showInRelease(
    { releases, releaseSteps, releaseView, sleep, clock: deps.clock, ids: deps.ids, log: deps.log },
    releaseId,
    // The release's name for the pipeline: in another account, with its account and region.
    itemKey({
      pipelineName: link.pipelineName,
      ...(request.account ? { place: { account: request.account, region: request.region } } : {}),
    }),
    {
      kind: step.kind,
      ...(step.kind === 'production' ? {} : { stageName: step.stageName }),
      rank,
      at,
    },
  );
}

const isApprovalStart = (hint: ExecutionHint): boolean =>
  hint.level === 'action' && hint.state === 'STARTED' && hint.category === 'Approval';

/** The events a journey has steps for; everything else (stopping, superseded, approvals) is not one. */
const isJourneyEvent = (hint: ExecutionHint): boolean =>
  (hint.level === 'stage' && ['STARTED', 'SUCCEEDED', 'FAILED'].includes(hint.state)) ||
  (hint.level === 'action' && hint.state === 'FAILED' && hint.category !== 'Approval') ||
  (hint.level === 'pipeline' && hint.state === 'SUCCEEDED');

/**
 * Links the execution to the approval that waits in the event's stage, if CodePipeline still shows
 * it waiting there in that very execution (an event that comes after the approval was answered finds
 * no token: such an approval has no journey). Returns the approval linked now, if one was.
 */
async function linkWaitingApproval(deps: JourneyDeps, hint: ExecutionHint): Promise<StartedApproval | undefined> {
  const place: PipelinePlace = { region: hint.region ?? '', ...(hint.account ? { account: hint.account } : {}) };
  let snapshot: Awaited<ReturnType<PipelineReader['snapshot']>>;
  try {
    snapshot = await (await deps.readerAt(place)).snapshot(hint.pipelineName);
  } catch (error) {
    // A pipeline deleted since has no journey to follow; anything else is worth the event's retry.
    if (error instanceof PipelineGoneError) return undefined;
    throw error;
  }
  const stage = snapshot.stages.find((s) => s.name === hint.stageName);
  const waiting = stage && pendingApprovalIn(stage);
  if (!stage || !waiting || stage.latest?.executionId !== hint.executionId) return undefined;
  if (hint.actionName !== undefined && waiting.name !== hint.actionName) return undefined;
  const approvalId = deps.approvalIdFor(waiting.token, place);
  await deps.journeys.linkJourney({
    pipelineName: hint.pipelineName,
    executionId: hint.executionId,
    stageName: stage.name,
    approvalId,
    stages: snapshot.stages.map((s) => s.name),
    region: hint.region ?? '',
  });
  return { approvalId, pipelineName: hint.pipelineName, stageName: stage.name, actionName: waiting.name, ...place };
}

const stageIndex = (link: JourneyLink, stageName: string | undefined): number =>
  stageName === undefined ? -1 : link.stages.indexOf(stageName);

/**
 * The approval a step belongs to: the one linked in the nearest stage before the event's (an
 * approval in StagingDEV is followed into StagingQA, where the next approval takes over); for the
 * pipeline's own success, the last approval the execution passed.
 */
function followingLink(links: readonly JourneyLink[], hint: ExecutionHint): JourneyLink | undefined {
  const candidates = links
    .map((link) => ({ link, at: stageIndex(link, link.stageName) }))
    .filter(({ link, at }) => at >= 0 && (hint.level === 'pipeline' || at < stageIndex(link, hint.stageName)))
    .sort((a, b) => b.at - a.at);
  return candidates[0]?.link;
}

/** The steps an event implies, in the journey's order. */
function impliedSteps(link: JourneyLink, hint: ExecutionHint): Step[] {
  const after = link.stages.slice(stageIndex(link, link.stageName) + 1);
  const passed = (stages: readonly string[]): Step[] =>
    stages.flatMap((stageName): Step[] => [
      { kind: 'started', stageName },
      { kind: 'succeeded', stageName },
    ]);
  if (hint.level === 'pipeline') return [...passed(after), { kind: 'production' }];
  const stageName = hint.stageName ?? '';
  const before = after.slice(0, Math.max(0, after.indexOf(stageName)));
  const started: Step = { kind: 'started', stageName };
  if (hint.state === 'STARTED') return [...passed(before), started];
  if (hint.state === 'FAILED') return [...passed(before), started, { kind: 'failed', stageName }];
  const last = after.at(-1) === stageName;
  return [
    ...passed(before),
    started,
    { kind: 'succeeded', stageName },
    ...(last ? [{ kind: 'production' as const }] : []),
  ];
}

const stepKey = (step: Step): string => (step.kind === 'production' ? 'production' : `${step.kind}:${step.stageName}`);

/**
 * How long an event waits, in steps, for the approving click to write its outcome. CodePipeline
 * moves on (and tells EventBridge) as soon as PutApprovalResult lands, while the click writes its
 * outcome right after, within its DynamoDB budget: a second covers it but for a click in trouble,
 * whose event is then delivered again (a failed invocation, which the errors alarm counts).
 */
const RECORDING_WAITS_MS = [100, 300, 600] as const;

/**
 * The approval's record, once no approving click is still writing its outcome (if it can wait);
 * `read`: the record as just read, when the caller has it.
 */
async function recordedApproval(
  deps: JourneyDeps,
  approvalId: ApprovalId,
  read?: ApprovalRecord,
): Promise<ApprovalRecord | undefined> {
  let record = read ?? (await deps.store.get(approvalId));
  for (const ms of deps.sleep ? RECORDING_WAITS_MS : []) {
    if (!record || !beingRecorded(record)) break;
    await deps.sleep?.(ms);
    record = await deps.store.get(approvalId);
  }
  return record;
}

const beingRecorded = (record: ApprovalRecord): boolean =>
  record.status === 'deciding' && record.claim?.verdict === 'approve';

/** The decision that approved the change in Slack (a click or a release); undefined for any other ending. */
function approvedInSlack(record: ApprovalRecord): Decision | undefined {
  if (beingRecorded(record))
    // CodePipeline moved on, so the claim's PutApprovalResult landed; its outcome is being written.
    throw new TransientError(`The approval ${record.request.id} is still being recorded; the event will come again`);
  return record.outcome?.kind === 'approved' ? record.outcome.decision : undefined;
}

interface Context {
  link: JourneyLink;
  record: ApprovalRecord;
  decision: Decision;
  hint: ExecutionHint;
}

/** Posts one step unless it was posted (or is being posted); true when this call posted it. */
function postStep(deps: JourneyDeps, context: Context, step: Step): Promise<boolean> {
  const { link } = context;
  const post: ThreadPost = {
    kind: 'journey',
    pipelineName: link.pipelineName,
    executionId: link.executionId,
    stageName: link.stageName,
    step: stepKey(step),
  };
  return postMarked(deps, post, async () =>
    deps.threads.journeyStep(context.record, await stepPost(deps, context, step)),
  );
}

/**
 * Posts once under the post's marker: taken with a conditional write (a lease, so a poster that
 * died is overtaken once it runs out), marked posted after, given back when the post failed so the
 * retry posts. A post Slack may have shown without answering (MaybeDeliveredError) is marked
 * posted: a thread reply cannot be looked up by metadata as a message can, and a step said twice
 * is worse than one that may be missing. True when this call posted.
 */
export async function postMarked(
  deps: Pick<JourneyDeps, 'clock' | 'ids' | 'log'> & {
    journeys: Pick<JourneyStore, 'takePost' | 'postDone' | 'givePostBack'>;
  },
  post: ThreadPost,
  send: () => Promise<void>,
): Promise<boolean> {
  const holder = deps.ids();
  const now = deps.clock();
  if (!(await deps.journeys.takePost(post, holder, new Date(now.getTime() + THREAD_POST_LEASE_MS), now))) return false;
  try {
    await send();
  } catch (error) {
    if (error instanceof MaybeDeliveredError) {
      deps.log.warn('Slack did not confirm a thread post; it is not repeated', { post, error });
      await deps.journeys.postDone(post, holder, deps.clock());
      return true;
    }
    await deps.journeys.givePostBack(post, holder).catch((cause: unknown) =>
      deps.log.warn('Could not give a thread post back; it is taken again once its lease runs out', {
        post,
        error: cause,
      }),
    );
    throw error;
  }
  await deps.journeys.postDone(post, holder, deps.clock());
  return true;
}

async function stepPost(deps: JourneyDeps, context: Context, step: Step): Promise<JourneyStepPost> {
  const { link, decision, hint } = context;
  const where = { pipelineName: link.pipelineName, executionId: link.executionId };
  if (step.kind === 'production') {
    const at = hint.at ?? deps.clock();
    return {
      ...where,
      kind: 'production',
      approvedAt: decision.at,
      elapsedMs: Math.max(0, at.getTime() - decision.at.getTime()),
    };
  }
  if (step.kind !== 'failed') return { ...where, kind: step.kind, stageName: step.stageName };
  const failed = await failedAction(deps, context, step.stageName);
  return {
    ...where,
    kind: 'failed',
    stageName: step.stageName,
    ...failed,
    mention: approversOf(decision),
    link: executionConsoleLink(link.region || context.record.request.region, link.pipelineName, link.executionId),
  };
}

/**
 * The action that failed: the event's own when it is an action's failure, else CodePipeline's state
 * of the stage in this execution (a stage's failure event names no action). Unknown is not an error:
 * the post then says the stage failed.
 */
async function failedAction(
  deps: JourneyDeps,
  { hint, link, record }: Context,
  stageName: string,
): Promise<{ actionName?: string; summary?: string }> {
  if (hint.level === 'action' && hint.actionName)
    return { actionName: hint.actionName, ...(hint.summary ? { summary: hint.summary } : {}) };
  try {
    const reader = await deps.readerAt(record.request);
    const stage = (await reader.snapshot(link.pipelineName)).stages.find((s) => s.name === stageName);
    if (stage?.latest?.executionId !== link.executionId) return {};
    const action = stage.actions.find((a) => a.status === 'Failed');
    return action ? { actionName: action.name, ...(action.summary ? { summary: action.summary } : {}) } : {};
  } catch (error) {
    deps.log.warn('Could not read which action failed; posting the stage’s failure', {
      pipeline: link.pipelineName,
      error,
    });
    return {};
  }
}

/** Who approved: every person whose approval counted, or who asked for the release. Slack user ids only. */
export function approversOf(decision: Decision): string[] {
  const ids =
    decision.approvers && decision.approvers.length > 0
      ? decision.approvers.map((approver) => approver.id)
      : [personOf(decision.actor) ?? ''];
  return [...new Set(ids.filter((id) => USER_ID.test(id)))];
}

/** The execution in the CodePipeline console (the codesuite page that shows an execution's timeline). */
export const executionConsoleLink = (region: string, pipelineName: string, executionId: string): string =>
  `https://${region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${encodeURIComponent(pipelineName)}/executions/${encodeURIComponent(executionId)}/timeline?region=${region}`;
