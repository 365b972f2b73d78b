import type { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * JSON text checked against a schema: the value, or a problem that names the fields that were
 * wrong and never their values (which may hold tokens or personal data). Every JSON that reaches
 * Greenlight from outside goes through here.
 */
export function parseJson<T>(schema: z.ZodType<T>, text: string | null | undefined): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
  return { ok: false, problem: `bad or missing ${fields.join(', ')}` };
}
