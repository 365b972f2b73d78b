import { describe, expect, it } from 'vitest';
import { REDRAW_AGAIN_SECONDS } from '../../../app/core/decide-approval.ts';
import { PostInProgressError } from '../../../app/core/errors.ts';
import { POSTING, requestApproval } from '../../../app/core/request-approval.ts';
import {
  approvalRequest,
  counterIds,
  FakeNotifier,
  FakePipelines,
  fixedClock,
  memoryLog,
} from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

function world() {
  const store = new MemoryApprovalStore();
  const notifier = new FakeNotifier('C0APPROVALS');
  const clock = fixedClock('2025-03-04T09:30:13Z');
  const log = memoryLog();
  // Waiting moves the test clock instead of real time.
  const sleep = async (ms: number) => {
    clock.advance(ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { store, notifier, clock, log, deps: { store, notifier, clock, log, ids: counterIds('holder'), sleep } };
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

  it('posts exactly one message when three deliveries arrive at once, and each of them ends with it posted', async () => {
    // Prepare
    const { store, notifier, deps } = world();
    const request = approvalRequest();
    // Act
    const results = await Promise.all([1, 2, 3].map(() => requestApproval(deps, request)));
    // Assess: the two that found the lease held waited for the message instead of claiming success early
    expect(notifier.announced).toHaveLength(1);
    expect(results.sort()).toEqual(['already-posted', 'already-posted', 'posted']);
    expect((await store.get(request.id))?.message).toBeDefined();
  });

  it('lets the retry post at once when posting failed after the approval was stored', async () => {
    // Prepare
    const { store, notifier, log, deps } = world();
    const request = approvalRequest();
    notifier.failAnnounce(1);
    await expect(requestApproval(deps, request)).rejects.toThrow('internal_error');
    expect(await store.get(request.id)).toMatchObject({ status: 'pending' });
    // Act: the lease was given back, so the retry need not wait for it to run out
    const result = await requestApproval(deps, request);
    // Assess
    expect(result).toBe('posted');
    expect(notifier.announced).toHaveLength(1);
    expect((await store.get(request.id))?.message).toBeDefined();
    expect((await store.eventsForApproval(request.id)).map((event) => event.type)).toEqual(['requested', 'posted']);
    expect(log.lines.join('\n')).not.toContain(request.token);
  });

  it('fails a delivery, to be retried, while another live delivery holds the lease and has not posted', async () => {
    // Prepare: a first delivery took the lease and is still talking to Slack
    const { store, notifier, clock, deps } = world();
    const request = approvalRequest();
    await store.saveRequest(request);
    await store.takePostLease(request.id, 'other', new Date(clock().getTime() + POSTING.leaseMs), clock());
    // Act
    const delivery = requestApproval(deps, request);
    // Assess: never counted as success; nothing posted
    await expect(delivery).rejects.toBeInstanceOf(PostInProgressError);
    expect(notifier.announced).toHaveLength(0);
  });

  it('takes over the lease of a delivery that died holding it, and posts', async () => {
    // Prepare: a delivery took the lease and died (its Lambda timed out) before posting
    const { store, notifier, clock, deps } = world();
    const request = approvalRequest();
    await store.saveRequest(request);
    await store.takePostLease(request.id, 'dead', new Date(clock().getTime() + POSTING.leaseMs), clock());
    // Act: Lambda's retry comes a minute later
    clock.advance(60_000);
    const result = await requestApproval(deps, request);
    // Assess
    expect(result).toBe('posted');
    expect(notifier.announced).toHaveLength(1);
  });

  it('does not post a second message when Slack showed the post but its answer was lost', async () => {
    // Prepare
    const { store, notifier, deps } = world();
    const request = approvalRequest();
    notifier.loseAnswers(1);
    // Act
    const result = await requestApproval(deps, request);
    // Assess: the message Slack showed is found by its metadata and tracked
    expect(result).toBe('posted');
    expect(notifier.visible(request.id)).toBe(1);
    expect((await store.get(request.id))?.message).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000001' });
  });

  it('finds the message of a delivery that died between posting and recording it, instead of posting again', async () => {
    // Prepare: the message is out, but recording where it is fails once
    const { store, notifier, deps } = world();
    const request = approvalRequest();
    const recordMessage = store.recordMessage.bind(store);
    let failures = 1;
    store.recordMessage = async (id, message) => {
      if (failures-- > 0) throw new Error('ProvisionedThroughputExceededException');
      return recordMessage(id, message);
    };
    await expect(requestApproval(deps, request)).rejects.toThrow('ProvisionedThroughputExceeded');
    // Act: the retry
    const result = await requestApproval(deps, request);
    // Assess
    expect(result).toBe('found-posted');
    expect(notifier.announced).toHaveLength(1);
    expect((await store.get(request.id))?.message).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000001' });
    expect((await store.eventsForApproval(request.id)).map((event) => event.type)).toEqual(['requested', 'posted']);
  });
});

/** An approval of an env that approves safe change sets itself, whose change set modifies one function. */
const safeChange = () =>
  approvalRequest({
    policy: {
      key: 'shop/prod',
      product: 'shop',
      env: 'prod',
      approvers: [],
      required: 1,
      separateFrom: [],
      freezes: [],
      breakGlass: [],
      autoApprove: 'safe-changes',
    },
    review: {
      revision: { kind: 'unknown', why: 'not read in this test' },
      changeSet: {
        kind: 'read',
        stackName: 'shop-cart',
        changeSetName: 'pipeline-changeset',
        region: 'eu-central-1',
        counts: { add: 0, modify: 1, remove: 0, other: 0, replace: 0, mayReplace: 0, iam: 0 },
        changes: [{ logicalId: 'Handler', type: 'AWS::Lambda::Function', action: 'Modify' }],
        total: 1,
      },
    },
  });

describe('requestApproval with an env that approves safe change sets itself', () => {
  it('redraws the ended message when SNS delivers the notification again after a redraw failed', async () => {
    // Prepare: the first delivery approves, but Slack refuses the redraw and there is no queue
    const { store, notifier, deps } = world();
    const pipelines = new FakePipelines();
    const request = safeChange();
    const withPolicy = { ...deps, pipelines, policyFor: async () => request.policy };
    notifier.failRefresh(1);
    await requestApproval(withPolicy, request);
    expect(notifier.refreshed).toEqual([]);
    // Act: SNS delivers it again
    await requestApproval(withPolicy, request);
    // Assess: approved once, and the message now shows how it ended
    expect(pipelines.calls).toHaveLength(1);
    expect(notifier.refreshed.at(-1)).toMatchObject({ status: 'closed', outcome: { kind: 'approved' } });
    expect((await store.get(request.id))?.outcome).toMatchObject({ kind: 'approved' });
  });

  it('has a settle job redraw the message when Slack refused the redraw after the policy approved', async () => {
    // Prepare: the env auto-approves a change set that modifies one function in place
    const { store, notifier, deps } = world();
    const pipelines = new FakePipelines();
    const settles: Array<{ approvalId: string; delaySeconds: number }> = [];
    const request = safeChange();
    notifier.failRefresh(1);
    // Act
    await requestApproval(
      {
        ...deps,
        pipelines,
        policyFor: async () => request.policy,
        settleLater: async (approvalId, delaySeconds) => void settles.push({ approvalId, delaySeconds }),
      },
      request,
    );
    // Assess: approved once; the message that still shows buttons is a settle job's to redraw
    expect(pipelines.calls).toHaveLength(1);
    expect((await store.get(request.id))?.outcome).toMatchObject({ kind: 'approved' });
    expect(settles).toEqual([{ approvalId: request.id, delaySeconds: REDRAW_AGAIN_SECONDS }]);
  });
});
