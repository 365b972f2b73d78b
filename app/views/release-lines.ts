import type { KnownBlock } from '@slack/types';
import type { Revision } from '../core/pipeline.ts';
import { clip, escapeMrkdwn } from './format.ts';

/** Slack's limit on a section's text. */
const SECTION_CHARS = 3000;

/**
 * Lists of one line per pipeline, packed into as few sections as Slack allows, within a block
 * budget (50 per message, 100 per modal). What does not fit is counted in a last line, never cut
 * off silently. `separator` joins the lines within a section: `, ` packs a list of bare names.
 */
export function packLines(
  lines: readonly string[],
  maxBlocks: number,
  heading?: string,
  separator = '\n',
): KnownBlock[] {
  if (maxBlocks < 1) return [];
  const texts: string[] = [];
  let current = heading ? `${heading}\n` : '';
  let empty = true;
  let index = 0;
  for (; index < lines.length; index += 1) {
    const line = clip(lines[index] as string, 500);
    const piece = empty ? line : `${separator}${line}`;
    if (current.length + piece.length + 1 <= SECTION_CHARS - 40) {
      current += piece;
      empty = false;
      continue;
    }
    if (texts.length + 1 >= maxBlocks) break;
    texts.push(current);
    current = line;
    empty = false;
  }
  if (index < lines.length) current += `${empty ? '' : '\n'}_…and ${lines.length - index} more_`;
  texts.push(current);
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

/** A person is mentioned; a release or a pipeline is named. */
