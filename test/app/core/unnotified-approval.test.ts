import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import type { Metrics } from '../../../app/core/ports.ts';
import { postUnnotified, type StartedApproval } from '../../../app/core/unnotified-approval.ts';
import { approvalRequest, counterIds, FakeNotifier, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { FakeReader, pipelineSnapshot, token } from '../../support/release-fakes.ts';

/*
 * An approval CodePipeline started whose notification never came (core/unnotified-approval.ts):
 * looked at a grace period after its start event, posted from the pipeline's state if still waiting.
 */

const PRODUCTS = { shop: { envs: { qa: { stage: 'StagingDEV', approvers: ['U0ALICE'] } } } };

function setup(waitingSince = new Date('2025-03-04T09:00:00Z')) {
  const store = new MemoryApprovalStore();
  const notifier = new FakeNotifier();
  const reader = new FakeReader().set(
    pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'c1', token: token(1), since: waitingSince } }),
  );
  const counted: string[] = [];
  const metrics: Metrics = { count: (name) => counted.push(name) };
  const log = memoryLog();
  const deps = {
    store,
    notifier,
    clock: fixedClock('2025-03-04T09:10:30Z'),
    ids: counterIds(),
    log,
    metrics,
    readerAt: async () => reader,
    approvalIdFor: (value: string) => approvalIdFor(value),
    rules: { products: PRODUCTS },
    reviewTimeUp: async () => {},
  };
  const started: StartedApproval = {
    approvalId: approvalIdFor(token(1)),
    pipelineName: 'shop-cart',
    stageName: 'StagingDEV',
    actionName: 'Approve',
    region: 'eu-central-1',
  };
  return { deps, started, store, notifier, reader, counted, log };
}

describe('postUnnotified', () => {
  it('posts an approval still waiting with no request, under its rules, counted and logged', async () => {
    // Prepare
    const { deps, started, store, notifier, counted, log } = setup();
    const leases: number[] = [];
    const take = store.takePostLease.bind(store);
    store.takePostLease = (id, holder, until, now) => {
      leases.push(until.getTime() - now.getTime());
      return take(id, holder, until, now);
    };
    // Act
    const result = await postUnnotified(deps, started);
    // Assess
    expect(result).toBe('posted');
    const record = await store.get(started.approvalId);
    expect(record?.request).toMatchObject({
      pipelineName: 'shop-cart',
      stageName: 'StagingDEV',
      actionName: 'Approve',
      token: token(1),
      expiresAt: new Date('2025-03-11T09:00:00Z'),
      policy: { key: 'shop/qa', approvers: ['U0ALICE'] },
    });
    expect(notifier.announced).toHaveLength(1);
    expect(counted).toEqual(['ApprovalNotNotified', 'ApprovalPosted']);
    // Held as long as the worker may run: its posts wait out Slack's rate limit for up to a minute.
    expect(leases).toEqual([5 * 60_000]);
    expect(log.entries.find((entry) => entry.level === 'warn')?.context).not.toHaveProperty('token');
  });

  it('leaves alone an approval its notification brought, one that ended, one too young to tell and one no env waits on', async () => {
    // Prepare
    const notified = setup();
    await notified.store.saveRequest(approvalRequest({ token: token(1), pipelineName: 'shop-cart' }));
    const ended = setup();
    ended.reader.set(pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'c1', status: 'Succeeded' } }));
    const young = setup(new Date('2025-03-04T09:08:00Z'));
    // shop's only env is qa (StagingDEV): an approval in StagingQA is no env's, perhaps not Greenlight's at all
    const elsewhere = setup();
    elsewhere.reader.set(pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c1', token: token(1) } }));
    // Act
    const results = [
      await postUnnotified(notified.deps, notified.started),
      await postUnnotified(ended.deps, ended.started),
      await postUnnotified(young.deps, young.started),
      await postUnnotified(elsewhere.deps, { ...elsewhere.started, stageName: 'StagingQA' }),
    ];
    // Assess
    expect(results).toEqual(['notified', 'ended', 'young', 'not-an-env']);
    for (const world of [notified, ended, young, elsewhere]) expect(world.notifier.announced).toEqual([]);
  });
});
