import type { KnownBlock } from '@slack/types';
import type { BoardCell, BoardCellState, BoardRow, ProductBoard } from '../core/product-board.ts';
import type { SlackMessage } from './approval-message.ts';
import { clip, duration, escapeMrkdwn } from './format.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from './limits.ts';
import { packLines, type Room } from './release-lines.ts';

const icons: Record<BoardCellState, string> = {
  none: '–',
  'in-progress': '🔄',
  'awaiting-approval': '⏸️',
  succeeded: '✅',
  failed: '❌',
  stopped: '⏹️',
  skipped: '⏭️',
};

export const BOARD_LEGEND =
  '✅ passed · 🔄 running · ⏸️ waits for approval · ❌ failed or rejected · ⏹️ stopped · ⏭️ skipped · – not reached';

export interface BoardBlockOptions {
  /** Blocks and characters of text the board may take. Default a whole message (50 blocks, TEXT_BUDGET). */
  room?: Room;
  /** A heading block with the product's name. Default true. */
  heading?: boolean;
}

/**
 * The product board as Block Kit: one line per service pipeline, each stage with the revision in
 * it and how it stands (the table of docs/concepts.md's worked example). Pure: the same board and time draw the same blocks.
 * A board too big for its room (one message: 50 blocks, TEXT_BUDGET characters) shows first the
 * services that wait for approval, failed or could not be read, then the others as they fit, and
 * ends with one line that counts the rest by how they stand, naming those that need someone:
 * nothing is left out silently.
 */
export function productBoardBlocks(board: ProductBoard, now: Date, options: BoardBlockOptions = {}): KnownBlock[] {
  const room = options.room ?? { blocks: BLOCK_KIT.blocks, chars: TEXT_BUDGET };
  const blocks: KnownBlock[] = [];
  if (options.heading ?? true)
    blocks.push({
      type: 'header',
      text: {
        type: 'plain_text',
        text: clip(`${board.product.displayName}: where each revision is`, BLOCK_KIT.header),
      },
    });
  if (board.rows.length === 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`No pipelines: none is named \`${escapeMrkdwn(board.product.prefix)}…\`.`, BLOCK_KIT.text),
      },
    });
    return blocks;
  }
  const draw = (rows: readonly BoardRow[], legend: string): KnownBlock[] => {
    const head: KnownBlock[] = [...blocks, { type: 'context', elements: [{ type: 'mrkdwn', text: legend }] }];
    let trimmed = false;
    const lines = packLines(
      rows.map((row) => boardLine(row, now)),
      { blocks: Math.max(1, room.blocks - head.length), chars: room.chars - textLength(head) },
      {
        more: (hidden, from) => {
          trimmed = true;
          return hiddenRows(hidden, rows.slice(from));
        },
        moreChars: HIDDEN_CHARS,
      },
    );
    return trimmed && rows === board.rows ? [] : [...head, ...lines];
  };
  // All of it in order when it fits; else the services that need someone first, so they are the ones shown.
  const whole = draw(board.rows, BOARD_LEGEND);
  if (whole.length > 0) return whole;
  const first = [...board.rows].sort((a, b) => URGENCY.indexOf(standing(a)) - URGENCY.indexOf(standing(b)));
  return draw(
    first,
    `${BOARD_LEGEND}\nToo many services for one message: those that wait, failed or could not be read come first.`,
  );
}

/** The board as a message of its own (`/release <product> status`), within every limit of one message. */
export function productBoardMessage(board: ProductBoard, now: Date): SlackMessage {
  const waiting = board.rows.filter((row) => row.cells.some((cell) => cell.state === 'awaiting-approval')).length;
  return {
    text: `${board.product.displayName}: ${board.rows.length} pipelines, ${waiting} waiting for approval`,
    blocks: productBoardBlocks(board, now),
  };
}

/** How a service stands at a glance: the first of these that any of its stages is in. */
type Standing = 'unreadable' | 'failed' | 'waiting' | 'running' | 'stopped' | 'quiet';

/** Which services a trimmed board shows first. */
const URGENCY: readonly Standing[] = ['waiting', 'failed', 'unreadable', 'running', 'stopped', 'quiet'];

function standing(row: BoardRow): Standing {
  if (row.problem) return 'unreadable';
  const states = new Set(row.cells.map((cell) => cell.state));
  if (states.has('failed')) return 'failed';
  if (states.has('awaiting-approval')) return 'waiting';
  if (states.has('in-progress')) return 'running';
  if (states.has('stopped')) return 'stopped';
  return 'quiet';
}

const HIDDEN_CHARS = 700;

const hiddenWords: Record<Standing, { icon: string; words: string; named: boolean }> = {
  waiting: { icon: '⏸️', words: 'wait for approval', named: true },
  failed: { icon: '❌', words: 'failed or rejected', named: true },
  unreadable: { icon: ':warning:', words: 'could not be read', named: true },
  running: { icon: '🔄', words: 'running', named: false },
  stopped: { icon: '⏹️', words: 'stopped', named: false },
  quiet: { icon: '✅', words: 'passed, skipped or not reached', named: false },
};

/** The services that did not fit: how many stand how, and which need someone. */
function hiddenRows(hidden: number, rows: readonly BoardRow[]): string {
  const by = new Map<Standing, BoardRow[]>();
  for (const row of rows) by.set(standing(row), [...(by.get(standing(row)) ?? []), row]);
  const parts = (Object.keys(hiddenWords) as Standing[]).flatMap((kind) => {
    const these = by.get(kind) ?? [];
    if (these.length === 0) return [];
    const { icon, words, named } = hiddenWords[kind];
    const names = these.slice(0, 3).map((row) => `*${escapeMrkdwn(clip(row.service || row.pipelineName, 25))}*`);
    const more = these.length > 3 ? ` and ${these.length - 3} more` : '';
    return [`${icon} ${these.length} ${words}${named ? `: ${names.join(', ')}${more}` : ''}`];
  });
  return `…and ${hidden} more service${hidden === 1 ? '' : 's'} not shown: ${parts.join(' · ')}`;
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
