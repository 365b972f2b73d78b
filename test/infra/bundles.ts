import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { onTestFinished } from 'vitest';
import { HandlerFunction, type HandlerName } from '../../infra/constructs/handler-function.ts';
import { CDK_JSON_CONTEXT } from './synth.ts';

/**
 * Each handler bundled exactly as the stack bundles it (esbuild, and the files copied beside the
 * bundle): handler name → the asset folder Lambda would unzip. Call it inside a test: the folders
 * are removed when the test finishes.
 */
export async function bundleAsTheStackDoes(names: readonly HandlerName[]): Promise<Array<[HandlerName, string]>> {
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
