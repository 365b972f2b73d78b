import type { ApprovalId, ApprovalRecord, ApprovalRequest, MessageRef } from './approval.ts';
import { approvalRef } from './audit.ts';
import { autoApprove } from './auto-approve.ts';
import { redrawOrSettleLater } from './decide-approval.ts';
import { MaybeDeliveredError, PostInProgressError } from './errors.ts';
import type { ApprovalNotifier, ApprovalStore, Clock, IdSource, Log, Metrics, PipelineGateway } from './ports.ts';
import { REVIEW_BUDGET_MS, UNREAD_REVIEW } from './revision-review.ts';

export interface RequestDeps {
  store: ApprovalStore;
  notifier: ApprovalNotifier;
  clock: Clock;
  ids: IdSource;
  log: Log;
  metrics?: Metrics;
  /** Waits between looks at another delivery's lease (real time; tests pass their own). */
  sleep?: (ms: number) => Promise<void>;
  posting?: Partial<PostingTimes>;
  /**
   * The approval rules the request is posted under (docs/policy.md), stored with it so its message
   * and every click know them without asking anything; undefined when none apply.
   */
  policyFor?: (request: ApprovalRequest) => Promise<ApprovalRequest['policy']>;
  /**
   * What the approval asks people to approve (core/revision-review.ts), read here on the patient
   * path and stored with the request, so a click stays three round trips. Never throws.
   */
  reviewFor?: (request: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalRequest['review']>;
  /**
   * PutApprovalResult, for the approvals Greenlight's policy approves itself once posted
   * (core/auto-approve.ts); without it nothing is approved at ingest.
   */
  pipelines?: PipelineGateway;
  /** Queues a settle job (core/settle-approval.ts): an auto-approved message whose redraw failed is redrawn by it. */
  settleLater?: (approvalId: ApprovalId, delaySeconds: number) => Promise<void>;
  /** Resolves when the review has had its time (default: REVIEW_BUDGET_MS of real time; tests pass their own). */
  reviewTimeUp?: () => Promise<void>;
}

export interface PostingTimes {
  /**
   * How long one delivery holds the right to post. Longer than the notification Lambda may run
   * (30 s), so a live holder is never overtaken; a dead holder's lease is taken over after it.
   */
  leaseMs: number;
  /** How long a repeated delivery waits for the holder to post before failing, to be retried later. */
  holderWaitMs: number;
  /** Between looks at the holder's progress. */
  pollMs: number;
  /** How far before a delivery's first attempt to look for a message it may have posted. */
  lookBackMs: number;
}

export const POSTING: PostingTimes = { leaseMs: 45_000, holderWaitMs: 15_000, pollMs: 250, lookBackMs: 5_000 };

/**
 * The post lease of the release worker, which posts what no notification did (`post` and
 * `unnotified` jobs): as long as its Lambda may run (5 minutes), since its posts wait out Slack's
 * rate limit for up to a minute, so a live holder is never overtaken there either.
 */
export const WORKER_POSTING: Partial<PostingTimes> = { leaseMs: 5 * 60_000 };

export type RequestResult = 'posted' | 'already-posted' | 'found-posted';

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Turns a CodePipeline approval request into exactly one Slack message, however often and however
 * concurrently the notification arrives:
 * - the request is stored once, and a lease (a holder id and an expiry) decides which delivery posts;
 * - a repeated delivery that finds the lease held waits for the holder, and fails (to be retried)
 *   rather than report success for a message nobody may post; a dead holder's lease runs out and
 *   is taken over;
 * - a post whose answer was lost is never repeated blindly: the message is looked for by its
 *   metadata first, by this delivery and by every later one;
 * - every failure after taking the lease gives it back, so the retry may post at once.
 */
export async function requestApproval(deps: RequestDeps, received: ApprovalRequest): Promise<RequestResult> {
  const { store, clock, log } = deps;
  const [policy, review] = received.unreadable
    ? [undefined, undefined]
    : await Promise.all([deps.policyFor?.(received), reviewInTime(deps, received)]);
  const request: ApprovalRequest = {
    ...received,
    ...(policy ? { policy } : {}),
    ...(review ? { review } : {}),
  };
  const times = { ...POSTING, ...deps.posting };
  const sleep = deps.sleep ?? realSleep;
  await store.saveRequest(request);
  // Appended on every delivery under one event id, so a delivery that died between saving and
  // appending is made good by its retry, and the trail still holds one `requested` event.
  await store.append({
    eventId: `${request.id}#requested`,
    type: 'requested',
    at: request.receivedAt,
    approvalId: request.id,
    approval: approvalRef(request),
    detail: `expires ${request.expiresAt.toISOString()}`,
  });

  const holder = deps.ids();
  const waitUntil = clock().getTime() + times.holderWaitMs;
  for (;;) {
    const now = clock();
    const lease = await store.takePostLease(request.id, holder, new Date(now.getTime() + times.leaseMs), now);
    if (lease.taken) {
      const result = await post(deps, request, holder, lease, times);
      await approveByPolicy(deps, request);
      return result;
    }
    if ('message' in lease) {
      // The delivery that posted may have died before auditing it; the same event id makes this a no-op otherwise.
      await appendPosted(store, request, lease.message, clock());
      log.info('Approval notification repeated; the message is posted already', { approvalId: request.id });
      // Also after approving by policy: the claim lets one of these deliveries (or a click) decide.
      await approveByPolicy(deps, request);
      return 'already-posted';
    }
    if (clock().getTime() >= waitUntil) throw new PostInProgressError(request.id, lease.heldUntil);
    await sleep(times.pollMs);
  }
}

async function post(
  deps: RequestDeps,
  request: ApprovalRequest,
  holder: string,
  lease: { firstTakenAt: Date; takenBefore: boolean },
  times: PostingTimes,
): Promise<RequestResult> {
  const { store, notifier, clock, log } = deps;
  let message: MessageRef;
  let stands: MessageRef;
  let found = false;
  try {
    const record = await store.get(request.id);
    if (!record) throw new Error(`Approval ${request.id} vanished between save and post`);
    const since = new Date(lease.firstTakenAt.getTime() - times.lookBackMs);
    // An earlier delivery took the lease: its post may have reached Slack without an answer.
    const earlier = lease.takenBefore ? await notifier.find(record, since) : undefined;
    found = earlier !== undefined;
    message = earlier ?? (await announce(notifier, record, since, log));
    stands = await store.recordMessage(request.id, message);
  } catch (error) {
    // Whatever failed, the next delivery may start at once (and looks for a message first).
    await store.givePostLeaseBack(request.id, holder);
    throw error;
  }
  if (stands.ts !== message.ts || stands.channel !== message.channel) {
    // Our lease ran out mid-post and another delivery's message was recorded first: keep one.
    log.warn('Two messages were posted for one approval; removing the untracked one', { approvalId: request.id });
    await notifier
      .withdraw(message)
      .catch((error: unknown) =>
        log.error('Could not remove a second approval message', { approvalId: request.id, error }),
      );
  }
  await appendPosted(store, request, stands, clock());
  if (found) {
    log.info('Found the message an earlier delivery posted without an answer', { approvalId: request.id });
    return 'found-posted';
  }
  deps.metrics?.count('ApprovalPosted');
  return 'posted';
}

/** The review, or once its time is up (REVIEW_BUDGET_MS) one that says it could not be read in time. */
async function reviewInTime(deps: RequestDeps, request: ApprovalRequest): Promise<ApprovalRequest['review']> {
  if (!deps.reviewFor) return undefined;
  const late = { late: true } as const;
  // Once the time is up the review is given up: it starts no more reads (core/revision-review.ts).
  const giveUp = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp =
    deps.reviewTimeUp ??
    (() =>
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, REVIEW_BUDGET_MS);
      }));
  try {
    const review = await Promise.race([deps.reviewFor(request, giveUp.signal), timeUp().then(() => late)]);
    if (review !== late) return review as ApprovalRequest['review'];
  } finally {
    clearTimeout(timer);
  }
  giveUp.abort();
  deps.log.warn('The approval review took too long; posting without it', { approvalId: request.id });
  return UNREAD_REVIEW;
}

