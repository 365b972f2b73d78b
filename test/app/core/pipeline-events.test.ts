import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import type { ApprovalRequest } from '../../../app/core/approval.ts';
import { eventPlace, followPipelineChange, type PipelinePlace } from '../../../app/core/pipeline-events.ts';
import { requestApproval } from '../../../app/core/request-approval.ts';
import {
  approvalRequest,
  counterIds,
  FakeNotifier,
  FakePipelines,
  fixedClock,
  memoryLog,
  slackDecision,
} from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader } from '../../support/release-fakes.ts';

/*
 * Which approvals a CodePipeline event concerns when pipelines live in several accounts
 * (core/pipeline-events.ts; docs/architecture.md, "Many accounts and regions"): the event's own
 * `account` decides, and what ended is read where the approval lives.
 */

const A = { account: '111122223333', region: 'eu-west-1' };
const B = { account: '444455556666', region: 'eu-west-1' };
const role = (account: string) => `arn:aws:iam::${account}:role/GreenlightAccess`;
const PRODUCTS = {
  shop: {
    ...A,
    roleArn: role(A.account),
    envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', ...B, roleArn: role(B.account) } },
  },
};

/** Open approvals of `shop-cart` in one region: one in account A, one in B, one in Greenlight's own account. */
async function threeShopCarts() {
  const store = new MemoryApprovalStore();
  const pipelines = new FakePipelines();
  const places: PipelinePlace[] = [];
  const reader = new FakeReader();
  const deps = {
    store,
    pipelines,
    notifier: new FakeNotifier(),
    readerAt: async (place: PipelinePlace) => {
      places.push(place);
      return reader;
    },
    clock: fixedClock('2025-03-04T10:15:00Z'),
    ids: counterIds(),
    log: memoryLog(),
  };
  const inAccount = (place: { account?: string; region: string }): ApprovalRequest => {
    const request = approvalRequest({ pipelineName: 'shop-cart', stageName: 'StagingDEV', ...place });
    return { ...request, id: approvalIdFor(request.token, place) };
  };
  const inA = inAccount(A);
  const inB = inAccount(B);
  const own = inAccount({ region: A.region });
  for (const request of [inA, inB, own]) await requestApproval(deps, request);
  return { store, pipelines, places, reader, deps, inA, inB, own };
}

describe('eventPlace', () => {
  it.each([
    ['an account a product names, in its region', A, A],
    [
      'Greenlight’s own account (no product names it)',
      { account: '123456789012', region: 'us-east-2' },
      { region: 'us-east-2' },
    ],
    ['an event without an account, as Greenlight’s own', { region: 'us-east-2' }, { region: 'us-east-2' }],
    [
      'a product account in a region none of its products lives in',
      { account: A.account, region: 'us-east-1' },
      undefined,
    ],
    ['a product account without a region', { account: A.account }, undefined],
  ])('places %s', (_name, event, place) => {
    // Act / Assess
    expect(eventPlace(event, PRODUCTS)).toEqual(place);
  });
});

describe('followPipelineChange across accounts', () => {
  it('looks only at the approvals of the account the event comes from, however alike their pipelines', async () => {
    // Prepare
    const { pipelines, deps, inA, inB, own } = await threeShopCarts();
    for (let i = 0; i < 3; i++) pipelines.answerResult({ state: 'pending' });
    // Act
    const fromA = await followPipelineChange(deps, { pipelineName: 'shop-cart', region: A.region, account: A.account });
    const fromB = await followPipelineChange(deps, { pipelineName: 'shop-cart', region: B.region, account: B.account });
    const fromOwn = await followPipelineChange(deps, { pipelineName: 'shop-cart', region: A.region });
    // Assess
    expect([fromA.checked, fromB.checked, fromOwn.checked]).toEqual([1, 1, 1]);
    expect(pipelines.stateQueries).toEqual([inA.id, inB.id, own.id]);
  });

  it('closes an approval of account A that ended there, reading the pipeline in A, and leaves B’s alike one open', async () => {
    // Prepare: A's execution was stopped and abandoned
    const { store, pipelines, places, reader, deps, inA, inB } = await threeShopCarts();
    pipelines.answerResult({ state: 'replaced' }).answerResult({ state: 'replaced' });
    reader.set({
      name: 'shop-cart',
      stages: [
        {
          name: 'StagingDEV',
          latest: { executionId: 'e-1', status: 'Stopped' },
          actions: [{ name: 'ApproveIntoQA', status: 'Abandoned' }],
        },
      ],
    });
    // Act
    const result = await followPipelineChange(deps, {
      pipelineName: 'shop-cart',
      stageName: 'StagingDEV',
      region: A.region,
      account: A.account,
    });
    // Assess
    expect(result).toEqual({ checked: 1, closed: 1 });
    expect((await store.get(inA.id))?.outcome).toMatchObject({ kind: 'stopped', why: 'stopped' });
    expect((await store.get(inB.id))?.status).toBe('pending');
    expect(places).toEqual([expect.objectContaining(A)]);
  });
});

describe('followPipelineChange while a decision is being applied', () => {
  it('queues a look for when the click’s claim runs out, so an approval whose click died is closed within a minute', async () => {
    // Prepare: Bob's click claimed A's approval and its approve landed; the event comes before its outcome
    const { store, pipelines, deps, inA } = await threeShopCarts();
    const settles: Array<{ approvalId: string; delaySeconds: number }> = [];
    const withQueue = {
      ...deps,
      settleLater: async (approvalId: string, delaySeconds: number) => void settles.push({ approvalId, delaySeconds }),
    };
    const until = new Date(deps.clock().getTime() + 45_000);
    const bob = slackDecision('approve', deps.clock(), { id: 'U0BOB' });
    await store.claim(inA.id, { ...bob, claimId: 'bob', until }, deps.clock());
    pipelines.answerResult({ state: 'decided', verdict: 'approve' });
    // Act
    const result = await followPipelineChange(withQueue, {
      pipelineName: 'shop-cart',
      region: A.region,
      account: A.account,
    });
    // Assess: left to the click, with a settle job 1 s after its claim runs out
    expect(result).toEqual({ checked: 1, closed: 0 });
    expect((await store.get(inA.id))?.status).toBe('deciding');
    expect(settles).toEqual([{ approvalId: inA.id, delaySeconds: 46 }]);
  });
});
