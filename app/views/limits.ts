/**
 * Slack's Block Kit limits, for every view (https://docs.slack.dev/reference/block-kit): blocks per
 * message and per modal, characters per section text, per field and per header, fields per section,
 * elements per context block, characters of a modal's title, and the text a message's blocks may
 * carry in all.
 *
 * `totalText`: Slack refuses a message whose blocks carry more text than this in all with
 * `msg_blocks_too_long`, even when every block is within its own limits. It is not documented; Slack's
 * engineers answered "12,000 text characters with a buffer for block containers" (slackapi/bolt-js#2509,
 * quoted in #2867), the documented cap of a markdown block (docs.slack.dev, "Markdown block"). Refusals
 * were observed at 11,341 characters of section/header text in 45 blocks and at 13,172–13,297 of markdown
 * (bolt-js#2867, #2509): the containers count for something. Views therefore fill a message only up to
 * `TEXT_BUDGET`, below every refusal observed and at about the largest message seen accepted (9,597
 * characters in 50 blocks, bolt-js#2867).
 */
export const BLOCK_KIT = {
  blocks: 50,
  modalBlocks: 100,
  text: 3000,
  fieldText: 2000,
  fields: 10,
  header: 150,
  contextElements: 10,
  modalTitle: 24,
  totalText: 12_000,
} as const;

/** The text a view puts in one message's blocks in all: BLOCK_KIT.totalText less a margin (see above). */
export const TEXT_BUDGET = 10_000;

/**
 * The text of blocks as Slack adds it up for `msg_blocks_too_long`: every `text` string in them (section
 * text and fields, context elements, headers, button labels, confirm dialogs), not the JSON around it.
 */
export function textLength(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textLength(item), 0);
  let length = 0;
  for (const [key, item] of Object.entries(value)) {
    if (key === 'text' && typeof item === 'string') length += item.length;
    else length += textLength(item);
  }
  return length;
}
