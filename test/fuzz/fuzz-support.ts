import fc from 'fast-check';
import { captureOutput } from '../support/output-capture.ts';

/*
 * Shared by the fuzz suites in test/fuzz (docs/architecture.md, "Security model": input is not
 * trusted). Each suite drives the real handlers of a sandbox world (startWorld) with inputs
 * fast-check makes, and checks what must hold for any input.
 *
 * Settings (environment):
 *   FUZZ_RUNS   cases per property (default 40; `npm run fuzz` runs 10000)
 *   FUZZ_SEED   the seed to use instead of a fresh one
 *   FUZZ_PATH   with FUZZ_SEED: replays just the counterexample at this path (shrunk)
 * A failing property prints both and the command that replays it.
 */

const positiveInt = (raw: string | undefined): number | undefined => {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(value) && value > 0 ? value : undefined;
};

const integer = (raw: string | undefined): number | undefined => {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(value) ? value : undefined;
};

/** Cases per property: small in CI (at most 7 properties per boundary: under 300 cases each). */
export const FUZZ_RUNS = positiveInt(process.env.FUZZ_RUNS) ?? 40;

const FUZZ_SEED = integer(process.env.FUZZ_SEED);
const FUZZ_PATH = process.env.FUZZ_PATH || undefined;

/** A test's timeout for `runs` cases of at most `msPerCase` each, plus the shrinking of a failure. */
export const timeoutFor = (msPerCase: number, runs = FUZZ_RUNS): number => 30_000 + runs * msPerCase * 2;

/**
 * Checks `property` for FUZZ_RUNS cases (or `runs`). On failure, throws fast-check's report (the
 * shrunk counterexample and the error it raised) with the command that replays it.
 */
export async function fuzz<Ts>(
  where: { file: string; test: string },
  property: fc.IAsyncPropertyWithHooks<Ts>,
  runs = FUZZ_RUNS,
): Promise<void> {
  const seed = FUZZ_SEED ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const details = await fc.check(property, {
    numRuns: runs,
    seed,
    ...(FUZZ_PATH ? { path: FUZZ_PATH, endOnFailure: true } : {}),
    includeErrorInReport: true,
    verbose: Number(process.env.FUZZ_VERBOSE ?? 0),
  });
  if (!details.failed) return;
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} npx vitest run ${where.file} -t ${JSON.stringify(where.test)}`;
  throw new Error(`${fc.defaultReportMessage(details)}\n\nReplay: ${replay}`);
}

// Inputs

/**
 * Strings that have broken parsers before: empty and blank, JS prototype keys, Slack markup,
 * separators of the formats on the way (form, JSON, mrkdwn), odd Unicode, numbers as text.
 */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  'true',
  '[]',
  '{}',
  '"',
  "'",
  '\\',
  '&',
  '=',
  '+',
  '%',
  '%ZZ',
  '<!channel>',
  '<!here|here>',
  '<@U0ALICE>',
  '<https://example.com|click>',
  '*bold* _it_ `code`',
  '&lt;&gt;&amp;',
  '💥',
  '👩‍👩‍👧',
  '\ud800',
  '\u202eevil',
  'é',
  'I\u0307',
  'x'.repeat(3001),
  '9'.repeat(400),
] as const;

/** Any string, with the nasty ones and long ones often enough to matter. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 200, maxLength: 3000 }) },
);

/** Any JSON value, strings included from anyString. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: anyString },
);

/** Any JavaScript value, as an event that is not what the handler expects may carry. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, 0, -1, Number.NaN, true, false, '', [], {}),
  anyJson,
  fc.anything({ maxDepth: 2, values: [anyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)] }),
);

/** What a field of a well-formed input is replaced with: a value of the wrong type, blank, long or missing. */
export const DELETE = Symbol('delete');
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(DELETE),
  fc.constant(null),
  anyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

/**
 * A well-formed value with one to three fields (at `paths`) replaced by `values` (default
 * wrongValue; DELETE removes the field). A path through a field that is no object any more is skipped.
 */
export function mutated<T>(
  base: fc.Arbitrary<T>,
  paths: readonly (readonly string[])[],
  values: fc.Arbitrary<unknown> = wrongValue,
): fc.Arbitrary<T> {
  return fc
    .tuple(base, fc.array(fc.tuple(fc.constantFrom(...paths), values), { minLength: 1, maxLength: 3 }))
    .map(([value, changes]) => {
      const copy = structuredClone(value) as unknown;
      for (const [path, replacement] of changes) setPath(copy, path, replacement);
      return copy as T;
    });
}

function setPath(target: unknown, path: readonly string[], value: unknown): void {
  let at: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(at)) return;
    at = at[key];
  }
  const last = path.at(-1);
  if (!isObject(at) || last === undefined) return;
  if (value === DELETE) delete at[last];
  else at[last] = value;
}

/**
 * The value as Lambda hands it to a handler: every event reaches it as JSON, so what JSON cannot
 * carry (undefined members, objects without a prototype, NaN) never arrives as such.
 */
export function asDelivered<T>(value: T): T {
  const text = JSON.stringify(value);
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Oracles

/**
 * Why `text`, shown to a person, is not a plain-words answer (undefined when it is one): empty,
 * or carrying what only a program should see (a stack trace, an error name, an object's default string).
 */
export function notPlainWords(text: unknown): string | undefined {
  if (typeof text !== 'string') return `not text: ${typeof text}`;
  if (text.trim() === '') return 'empty';
  if (/\n\s+at .+:\d+:\d+/.test(text) || /\bat (?:async )?\S+ \(.*:\d+:\d+\)/.test(text)) return 'a stack trace';
  if (/\b(?:Type|Reference|Syntax|Range|Validation)(?:Error|Exception)\b/.test(text)) return 'an error name';
  if (text.includes('[object Object]')) return '[object Object]';
  return undefined;
}

// Logs

export interface LogLine {
  level: string;
  message: string;
  json: Record<string, unknown>;
}

export interface CapturedLogs {
  /** A position in the log, to read what came after it. */
  mark(): number;
  /** The log lines written since `mark` (JSON lines parsed; anything else as its text). */
  since(mark: number): LogLine[];
  restore(): void;
}

/**
 * Captures what the handlers log (Powertools writes JSON lines with its own Console on stdout and
 * stderr) and keeps it off the test output. Call in beforeAll, before the world starts.
 */
export function captureLogs(): CapturedLogs {
  const { written, restore } = captureOutput();
  return {
    mark: () => written.length,
    since: (mark) =>
      written
        .slice(mark)
        .flatMap((chunk) => chunk.split('\n').filter(Boolean))
        .map((line) => {
          try {
            const json = JSON.parse(line) as Record<string, unknown>;
            return { level: String(json.level ?? ''), message: String(json.message ?? ''), json };
          } catch {
            return { level: '', message: line, json: {} };
          }
        }),
    restore,
  };
}
