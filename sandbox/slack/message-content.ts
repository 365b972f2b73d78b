import { jsonArg, objectArg, SlackApiError, stringArg } from './api-args.ts';
import { blockProblems, blocksTextLength, isObject, MAX_BLOCKS_TEXT, withGeneratedIds } from './block-kit.ts';
import type { Block, JsonObject, MessageMetadata } from './types.ts';

/** Slack truncates (and newer APIs refuse) message text beyond this. */
const maxTextLength = 40_000;

export interface MessageContent {
  text?: string;
  blocks?: Block[];
}

/**
 * `text` and `blocks` of chat.* calls, response_url posts and command answers, checked as Slack checks them:
 * `msg_too_long`, `invalid_blocks_format`, `invalid_blocks` (each block's limits), `msg_blocks_too_long`
 * (their text in all).
 * `seed` makes the block_ids Slack would generate for blocks without one repeatable.
 */
export function readContent(args: JsonObject, seed: string): MessageContent {
  const text = stringArg(args, 'text');
  if (text !== undefined && text.length > maxTextLength) throw new SlackApiError('msg_too_long');
  const raw = jsonArg(args, 'blocks', 'invalid_blocks_format');
  if (raw === undefined || raw === null) return text === undefined ? {} : { text };
  if (!Array.isArray(raw)) throw new SlackApiError('invalid_blocks_format');
  const problems = blockProblems(raw, 'message');
  if (problems.length > 0) throw new SlackApiError('invalid_blocks', { messages: problems });
  // Each block may be within its limits and the message still too long (see MAX_BLOCKS_TEXT).
  if (blocksTextLength(raw) > MAX_BLOCKS_TEXT) throw new SlackApiError('msg_blocks_too_long');
  return { ...(text === undefined ? {} : { text }), blocks: withGeneratedIds(raw as Block[], seed) };
}

/** Content that a message can be made of: Slack answers `no_text` otherwise. */
export function requireContent(content: MessageContent): { text: string; blocks?: Block[] } {
  if (!content.text && !content.blocks?.length) throw new SlackApiError('no_text');
  return { text: content.text ?? '', ...(content.blocks?.length ? { blocks: content.blocks } : {}) };
}

export function readMetadata(args: JsonObject): MessageMetadata | undefined {
  const metadata = objectArg(args, 'metadata', 'invalid_metadata_format');
  if (metadata === undefined) return undefined;
  const { event_type: eventType, event_payload: eventPayload } = metadata;
  if (typeof eventType !== 'string' || eventType === '' || !isObject(eventPayload)) {
    throw new SlackApiError('invalid_metadata_format');
  }
  return { event_type: eventType, event_payload: eventPayload };
}
