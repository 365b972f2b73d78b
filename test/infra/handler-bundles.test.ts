import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HANDLER_NAMES, HandlerFunction, handlerEntry } from '../../infra/constructs/handler-function.ts';
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

describe('handler bundles', () => {
  it('has an entry point for each of the five handlers the stack deploys', () => {
    // Act
    const missing = HANDLER_NAMES.filter((name) => !existsSync(handlerEntry(name)));
    // Assess
    expect(missing).toEqual([]);
  });

  it('bundles every handler as the stack does, and each bundle loads in a fresh Node.js', async () => {
    // Prepare
    const present = HANDLER_NAMES.filter((name) => existsSync(handlerEntry(name)));
    const outdir = mkdtempSync(join(tmpdir(), 'greenlight-bundles-'));
    onTestFinished(() => rmSync(outdir, { recursive: true, force: true }));
    const app = new App({ outdir, context: CDK_JSON_CONTEXT });
    const stack = new Stack(app, 'Bundles');
    const functions = present.map(
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

    // Act
    const template = app.synth().getStackByName('Bundles').template;
    const loaded = await Promise.all(
      functions.map(async ([name, handler]) => {
        const logicalId = stack.getLogicalId(handler.fn.node.defaultChild as CfnFunction);
        const assetHash = String(template.Resources[logicalId].Properties.Code.S3Key).replace(/\.zip$/, '');
        const dir = join(outdir, `asset.${assetHash}`);
        return [name, readdirSync(dir).sort(), await importInFreshNode(join(dir, 'index.mjs'))];
      }),
    );

    // Assess
    expect(present.length).toBeGreaterThan(0);
    expect(loaded).toEqual(present.map((name) => [name, ['index.mjs', 'index.mjs.map'], 'function']));
  }, 90_000);
});
