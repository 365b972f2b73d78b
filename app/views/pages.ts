import type { KnownBlock } from '@slack/types';
import { clip } from './format.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from './limits.ts';
import type { Room } from './release-lines.ts';

/** A list goes on in the next message rather than start a section with less room than this. */
const MIN_SECTION_ROOM = 300;

/**
 * Content too big for one message, laid out over as many messages as it takes (a digest's thread):
 * each message within Block Kit's limits (50 blocks, 3000 characters a section) and TEXT_BUDGET
 * characters of text in all. Lists are cut between lines, never inside one, and a list that goes on
 * in the next message repeats its title there ("…, continued").
 */
export class Pages {
  readonly #pages: KnownBlock[][] = [];
  #chars = 0;

  constructor(private readonly room: Room = { blocks: BLOCK_KIT.blocks, chars: TEXT_BUDGET }) {}

  /** One block as it is, on this message if it fits, else on the next. */
  block(block: KnownBlock): this {
    const length = textLength(block);
    if (!this.#fits(1, length)) this.#next();
    this.#place(block, length);
    return this;
  }

  /** Lines under a title, in as few sections as the room allows. */
  list(title: string, lines: readonly string[], continued: string = `${title}, continued`): this {
    let index = 0;
    let titled = false;
    do {
      if (!this.#fits(1, MIN_SECTION_ROOM)) this.#next();
      const startsPage = this.#current().length === 0;
      const heading = !titled ? title : startsPage ? continued : '';
      const cap = Math.min(BLOCK_KIT.text, this.room.chars - this.#chars);
      let text = heading;
      const before = index;
      for (; index < lines.length; index += 1) {
        const next = text ? `${text}\n${lines[index]}` : (lines[index] as string);
        if (next.length > cap) break;
        text = next;
      }
      if (index === before && index < lines.length) {
        if (!startsPage) {
          this.#next();
          continue;
        }
        // Not even one line fits an empty message: the line is clipped (no line of ours is that long).
        const line = clip(lines[index] as string, cap - (text ? text.length + 1 : 0));
        text = text ? `${text}\n${line}` : line;
        index += 1;
      }
      this.#place({ type: 'section', text: { type: 'mrkdwn', text } }, text.length);
      titled = true;
    } while (index < lines.length);
    return this;
  }

  /** The messages' blocks, in order; none when nothing was added. */
  messages(): KnownBlock[][] {
    return this.#pages.filter((page) => page.length > 0);
  }

  #current(): KnownBlock[] {
    if (this.#pages.length === 0) this.#pages.push([]);
    return this.#pages[this.#pages.length - 1] as KnownBlock[];
  }

  #fits(blocks: number, chars: number): boolean {
    const current = this.#current();
    return current.length + blocks <= this.room.blocks && this.#chars + chars <= this.room.chars;
  }

  #next(): void {
    if (this.#current().length === 0) return;
    this.#pages.push([]);
    this.#chars = 0;
  }

  #place(block: KnownBlock, length: number): void {
    this.#current().push(block);
    this.#chars += length;
  }
}
