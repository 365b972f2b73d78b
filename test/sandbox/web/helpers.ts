import type { SlackMessage } from '../../../sandbox/slack/index.ts';

/** Calls the sandbox's JSON API; non-2xx answers are returned, not thrown, so tests can assert on them. */
export function jsonApi(baseUrl: string) {
  const call = async <T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  return {
    get: <T = Record<string, unknown>>(path: string) => call<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  };
}

/** Polls `read` until it returns something, failing after `timeoutMs` with what was last seen. */
export async function eventually<T>(
  read: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 10_000, intervalMs = 50, what = 'the condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The approval request Greenlight posted for a pipeline's stage, found by its fallback text. */
export const approvalFor = (messages: readonly SlackMessage[], pipelineName: string, stageName: string) =>
  messages.find((message) => message.text.includes(`${pipelineName} › ${stageName}`) && message.blocks?.length);

/** Every text of a message (fallback and blocks), for asserting on what a person reads. */
export const textOf = (message: { text: string; blocks?: unknown[] } | undefined) =>
  message ? `${message.text}\n${JSON.stringify(message.blocks ?? [])}` : '';
