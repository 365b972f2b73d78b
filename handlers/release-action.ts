import type { Context } from 'aws-lambda';
import { loadConfig } from '../app/config.ts';
import { actionDeps, type CodePipelineJobEvent, handleReleaseAction } from '../app/inbound/release-action.ts';
import { lazy } from '../app/lazy.ts';

const deps = lazy(() => actionDeps(loadConfig(process.env)));

/** A releasing pipeline's Lambda invoke action → the product's fan-out, reported back to CodePipeline. */
export const handler = async (event: CodePipelineJobEvent, context: Context): Promise<void> =>
  handleReleaseAction(await deps(), event, context);
