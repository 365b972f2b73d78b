import { createHash } from 'node:crypto';
import type { Block, JsonObject } from './types.ts';

/**
 * The Block Kit rules Slack enforces on the server, so an app that passes here is not refused in production:
 * counts and lengths from https://docs.slack.dev/reference/block-kit. Problems read like Slack's
 * `response_metadata.messages` (`[ERROR] … [json-pointer:/blocks/0/text/text]`).
 */

export type Surface = 'message' | 'modal';

/**
 * The text a message's blocks may carry in all: Slack refuses more with `msg_blocks_too_long`, even when
 * every block is within its own limits. Slack documents no figure for it; Slack's engineers answered
 * "12,000 text characters with a buffer for block containers" (slackapi/bolt-js#2509, as quoted in
 * slackapi/bolt-js#2867), which matches the documented cap of a markdown block's text
 * (https://docs.slack.dev/reference/block-kit/blocks/markdown-block). Observed: refused at 13,297
 * characters of markdown blocks, 13,172 with a divider added (bolt-js#2509); refused at 11,341 and
 * accepted at 9,597 characters of section/header/rich_text text (bolt-js#2867). The simulator refuses
 * above 12,000, counted as `blocksTextLength` counts, on every way of posting a message (chat.postMessage,
 * chat.update, chat.postEphemeral, response_url and command answers); apps should keep well below it.
 * (bolt-js#2867 saw one response_url post accepted with blocks chat.postMessage refused: a single report,
 * so response_url is held to the same figure.)
 */
export const MAX_BLOCKS_TEXT = 12_000;

const maxBlocks: Record<Surface, number> = { message: 50, modal: 100 };
const knownBlockTypes = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function blockProblems(blocks: readonly unknown[], surface: Surface): string[] {
  const problems: string[] = [];
  const report = (path: string, message: string) => problems.push(`[ERROR] ${message} [json-pointer:${path}]`);
  if (blocks.length > maxBlocks[surface]) report('/blocks', `no more than ${maxBlocks[surface]} items allowed`);
  const blockIds = new Set<string>();
  for (const [index, block] of blocks.entries()) {
    const path = `/blocks/${index}`;
    if (!isObject(block) || typeof block.type !== 'string') {
      report(path, 'missing required field: type');
      continue;
    }
    if (!knownBlockTypes.has(block.type)) {
      report(`${path}/type`, `unsupported block type: ${block.type}`);
      continue;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > 255) {
        report(`${path}/block_id`, 'must be a string of at most 255 characters');
      } else if (blockIds.has(block.block_id)) {
        report(`${path}/block_id`, `duplicate block_id: ${block.block_id}`);
      } else {
        blockIds.add(block.block_id);
      }
    }
    checkBlock(block, path, report);
  }
  return problems;
}

/**
 * The text of blocks as Slack adds it up for `msg_blocks_too_long`: every `text` string anywhere in them
 * (section text and fields, context elements, headers, markdown and rich_text, button labels and
 * confirm dialogs), not the JSON around it.
 */
export function blocksTextLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + blocksTextLength(item), 0);
  if (!isObject(value)) return 0;
  let length = 0;
  for (const [key, item] of Object.entries(value)) {
    if (key === 'text' && typeof item === 'string') length += item.length;
    else if (typeof item === 'object') length += blocksTextLength(item);
  }
  return length;
}

/** Problems of a modal view as views.open/update/push and `response_action` check them. */
export function viewProblems(view: unknown): string[] {
  const problems: string[] = [];
  const report = (path: string, message: string) => problems.push(`[ERROR] ${message} [json-pointer:${path}]`);
  if (!isObject(view)) return ['[ERROR] view must be an object [json-pointer:/view]'];
  if (view.type !== 'modal') report('/view/type', 'must be "modal"');
  checkText(view.title, '/view/title', 24, report, { plainOnly: true });
  if (view.submit !== undefined && view.submit !== null) {
    checkText(view.submit, '/view/submit', 24, report, { plainOnly: true });
  }
  if (view.close !== undefined && view.close !== null)
    checkText(view.close, '/view/close', 24, report, { plainOnly: true });
  checkString(view.private_metadata, '/view/private_metadata', 3000, report);
  checkString(view.callback_id, '/view/callback_id', 255, report);
  checkString(view.external_id, '/view/external_id', 255, report);
  if (!Array.isArray(view.blocks)) {
    report('/view/blocks', 'must be an array');
    return problems;
  }
  problems.push(
    ...blockProblems(view.blocks, 'modal').map((problem) => problem.replace('[json-pointer:', '[json-pointer:/view')),
  );
  const hasInput = view.blocks.some((block) => isObject(block) && block.type === 'input');
  if (hasInput && !view.submit) report('/view/submit', 'a view with input blocks needs a submit button');
  return problems;
}

