import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../../../app/views/approval-message.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from '../../../app/views/limits.ts';
import { blockProblems, blocksTextLength, MAX_BLOCKS_TEXT } from '../../../sandbox/slack/block-kit.ts';

/**
 * Why Slack would refuse a message, judged by the simulator's own checks (each block's limits,
 * `msg_blocks_too_long`), and where it breaks the views' own budget: empty when it would be posted.
 */
export function refusals(message: SlackMessage): string[] {
  const blocks = message.blocks as unknown[];
  const problems = [...blockProblems(blocks, 'message')];
  if (blocksTextLength(blocks) > MAX_BLOCKS_TEXT) problems.push(`msg_blocks_too_long (${blocksTextLength(blocks)})`);
  if (textLength(message.blocks) > TEXT_BUDGET) problems.push(`over the views' budget (${textLength(message.blocks)})`);
  if (message.blocks.length > BLOCK_KIT.blocks) problems.push(`${message.blocks.length} blocks`);
  return problems;
}

/** The texts of a message's sections and context elements, in order. */
export function texts(blocks: readonly KnownBlock[]): string[] {
  return blocks.flatMap((block) => {
    const b = block as { type: string; text?: { text?: string }; elements?: Array<{ text?: unknown }> };
    if (b.type === 'section') return b.text?.text ? [b.text.text] : [];
    if (b.type === 'context') return (b.elements ?? []).flatMap((e) => (typeof e.text === 'string' ? [e.text] : []));
    return [];
  });
}

export const occurrences = (haystack: string, needle: string) => haystack.split(needle).length - 1;
