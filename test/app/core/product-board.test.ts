import { describe, expect, it } from 'vitest';
import { productBoard } from '../../../app/core/product-board.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import { FakeReader, pipelineSnapshot, token } from '../../support/release-fakes.ts';

const shop = resolveProduct('shop', {});

describe('productBoard', () => {
  it("shows which revision is in which stage, as the table of docs/concepts.md's worked example does", async () => {
    // Prepare: the end of the worked example of docs/concepts.md in one service, and a pipeline that waits for QA.
    const since = new Date('2025-03-04T08:00:00Z');
    const reader = new FakeReader()
      .set(
        pipelineSnapshot('shop-cart', {
          Source: { revisionId: 'c4' },
          Build: { revisionId: 'c4' },
          StagingDEV: { revisionId: 'c4', status: 'Failed', busyAction: 'Approve' },
          StagingQA: { revisionId: 'c3' },
          StagingPROD: { revisionId: 'c3' },
        }),
      )
      .set(
        pipelineSnapshot('shop-payments', {
          Source: { revisionId: 'p2' },
          StagingDEV: { revisionId: 'p1', status: 'InProgress', busyAction: 'Test', inboundRevisionId: 'p2' },
          StagingQA: { revisionId: 'p0', token: token(1), since },
        }),
      );

    // Act
    const board = await productBoard(reader, shop);

    // Assess
    expect(board.stages).toEqual(['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD']);
    expect(board.rows.map((row) => row.service)).toEqual(['cart', 'payments']);
    expect(board.rows[0]?.cells.map((cell) => [cell.stageName, cell.revision?.revisionId, cell.state])).toEqual([
      ['Source', 'c4', 'succeeded'],
      ['Build', 'c4', 'succeeded'],
      ['StagingDEV', 'c4', 'failed'],
      ['StagingQA', 'c3', 'succeeded'],
      ['StagingPROD', 'c3', 'succeeded'],
    ]);
    expect(board.rows[1]?.cells.slice(1, 4)).toEqual([
      { stageName: 'Build', state: 'none' },
      expect.objectContaining({ stageName: 'StagingDEV', state: 'in-progress', waiting: { revisionId: 'p2' } }),
      expect.objectContaining({ stageName: 'StagingQA', state: 'awaiting-approval', since }),
    ]);
  });

  it('shows a pipeline it cannot read with the reason, and still the others', async () => {
    // Prepare
    const reader = new FakeReader()
      .set({ name: 'shop-busy', state: 'busy' })
      .set(pipelineSnapshot('shop-cart', { Source: { revisionId: 'c1' } }));

    // Act
    const board = await productBoard(reader, shop, { pipelines: ['shop-busy', 'shop-cart', 'shop-gone'] });

    // Assess
    expect(board.rows.map((row) => [row.service, row.problem])).toEqual([
      ['busy', 'CodePipeline did not answer'],
      ['cart', undefined],
      ['gone', 'the pipeline no longer exists'],
    ]);
  });

  it('keeps pipelines with extra stages in order', async () => {
    // Prepare
    const reader = new FakeReader()
      .set({
        name: 'shop-a',
        stages: [
          { name: 'Source', actions: [] },
          { name: 'Deploy', actions: [] },
        ],
      })
      .set({
        name: 'shop-b',
        stages: [
          { name: 'Source', actions: [] },
          { name: 'Scan', actions: [] },
          { name: 'Deploy', actions: [] },
        ],
      });

    // Act
    const board = await productBoard(reader, shop);

    // Assess
    expect(board.stages).toEqual(['Source', 'Scan', 'Deploy']);
  });

  it.each([
    ['Stopping', 'stopped'],
    ['Stopped', 'stopped'],
    ['Cancelled', 'stopped'],
    ['Skipped', 'skipped'],
  ] as const)(
    'shows a stage whose latest execution is %s as %s, even with an approval waiting',
    async (status, state) => {
      // Prepare: stop and wait leaves the approval answerable while the stage is Stopping.
      const reader = new FakeReader().set({
        name: 'shop-cart',
        stages: [
          {
            name: 'StagingDEV',
            latest: { executionId: 'exec-c1', status, revision: { revisionId: 'c1' } },
            actions: [{ name: 'Approve', status: 'InProgress', token: token(1), lastChange: new Date(0) }],
          },
        ],
      });

      // Act
      const board = await productBoard(reader, shop);

      // Assess
      expect(board.rows[0]?.cells).toEqual([
        expect.objectContaining({ stageName: 'StagingDEV', state, revision: { revisionId: 'c1' } }),
      ]);
    },
  );
});
