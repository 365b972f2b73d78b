import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { followedDeps } from '../app/deps.ts';
import { actionDeps, type CodePipelineJobEvent, handleReleaseAction } from '../app/inbound/release-action.ts';

const deps = followedDeps('release-action', () => loadConfig(process.env), actionDeps);

/** Off Lambda (no context) an invocation gets the deployed function's timeout, 5 minutes, from now. */
const OFF_LAMBDA_BUDGET_MS = 5 * 60_000;

/** A releasing pipeline's Lambda invoke action → the product's fan-out, reported back to CodePipeline. */
export const handler = async (event: CodePipelineJobEvent, context?: Context): Promise<void> =>
  withLambdaContext(context, async () => {
    const deadline = Date.now() + OFF_LAMBDA_BUDGET_MS;
    const invocation = context ?? { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
    return handleReleaseAction(await deps.current(), event, invocation);
  });
