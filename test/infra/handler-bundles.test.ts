import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_ASSETS,
  BUNDLE_BUDGET_BYTES,
  HANDLER_NAMES,
  handlerEntry,
} from '../../infra/constructs/handler-function.ts';
import { bundleAsTheStackDoes } from './bundles.ts';

const run = promisify(execFile);

/** Imports a bundle the way Lambda does, in a fresh Node.js with no credentials and no config. */
async function importInFreshNode(bundle: string): Promise<string> {
  const script = 'const m = await import(process.env.BUNDLE); process.stdout.write(typeof m.handler);';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      BUNDLE: pathToFileURL(bundle).href,
      NODE_OPTIONS: '--enable-source-maps',
      AWS_REGION: 'eu-central-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    timeout: 20_000,
  });
  return stdout;
}

describe('handler bundles', () => {
  it('has an entry point for each of the handlers the stack deploys', () => {
    // Act
    const missing = HANDLER_NAMES.filter((name) => !existsSync(handlerEntry(name)));
    // Assess
    expect(missing).toEqual([]);
  });

  it('bundles every handler as the stack does: each loads in a fresh Node.js and stays within its size budget', async () => {
    // Prepare
    const present = HANDLER_NAMES.filter((name) => existsSync(handlerEntry(name)));

    // Act
    const bundles = await bundleAsTheStackDoes(present);
    const loaded = await Promise.all(
      bundles.map(async ([name, dir]) => [
        name,
        readdirSync(dir).sort(),
        await importInFreshNode(join(dir, 'index.mjs')),
      ]),
    );
    const sizes = bundles.map(([name, dir]) => ({ name, bytes: statSync(join(dir, 'index.mjs')).size }));
    const zodLocales = bundles.flatMap(([name, dir]) => {
      const { sources } = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
      return sources.filter((source) => /zod\/v4\/locales\/(?!en\.js)/.test(source)).map(() => name);
    });

    // Assess
    expect(present.length).toBeGreaterThan(0);
    // Beside the JavaScript, only the files a handler reads at run time (the digest's renderer: wasm and fonts)
    expect(loaded).toEqual(
      present.map((name) => [
        name,
        ['index.mjs', 'index.mjs.map', ...Object.keys(BUNDLE_ASSETS[name] ?? {})].sort(),
        'function',
      ]),
    );
    // A cold start loads and parses the whole bundle: one import that drags in a library's every
    // part (zod's locales, an SDK client the way in never calls) shows here first.
    const overBudget = sizes.filter(({ name, bytes }) => bytes > BUNDLE_BUDGET_BYTES[name]);
    expect(overBudget).toEqual([]);
    // zod's ~50 other languages (260 KB) come with `import { z } from 'zod'`: write `import * as z from 'zod'`.
    expect([...new Set(zodLocales)]).toEqual([]);
  }, 90_000);
});
