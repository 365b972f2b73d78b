import type { KnownBlock } from '@slack/types';
import type { Revision } from '../core/pipeline.ts';
import type { PlanItem } from '../core/release.ts';
import { clip, escapeMrkdwn } from './format.ts';
import { BLOCK_KIT } from './limits.ts';

/** A line longer than this is clipped: one pipeline's line never needs more. */
const LINE_CHARS = 500;

/** What a packed list may take of a message or modal: blocks, and characters of text in all. */
export interface Room {
  blocks: number;
  /** Characters of text the blocks may carry in all; a modal has no such limit (Infinity). */
  chars: number;
}

export interface PackOptions {
  /** A first line above the list (e.g. `*Approved (12)*`). */
  heading?: string;
  /** Joins the lines within a section: `, ` packs a list of bare names. Default a new line. */
  separator?: string;
  /** The last line when not every line fits: `hidden` lines, from `lines[from]` on. Default "…and N more". */
  more?: (hidden: number, from: number) => string;
  /** Characters kept free for that last line (it is clipped to them). Default 60. */
  moreChars?: number;
}

/**
 * Lists of one line per pipeline, packed into as few sections as Slack allows, within a room of
 * blocks and characters (a message holds 50 blocks and TEXT_BUDGET characters, a modal 100 blocks).
 * What does not fit is counted in a last line, never cut off silently.
 */
export function packLines(lines: readonly string[], room: Room, options: PackOptions = {}): KnownBlock[] {
  const { heading, separator = '\n', more = (hidden: number) => `_…and ${hidden} more_`, moreChars = 60 } = options;
  if (room.blocks < 1) return [];
  const texts: string[] = [heading ?? ''];
  let linesInLast = 0;
  let total = texts[0]?.length ?? 0;
  let shown = 0;
  for (const raw of lines) {
    const line = clip(raw, LINE_CHARS);
    // Room for the "…and N more" line, unless this is the last line.
    const reserve = shown + 1 < lines.length ? moreChars + 1 : 0;
    const last = texts.at(-1) ?? '';
    const joiner = last === '' ? '' : linesInLast === 0 ? '\n' : separator;
    const grown = last.length + joiner.length + line.length;
    if (grown + reserve <= BLOCK_KIT.text && total + joiner.length + line.length + reserve <= room.chars) {
      texts[texts.length - 1] = `${last}${joiner}${line}`;
      total += joiner.length + line.length;
    } else if (texts.length < room.blocks && total + line.length + reserve <= room.chars) {
      texts.push(line);
      total += line.length;
      linesInLast = 0;
    } else break;
    linesInLast += 1;
    shown += 1;
  }
  if (shown < lines.length) {
    const tail = clip(more(lines.length - shown, shown), moreChars);
    const last = texts.at(-1) ?? '';
    texts[texts.length - 1] = last === '' ? tail : `${last}\n${tail}`;
  }
  return texts
    .map((text) => text.trimEnd())
    .filter((text) => text.length > 0)
    .map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }) as KnownBlock);
}

/** `abc1234` and the first words of its message. */
export function revisionText(revision: Revision | undefined): string {
  if (!revision) return 'unknown revision';
  const id = `\`${escapeMrkdwn(revision.revisionId.slice(0, 7))}\``;
  return revision.summary ? `${id} ${escapeMrkdwn(clip(firstLine(revision.summary), 60))}` : id;
}

const firstLine = (text: string) => text.split('\n')[0] ?? '';

/**
 * How a release's lists name its pipelines (plain text, to be escaped): by name, and where the
 * release spans several accounts or regions (PRODUCTS `targets`) with the region and account too,
 * since each place may have its own `shop-cart`.
 */
export function pipelineNamer(plan: {
  items: readonly Pick<PlanItem, 'place'>[];
}): (item: Pick<PlanItem, 'pipelineName' | 'place'>) => string {
  const places = new Set(plan.items.map((item) => (item.place ? `${item.place.account}/${item.place.region}` : '')));
  if (places.size <= 1) return (item) => item.pipelineName;
  return (item) =>
    item.place
      ? `${item.pipelineName} (${item.place.region}, account ${item.place.account})`
      : `${item.pipelineName} (Greenlight's account)`;
}
