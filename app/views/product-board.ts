import type { KnownBlock } from '@slack/types';
import type { BoardCell, BoardCellState, BoardRow, ProductBoard } from '../core/product-board.ts';
import type { SlackMessage } from './approval-message.ts';
import { clip, duration, escapeMrkdwn } from './format.ts';
import { packLines } from './release-lines.ts';

const icons: Record<BoardCellState, string> = {
  none: '–',
  'in-progress': '🔄',
  'awaiting-approval': '⏸️',
  succeeded: '✅',
  failed: '❌',
  stopped: '⏹️',
};

export const BOARD_LEGEND =
  '✅ passed · 🔄 running · ⏸️ waits for approval · ❌ failed or rejected · ⏹️ stopped · – not reached';

export interface BoardBlockOptions {
  /** Blocks the board may take (a message holds 50). Default 45. */
  maxBlocks?: number;
  /** A heading block with the product's name. Default true. */
  heading?: boolean;
}

/**
 * The product board as Block Kit: one line per service pipeline, each stage with the revision in
 * it and how it stands (seed 000's table). Pure: the same board and time draw the same blocks.
 */
export function productBoardBlocks(board: ProductBoard, now: Date, options: BoardBlockOptions = {}): KnownBlock[] {
  const max = options.maxBlocks ?? 45;
  const blocks: KnownBlock[] = [];
  if (options.heading ?? true)
    blocks.push({
      type: 'header',
      text: { type: 'plain_text', text: clip(`${board.product.displayName}: where each revision is`, 150) },
    });
  if (board.rows.length === 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `No pipelines: none is named \`${escapeMrkdwn(board.product.prefix)}…\`.`,
      },
    });
    return blocks;
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: BOARD_LEGEND }] });
  blocks.push(
    ...packLines(
      board.rows.map((row) => boardLine(row, now)),
      Math.max(1, max - blocks.length),
    ),
  );
  return blocks;
}

/** The board as a message of its own (`/release <product> status`). */
export function productBoardMessage(board: ProductBoard, now: Date): SlackMessage {
  const waiting = board.rows.filter((row) => row.cells.some((cell) => cell.state === 'awaiting-approval')).length;
  return {
    text: `${board.product.displayName}: ${board.rows.length} pipelines, ${waiting} waiting for approval`,
    blocks: productBoardBlocks(board, now, { maxBlocks: 50 }),
  };
}

export function boardLine(row: BoardRow, now: Date): string {
  const name = `*${escapeMrkdwn(row.service || row.pipelineName)}*`;
  if (row.problem) return `${name}  :warning: ${escapeMrkdwn(row.problem)}`;
  return `${name}  ${row.cells.map((cell) => cellText(cell, now)).join(' · ')}`;
}

function cellText(cell: BoardCell, now: Date): string {
  const revision = cell.revision ? ` \`${escapeMrkdwn(cell.revision.revisionId.slice(0, 7))}\`` : '';
  const waitingFor =
    cell.state === 'awaiting-approval' && cell.since ? ` ${duration(now.getTime() - cell.since.getTime())}` : '';
  const next = cell.waiting ? ` (next \`${escapeMrkdwn(cell.waiting.revisionId.slice(0, 7))}\`)` : '';
  return `${escapeMrkdwn(cell.stageName)}${revision} ${icons[cell.state]}${waitingFor}${next}`;
}
