import type { ApprovalRequest, MessageRef } from './approval.ts';
import { approvalRef } from './audit.ts';
import type { ApprovalNotifier, ApprovalStore, Clock, Log, Metrics } from './ports.ts';

export interface RequestDeps {
  store: ApprovalStore;
  notifier: ApprovalNotifier;
  clock: Clock;
  log: Log;
  metrics?: Metrics;
}

/** How long one delivery may take to post before another delivery may try. */
export const POST_LEASE_MS = 60_000;

export type RequestResult = 'posted' | 'already-posted' | 'being-posted';

/**
 * Turns a CodePipeline approval request into exactly one Slack message, however often and however
 * concurrently the notification arrives: the request is stored once, and a lease decides which
 * delivery posts. A delivery that failed after storing (or after taking the lease) leaves the
 * message unposted, so its retry posts it.
 */
export async function requestApproval(deps: RequestDeps, request: ApprovalRequest): Promise<RequestResult> {
  const { store, notifier, clock, log } = deps;
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

  const now = clock();
  const leaseUntil = new Date(now.getTime() + POST_LEASE_MS);
  if (!(await store.leasePost(request.id, leaseUntil, now))) {
    const record = await store.get(request.id);
    const result = record?.message ? 'already-posted' : 'being-posted';
    // The delivery that posted may have died before auditing it; the same event id makes this a no-op otherwise.
    if (record?.message) await appendPosted(store, request, record.message, clock());
    log.info('Approval notification repeated; not posting again', { approvalId: request.id, result });
    return result;
  }

  const record = await store.get(request.id);
  if (!record) throw new Error(`Approval ${request.id} vanished between save and post`);
  let message: MessageRef;
  try {
    message = await notifier.announce(record);
  } catch (error) {
    await store.releasePostLease(request.id, leaseUntil);
    throw error;
  }
  await store.recordMessage(request.id, message);
  await appendPosted(store, request, message, clock());
  deps.metrics?.count('ApprovalPosted');
  return 'posted';
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