/**
 * Where the env opts in, approves a safe change set by policy once the message is posted, reading the
 * stored record (the first delivery's review, as the message shows it). A failure to apply it throws,
 * so the delivery is retried; the message stays posted and waits for a person meanwhile.
 */
async function approveByPolicy(deps: RequestDeps, request: ApprovalRequest): Promise<void> {
  const { pipelines } = deps;
  if (!pipelines || !request.policy?.autoApprove) return;
  const record = await deps.store.get(request.id);
  if (!record) return;
  const result = await autoApprove({ ...deps, pipelines }, record);
  deps.log.info('Auto-approve', { approvalId: request.id, result });
  // A delivery that died between the outcome and its redraw left the buttons on: draw it as it ended.
  if (result === 'decided-already' && record.status === 'closed') await redrawOrSettleLater(deps, record);
}

/** Posts once; when Slack may have shown the post without answering, looks for it instead of posting again. */
async function announce(notifier: ApprovalNotifier, record: ApprovalRecord, since: Date, log: Log) {
  try {
    return await notifier.announce(record);
  } catch (error) {
    if (!(error instanceof MaybeDeliveredError)) throw error;
    log.warn('Slack did not answer a post; looking for it before anything else', {
      approvalId: record.request.id,
      error,
    });
    const found = await notifier.find(record, since);
    if (found) return found;
    // Not visible (yet): fail this delivery; its retry looks again before posting.
    throw error;
  }
}

function appendPosted(store: ApprovalStore, request: ApprovalRequest, message: MessageRef, at: Date): Promise<void> {
  return store.append({
    eventId: `${request.id}#posted`,
    type: 'posted',
    at,
    approvalId: request.id,
    approval: approvalRef(request),
    detail: `${message.channel}/${message.ts}`,
  });
}
