import { describe, expect, it } from 'vitest';
import type { ProductBoard } from '../../../app/core/product-board.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import { boardLine, productBoardMessage } from '../../../app/views/product-board.ts';
import { blockProblems } from '../../../sandbox/slack/block-kit.ts';

const now = new Date('2025-03-04T10:00:00Z');
const shop = resolveProduct('shop', {});

describe('productBoardMessage', () => {
  it('draws each service on one line: the revision in each stage and how it stands', () => {
    // Prepare
    const board: ProductBoard = {
      product: shop,
      stages: ['StagingDEV', 'StagingQA'],
      rows: [
        {
          pipelineName: 'shop-cart',
          service: 'cart',
          cells: [
            { stageName: 'StagingDEV', state: 'failed', revision: { revisionId: 'c4c4c4c4c4' } },
            {
              stageName: 'StagingQA',
              state: 'awaiting-approval',
              revision: { revisionId: 'c3c3c3c3c3' },
              since: new Date('2025-03-04T07:00:00Z'),
              waiting: { revisionId: 'c5c5c5c5c5' },
            },
          ],
        },
        { pipelineName: 'shop-gone', service: 'gone', cells: [], problem: 'the pipeline no longer exists' },
      ],
    };

    // Act
    const message = productBoardMessage(board, now);

    // Assess
    expect(message.text).toBe('shop: 2 pipelines, 1 waiting for approval');
    expect(blockProblems(message.blocks, 'message')).toEqual([]);
    expect(boardLine(board.rows[0] as never, now)).toBe(
      '*cart*  StagingDEV `c4c4c4c` ❌ · StagingQA `c3c3c3c` ⏸️ 3 h (next `c5c5c5c`)',
    );
    expect(JSON.stringify(message.blocks)).toContain('*gone*  :warning: the pipeline no longer exists');
  });

  it('draws stopped and skipped stages with their own icons, both in the legend', () => {
    // Prepare
    const board: ProductBoard = {
      product: shop,
      stages: ['StagingDEV', 'StagingQA'],
      rows: [
        {
          pipelineName: 'shop-cart',
          service: 'cart',
          cells: [
            { stageName: 'StagingDEV', state: 'stopped', revision: { revisionId: 'c4c4c4c4c4' } },
            { stageName: 'StagingQA', state: 'skipped', revision: { revisionId: 'c4c4c4c4c4' } },
          ],
        },
      ],
    };

    // Act
    const message = productBoardMessage(board, now);

    // Assess
    expect(boardLine(board.rows[0] as never, now)).toBe('*cart*  StagingDEV `c4c4c4c` ⏹️ · StagingQA `c4c4c4c` ⏭️');
    expect(JSON.stringify(message.blocks)).toContain('⏹️ stopped · ⏭️ skipped');
  });

  it('says when a product has no pipelines', () => {
    // Act
    const message = productBoardMessage({ product: shop, stages: [], rows: [] }, now);

    // Assess
    expect(JSON.stringify(message.blocks)).toContain('No pipelines: none is named `shop-…`');
  });
});
