import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  BUNDLE_BUDGET_BYTES,
  HANDLER_NAMES,
  HandlerFunction,
  type HandlerName,
  handlerEntry,
} from '../../infra/constructs/handler-function.ts';
import { CDK_JSON_CONTEXT } from './synth.ts';

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

/** Each handler bundled exactly as the stack bundles it: handler name → the asset folder. */
async function bundleAsTheStackDoes(names: readonly HandlerName[]): Promise<Array<[HandlerName, string]>> {
  const outdir = mkdtempSync(join(tmpdir(), 'greenlight-bundles-'));
  onTestFinished(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir, context: CDK_JSON_CONTEXT });
  const stack = new Stack(app, 'Bundles');
  const functions = names.map(
    (name) =>
      [
        name,
        new HandlerFunction(stack, name, {
          name,
          description: name,
          memorySize: 128,
          timeout: Duration.seconds(3),
          environment: {},
          logRetention: RetentionDays.ONE_DAY,
        }),
      ] as const,
  );
  const template = app.synth().getStackByName('Bundles').template;
  return functions.map(([name, handler]) => {
    const logicalId = stack.getLogicalId(handler.fn.node.defaultChild as CfnFunction);
    const assetHash = String(template.Resources[logicalId].Properties.Code.S3Key).replace(/\.zip$/, '');
    return [name, join(outdir, `asset.${assetHash}`)];
  });
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
    expect(loaded).toEqual(present.map((name) => [name, ['index.mjs', 'index.mjs.map'], 'function']));
    // A cold start loads and parses the whole bundle: one import that drags in a library's every
    // part (zod's locales, an SDK client the way in never calls) shows here first.
    const overBudget = sizes.filter(({ name, bytes }) => bytes > BUNDLE_BUDGET_BYTES[name]);
    expect(overBudget).toEqual([]);
    // zod's ~50 other languages (260 KB) come with `import { z } from 'zod'`: write `import * as z from 'zod'`.
    expect([...new Set(zodLocales)]).toEqual([]);
  }, 90_000);
});