/** Gives every block a block_id and every interactive element an action_id, as Slack does for those the app left out. */
export function withGeneratedIds(blocks: readonly Block[], seed: string): Block[] {
  return blocks.map((block, index) => {
    const withId: Block = { ...block, block_id: block.block_id ?? generatedId(`${seed}:${index}`) };
    const name = (position: number) => generatedId(`${seed}:${index}:${position}`);
    if (block.type === 'actions' && Array.isArray(block.elements)) {
      withId.elements = block.elements.map((element, position) =>
        isObject(element) && element.action_id === undefined ? { ...element, action_id: name(position) } : element,
      );
    }
    if (block.type === 'section' && isObject(block.accessory) && block.accessory.action_id === undefined) {
      withId.accessory = { ...block.accessory, action_id: name(0) };
    }
    if (block.type === 'input' && isObject(block.element) && block.element.action_id === undefined) {
      withId.element = { ...block.element, action_id: name(0) };
    }
    return withId;
  });
}

export interface FoundElement {
  blockId: string;
  element: JsonObject;
}

/** The button a person can click, wherever Block Kit allows one: an actions block or a section's accessory. */
export function findButton(blocks: readonly Block[], actionId: string): FoundElement | undefined {
  for (const block of blocks) {
    const candidates = block.type === 'actions' && Array.isArray(block.elements) ? block.elements : [block.accessory];
    for (const element of candidates) {
      if (isObject(element) && element.type === 'button' && element.action_id === actionId) {
        return { blockId: String(block.block_id), element };
      }
    }
  }
  return undefined;
}

export interface InputField extends FoundElement {
  optional: boolean;
}

export function inputFields(blocks: readonly Block[]): InputField[] {
  return blocks.flatMap((block) =>
    block.type === 'input' && isObject(block.element)
      ? [{ blockId: String(block.block_id), element: block.element, optional: block.optional === true }]
      : [],
  );
}

type Report = (path: string, message: string) => void;

function checkBlock(block: JsonObject, path: string, report: Report): void {
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) report(path, 'must provide either text or fields');
      if (block.text !== undefined) checkText(block.text, `${path}/text`, 3000, report);
      if (block.fields !== undefined)
        checkList(block.fields, `${path}/fields`, 10, report, (field, at) => checkText(field, at, 2000, report));
      if (block.accessory !== undefined) checkElement(block.accessory, `${path}/accessory`, report);
      return;
    case 'header':
      checkText(block.text, `${path}/text`, 150, report, { plainOnly: true });
      return;
    case 'actions':
      checkList(block.elements, `${path}/elements`, 25, report, (element, at) => checkElement(element, at, report));
      checkUniqueActionIds(block.elements, `${path}/elements`, report);
      return;
    case 'context':
      checkList(block.elements, `${path}/elements`, 10, report, () => {});
      return;
    case 'input':
      checkText(block.label, `${path}/label`, 2000, report, { plainOnly: true });
      if (block.hint !== undefined) checkText(block.hint, `${path}/hint`, 2000, report, { plainOnly: true });
      if (!isObject(block.element)) report(`${path}/element`, 'missing required field: element');
      else checkElement(block.element, `${path}/element`, report);
      return;
    case 'markdown':
      checkString(block.text, `${path}/text`, 12_000, report, { required: true });
      return;
    default:
      return;
  }
}

function checkElement(element: unknown, path: string, report: Report): void {
  if (!isObject(element) || typeof element.type !== 'string') {
    report(path, 'missing required field: type');
    return;
  }
  checkString(element.action_id, `${path}/action_id`, 255, report);
  if (element.type !== 'button') return;
  checkText(element.text, `${path}/text`, 75, report, { plainOnly: true });
  checkString(element.value, `${path}/value`, 2000, report);
  checkString(element.url, `${path}/url`, 3000, report);
  if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
    report(`${path}/style`, 'must be one of: primary, danger');
  }
}

function checkText(text: unknown, path: string, max: number, report: Report, options: { plainOnly?: boolean } = {}) {
  if (!isObject(text)) return report(path, 'must be a text object');
  const types = options.plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (!types.includes(String(text.type))) report(`${path}/type`, `must be one of: ${types.join(', ')}`);
  checkString(text.text, `${path}/text`, max, report, { required: true });
}

function checkString(value: unknown, path: string, max: number, report: Report, options: { required?: boolean } = {}) {
  if (value === undefined && !options.required) return;
  if (typeof value !== 'string') return report(path, 'must be a string');
  if (options.required && value.length === 0) report(path, 'must be more than 0 characters');
  if (value.length > max) report(path, `must be less than ${max + 1} characters`);
}

function checkList(
  list: unknown,
  path: string,
  max: number,
  report: Report,
  each: (item: unknown, path: string) => void,
) {
  if (!Array.isArray(list) || list.length === 0) return report(path, 'must be a non-empty array');
  if (list.length > max) report(path, `no more than ${max} items allowed`);
  for (const [index, item] of list.entries()) each(item, `${path}/${index}`);
}

function checkUniqueActionIds(elements: unknown, path: string, report: Report): void {
  if (!Array.isArray(elements)) return;
  const seen = new Set<string>();
  elements.forEach((element, index) => {
    if (!isObject(element) || typeof element.action_id !== 'string') return;
    if (seen.has(element.action_id)) report(`${path}/${index}/action_id`, `duplicate action_id: ${element.action_id}`);
    seen.add(element.action_id);
  });
}

/** Slack's generated ids are short random strings; these are short hashes so runs repeat exactly. */
function generatedId(seed: string): string {
  return createHash('sha256').update(seed).digest('base64url').slice(0, 5);
}
