import { describe, expect, it } from 'vitest';
import { POST_LEASE_MS, requestApproval } from '../../../app/core/request-approval.ts';
import { approvalRequest, FakeNotifier, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

function world() {
  const store = new MemoryApprovalStore();
  const notifier = new FakeNotifier('C0APPROVALS');
  const clock = fixedClock('2025-03-04T09:30:13Z');
  const log = memoryLog();
  return { store, notifier, clock, log, deps: { store, notifier, clock, log } };
}

describe('requestApproval', () => {
  it('stores a new approval, posts it once and remembers where the message is', async () => {
    // Prepare
    const { store, notifier, deps } = world();
    const request = approvalRequest();
    // Act
    const result = await requestApproval(deps, request);
    // Assess
    expect(result).toBe('posted');
    expect(notifier.announced).toHaveLength(1);
    expect(notifier.announced[0]?.request).toEqual(request);
    expect(notifier.announced[0]?.status).toBe('pending');
    const record = await store.get(request.id);
    expect(record?.message).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000001' });
    expect(await store.listOpen()).toHaveLength(1);
  });

  it('writes the request and the posting into the audit trail, without the token', async () => {
    // Prepare
    const { store, deps } = world();
    const request = approvalRequest();
    // Act
    await requestApproval(deps, request);
    // Assess
    const events = await store.eventsForApproval(request.id);
    expect(events.map((event) => event.type)).toEqual(['requested', 'posted']);
    expect(events[0]).toMatchObject({
      at: request.receivedAt,
      approval: { pipelineName: 'shop-cart', stageName: 'StagingDEV', actionName: 'ApproveIntoQA' },
      detail: 'expires 2025-03-11T09:30:00.000Z',
    });
    expect(events[1]?.detail).toBe('C0APPROVALS/1700000000.000001');
    expect(JSON.stringify(events)).not.toContain(request.token);
  });

  it('does not post again when the same notification comes back after the message is out', async () => {
    // Prepare
    const { store, notifier, clock, deps } = world();
    const request = approvalRequest();
    await requestApproval(deps, request);
    clock.advance(10 * 60_000);
    // Act
    const result = await requestApproval(deps, { ...request, receivedAt: clock() });
    // Assess
    expect(result).toBe('already-posted');
    expect(notifier.announced).toHaveLength(1);
    expect((await store.eventsForApproval(request.id)).map((event) => event.type)).toEqual(['requested', 'posted']);
  });

  it('posts exactly one message when three deliveries arrive at once', async () => {
    // Prepare
    const { notifier, deps } = world();
    const request = approvalRequest();
    // Act
    const results = await Promise.all([1, 2, 3].map(() => requestApproval(deps, request)));
    // Assess
    expect(notifier.announced).toHaveLength(1);
    expect(results.filter((result) => result === 'posted')).toHaveLength(1);
    expect(results.filter((result) => result !== 'posted')).toEqual(['being-posted', 'being-posted']);
  });

  it('lets the retry post when posting failed after the approval was stored', async () => {
    // Prepare
    const { store, notifier, clock, log, deps } = world();
    const request = approvalRequest();
    notifier.failAnnounce(1);
    await expect(requestApproval(deps, request)).rejects.toThrow('internal_error');
    expect(await store.get(request.id)).toMatchObject({ status: 'pending' });
    // Act: Lambda retries a failed asynchronous invocation after about a minute
    clock.advance(POST_LEASE_MS + 1_000);
    const result = await requestApproval(deps, request);
    // Assess
    expect(result).toBe('posted');
    expect(notifier.announced).toHaveLength(1);
    expect((await store.get(request.id))?.message).toBeDefined();
    expect((await store.eventsForApproval(request.id)).map((event) => event.type)).toEqual(['requested', 'posted']);
    expect(log.lines.join('\n')).not.toContain(request.token);
  });

  it('leaves the message to the delivery that is posting it while its lease lasts', async () => {
    // Prepare: a first delivery took the lease and is still talking to Slack
    const { store, notifier, clock, log, deps } = world();
    const request = approvalRequest();
    await store.saveRequest(request);
    await store.leasePost(request.id, new Date(clock().getTime() + POST_LEASE_MS), clock());
    clock.advance(5_000);
    // Act
    const result = await requestApproval(deps, request);
    // Assess
    expect(result).toBe('being-posted');
    expect(notifier.announced).toHaveLength(0);
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'info', context: { approvalId: request.id, result: 'being-posted' } }),
    );
  });
});
