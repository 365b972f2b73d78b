import { type InputField, inputFields, isObject } from './block-kit.ts';
import type { Block, JsonObject, StateValues } from './types.ts';

/** What a person typed or picked, per input block (keyed by block_id, or by the element's action_id). */
export type ViewInput = Record<string, string | readonly string[] | null>;

export interface ViewState {
  values: StateValues;
  /** What Slack's client shows under fields it will not submit (required but empty, too short or long): block_id → text. */
  problems: Record<string, string>;
}

export const requiredFieldMessage = 'Please complete this required field.';

/**
 * Builds `view.state.values` the way Slack reports it on submission: every input block is present, untouched fields
 * keep their initial value or are null/empty.
 */
export function viewState(blocks: readonly Block[], input: ViewInput): ViewState {
  const fields = inputFields(blocks);
  for (const key of Object.keys(input)) {
    if (!fields.some((field) => field.blockId === key || field.element.action_id === key)) {
      throw new Error(`The view has no input block or action ${key}`);
    }
  }
  const values: StateValues = {};
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const given = input[field.blockId] ?? input[String(field.element.action_id)];
    const state = elementState(field, given);
    values[field.blockId] = { [String(field.element.action_id)]: state };
    const problem = isEmpty(state) ? (field.optional ? undefined : requiredFieldMessage) : lengthProblem(field, state);
    if (problem) problems[field.blockId] = problem;
  }
  return { values, problems };
}

function elementState(field: InputField, given: string | readonly string[] | null | undefined): JsonObject {
  const { element } = field;
  const type = String(element.type);
  const one = (key: string) => (typeof given === 'string' ? given : given === null ? null : (element[key] ?? null));
  const many = (key: string) => (Array.isArray(given) ? given : given === null ? [] : (element[key] ?? []));
  switch (type) {
    case 'static_select':
    case 'radio_buttons':
      return { type, selected_option: typeof given === 'string' ? option(element, given) : one('initial_option') };
    case 'multi_static_select':
    case 'checkboxes':
      return {
        type,
        selected_options: Array.isArray(given)
          ? given.map((value: string) => option(element, value))
          : many('initial_options'),
      };
    case 'users_select':
      return { type, selected_user: one('initial_user') };
    case 'multi_users_select':
      return { type, selected_users: many('initial_users') };
    case 'conversations_select':
      return { type, selected_conversation: one('initial_conversation') };
    case 'channels_select':
      return { type, selected_channel: one('initial_channel') };
    case 'datepicker':
      return { type, selected_date: one('initial_date') };
    case 'timepicker':
      return { type, selected_time: one('initial_time') };
    default:
      // plain_text_input and its email/url/number siblings
      return { type, value: one('initial_value') };
  }
}

function lengthProblem(field: InputField, state: JsonObject): string | undefined {
  if (typeof state.value !== 'string') return undefined;
  const { min_length: min, max_length: max } = field.element;
  if (typeof min === 'number' && state.value.length < min) return `Please enter at least ${min} characters.`;
  if (typeof max === 'number' && state.value.length > max) return `Please enter no more than ${max} characters.`;
  return undefined;
}

function option(element: JsonObject, value: string): JsonObject {
  const groups = Array.isArray(element.option_groups) ? element.option_groups : [];
  const options = [
    ...(Array.isArray(element.options) ? element.options : []),
    ...groups.flatMap((group) => (isObject(group) && Array.isArray(group.options) ? group.options : [])),
  ];
  const found = options.find((candidate) => isObject(candidate) && candidate.value === value);
  if (!isObject(found)) throw new Error(`No option with value ${value} in ${String(element.action_id)}`);
  return found;
}

function isEmpty(state: JsonObject): boolean {
  const [, value] = Object.entries(state).find(([key]) => key !== 'type') ?? [];
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}
