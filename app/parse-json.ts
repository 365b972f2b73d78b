import type { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * A JSON.parse reviver that makes every string well-formed: JSON may carry a lone surrogate
 * (`"\ud800"`), which no UTF-8 text can, and the Slack Web API client's form encoding throws
 * URIError on one. It becomes U+FFFD, so a mangled field is shown, never fatal.
 */
export const wellFormedStrings = (_key: string, value: unknown): unknown =>
  typeof value === 'string' ? value.toWellFormed() : value;

/**
 * JSON text checked against a schema: the value, or a problem that names the fields that were
 * wrong and never their values (which may hold tokens or personal data). Every JSON that reaches
 * Greenlight from outside goes through here.
 */
export function parseJson<T>(schema: z.ZodType<T>, text: string | null | undefined): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(text ?? '', wellFormedStrings);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
  return { ok: false, problem: `bad or missing ${fields.join(', ')}` };
}
