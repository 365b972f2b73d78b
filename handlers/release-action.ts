import type { Context } from 'aws-lambda';
import { type CodePipelineJobEvent, handleReleaseAction } from '../app/adapters/release-action.ts';
import { loadConfig } from '../app/config.ts';
import { createDeps } from '../app/deps.ts';
import { lazy } from '../app/lazy.ts';

const deps = lazy(() => createDeps(loadConfig(process.env), { path: 'worker' }));

/** A releasing pipeline's Lambda invoke action → the product's fan-out, reported back to CodePipeline. */
export const handler = async (event: CodePipelineJobEvent, context: Context): Promise<void> =>
  handleReleaseAction(await deps(), event, context);
