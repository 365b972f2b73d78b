import { describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import type { Actor } from '../../../app/core/approval.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import { planRelease } from '../../../app/core/release-plan.ts';
import { findProduct, findTarget } from '../../../app/core/release-target.ts';
import { fixedClock } from '../../support/fakes.ts';
import { FakeReader, pipelineSnapshot, token } from '../../support/release-fakes.ts';

const alice: Actor = { id: 'U0ALICE', name: 'Alice', via: 'slack' };
const shop = resolveProduct('shop', {});

function plan(reader: FakeReader, pipelines: string[], target = { stage: 'StagingQA' }) {
  return planRelease(
    { reader, clock: fixedClock('2025-03-04T10:00:00Z'), approvalIdFor },
    {
      releaseId: 'rel-1',
      product: shop,
      env: 'prod',
      target,
      pipelines,
      requestedBy: alice,
      source: 'slack',
      channel: 'C0APPROVALS',
      region: 'eu-central-1',
    },
  );
}

describe('planRelease', () => {
  it('pins the approval waiting in the stage, with its revision and since when it waits', async () => {
    // Prepare
    const since = new Date('2025-03-04T08:00:00Z');
    const reader = new FakeReader().set(
      pipelineSnapshot('shop-cart', {
        StagingDEV: { revisionId: 'c2', token: token(9) },
        StagingQA: { revisionId: 'c1', token: token(1), since },
      }),
    );

    // Act
    const result = await plan(reader, ['shop-cart']);

    // Assess
    expect(result.items).toEqual([
      {
        pipelineName: 'shop-cart',
        kind: 'include',
        approval: {
          approvalId: approvalIdFor(token(1)),
          stageName: 'StagingQA',
          actionName: 'Approve',
          token: token(1),
          revision: { revisionId: 'c1', summary: 'Commit c1' },
          waitingSince: since,
        },
      },
    ]);
    expect(result).toMatchObject({ releaseId: 'rel-1', stageName: 'StagingQA', env: 'prod', requestedBy: alice });
  });

  it('says why each other pipeline is left out', async () => {
    // Prepare
    const reader = new FakeReader()
      .set(pipelineSnapshot('shop-done', { StagingQA: { revisionId: 'c1', status: 'Succeeded' } }))
      .set(
        pipelineSnapshot('shop-testing', { StagingQA: { revisionId: 'c2', status: 'InProgress', busyAction: 'Test' } }),
      )
      .set(
        pipelineSnapshot('shop-rejected', { StagingQA: { revisionId: 'c3', status: 'Failed', busyAction: 'Approve' } }),
      )
      .set(pipelineSnapshot('shop-new', {}))
      .set({ name: 'shop-gone', state: 'gone' })
      .set({ name: 'shop-busy', state: 'busy' })
      .set({ name: 'shop-odd', stages: [{ name: 'Deploy', actions: [] }] });

    // Act
    const result = await plan(reader, [
      'shop-done',
      'shop-testing',
      'shop-rejected',
      'shop-new',
      'shop-gone',
      'shop-busy',
      'shop-odd',
    ]);

    // Assess
    expect(result.items.map((item) => (item.kind === 'exclude' ? [item.pipelineName, item.exclusion] : item))).toEqual([
      ['shop-done', { kind: 'nothing-pending', detail: 'c1 already went through StagingQA' }],
      ['shop-testing', { kind: 'other-state', detail: 'c2 is still in StagingQA (Test running)' }],
      ['shop-rejected', { kind: 'other-state', detail: 'c3 failed in StagingQA (Approve)' }],
      ['shop-new', { kind: 'nothing-pending', detail: 'nothing has reached StagingQA yet' }],
      ['shop-gone', { kind: 'not-found', detail: 'the pipeline no longer exists' }],
      ['shop-busy', { kind: 'unreadable', detail: 'CodePipeline did not answer; run the release again to include it' }],
      ['shop-odd', { kind: 'not-found', detail: 'it has no stage StagingQA' }],
    ]);
  });

  it('takes only the named approval action when the product names one', async () => {
    // Prepare
    const reader = new FakeReader().set(
      pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c1', token: token(1) } }),
    );

    // Act
    const named = await plan(reader, ['shop-cart'], { stage: 'StagingQA', action: 'Approve' } as never);
    const missing = await plan(reader, ['shop-cart'], { stage: 'StagingQA', action: 'SignOff' } as never);

    // Assess
    expect(named.items[0]).toMatchObject({ kind: 'include', approval: { actionName: 'Approve', token: token(1) } });
    expect(missing.items[0]).toMatchObject({
      kind: 'exclude',
      exclusion: { kind: 'not-found', detail: 'StagingQA has no action SignOff' },
    });
    expect(missing.actionName).toBe('SignOff');
  });

  it('plans a product without pipelines as an empty release', async () => {
    // Act
    const result = await plan(new FakeReader(), []);

    // Assess
    expect(result.items).toEqual([]);
  });
});

describe('findTarget', () => {
  const reader = new FakeReader()
    .set(pipelineSnapshot('shop-cart', {}))
    .set(pipelineSnapshot('shop-admin-users', {}))
    .set(pipelineSnapshot('blog-web', {}))
    .set(pipelineSnapshot('lonely', {}));

  it('finds a product from its pipelines and the stage an env names', async () => {
    // Act
    const found = await findTarget(reader, {}, 'Shop', 'PROD');

    // Assess
    expect(found).toMatchObject({
      ok: true,
      env: 'prod',
      target: { stage: 'StagingQA' },
      pipelines: ['shop-admin-users', 'shop-cart'],
    });
  });

  it('lists the products there are when the product is unknown', async () => {
    // Act
    const found = await findTarget(reader, { payments: { channel: 'C0PAY' } }, 'shoop', 'prod');

    // Assess
    expect(found).toEqual({
      ok: false,
      problem: 'unknown-product',
      name: 'shoop',
      known: ['blog', 'payments', 'shop'],
    });
  });

  it('lists the envs of the product when the env is unknown', async () => {
    // Act
    const found = await findTarget(reader, { blog: { envs: { live: { stage: 'Approval' } } } }, 'blog', 'prod');

    // Assess
    expect(found).toMatchObject({ ok: false, problem: 'unknown-env', env: 'prod', envs: ['live'] });
  });

  it('leaves a nested configured product its own pipelines', async () => {
    // Act
    const found = await findProduct(reader, { 'shop-admin': { prefix: 'shop-admin-' } }, 'shop');

    // Assess
    expect(found).toMatchObject({ ok: true, pipelines: ['shop-cart'] });
  });

  it('knows a configured product that has no pipelines yet', async () => {
    // Act
    const found = await findProduct(reader, { payments: {} }, 'payments');

    // Assess
    expect(found).toMatchObject({ ok: true, product: { name: 'payments' }, pipelines: [] });
  });
});
