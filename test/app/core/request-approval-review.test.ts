import { describe, expect, it } from 'vitest';
import { requestApproval } from '../../../app/core/request-approval.ts';
import { UNREAD_REVIEW } from '../../../app/core/revision-review.ts';
import { approvalRequest, counterIds, FakeNotifier, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

/* The review is read before the request is stored, within its time, and posted with the request. */

function world() {
  const store = new MemoryApprovalStore();
  const notifier = new FakeNotifier('C0APPROVALS');
  const deps = {
    store,
    notifier,
    clock: fixedClock('2025-03-04T09:30:13Z'),
    log: memoryLog(),
    ids: counterIds('holder'),
  };
  return { store, notifier, deps };
}

const review = { revision: { kind: 'unknown' as const, why: 'the pipeline execution names no source revision' } };

describe('requestApproval with a review', () => {
  it('stores and posts the review with the request', async () => {
    const { store, notifier, deps } = world();
    const request = approvalRequest();
    await requestApproval(
      { ...deps, reviewFor: async () => review, reviewTimeUp: () => new Promise(() => {}) },
      request,
    );
    expect((await store.get(request.id))?.request.review).toEqual(review);
    expect(notifier.announced[0]?.request.review).toEqual(review);
  });

  it('posts without waiting longer than the review’s time, saying it was not read', async () => {
    const { store, deps } = world();
    const request = approvalRequest();
    let timeUp: () => void = () => {};
    const result = requestApproval(
      {
        ...deps,
        reviewFor: () => new Promise(() => {}),
        reviewTimeUp: () => new Promise((resolve) => (timeUp = resolve)),
      },
      request,
    );
    await new Promise((resolve) => setImmediate(resolve));
    timeUp();
    expect(await result).toBe('posted');
    expect((await store.get(request.id))?.request.review).toEqual(UNREAD_REVIEW);
  });

  it('reads no review for a request that could not be read', async () => {
    const { store, deps } = world();
    const request = { ...approvalRequest(), unreadable: ['approval.token'] };
    let asked = false;
    await requestApproval(
      {
        ...deps,
        reviewFor: async () => {
          asked = true;
          return review;
        },
      },
      request,
    );
    expect(asked).toBe(false);
    expect((await store.get(request.id))?.request.review).toBeUndefined();
  });
});
