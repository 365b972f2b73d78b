import { isObject } from './block-kit.ts';
import type { JsonObject } from './types.ts';

/** A Web API failure: Slack answers `{ok:false, error}` (HTTP 200, or 429 for rate limits). */
export class SlackApiError extends Error {
  readonly code: string;
  readonly messages: readonly string[];
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: string,
    options: { messages?: readonly string[]; status?: number; headers?: Record<string, string> } = {},
  ) {
    super(code);
    this.name = 'SlackApiError';
    this.code = code;
    this.messages = options.messages ?? [];
    this.status = options.status ?? 200;
    this.headers = options.headers ?? {};
  }
}

/** One Web API method: arguments in, the fields of an `ok: true` answer out; failures throw SlackApiError. */
export type ApiMethod = (args: JsonObject) => JsonObject;

/** A string argument; form bodies carry everything as strings, JSON bodies may carry numbers. */
export function stringArg(args: JsonObject, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

export function requiredArg(args: JsonObject, key: string, code: string): string {
  const value = stringArg(args, key);
  if (value === undefined || value === '') throw new SlackApiError(code);
  return value;
}

export function booleanArg(args: JsonObject, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** A JSON argument (`blocks`, `metadata`, `view`): a JSON-encoded string in form bodies, plain JSON in JSON bodies. */
export function jsonArg(args: JsonObject, key: string, code: string): unknown {
  const value = args[key];
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new SlackApiError(code, { messages: [`[ERROR] ${key} is not valid JSON`] });
  }
}

export function objectArg(args: JsonObject, key: string, code: string): JsonObject | undefined {
  const value = jsonArg(args, key, code);
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new SlackApiError(code);
  return value;
}
