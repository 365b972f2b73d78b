import type { Context } from 'aws-lambda';
import { withLambdaContext } from '../app/adapters/powertools-log.ts';
import { loadConfig } from '../app/config.ts';
import { followedDeps } from '../app/deps.ts';
import { ingestApprovalNotifications, notificationDeps, type SnsEvent } from '../app/inbound/approval-notifications.ts';

const deps = followedDeps('approval-notification', () => loadConfig(process.env), notificationDeps);

/** SNS (CodePipeline approval notifications) → one Slack message per approval. */
export const handler = async (event: SnsEvent, context?: Context): Promise<void> =>
  withLambdaContext(context, async () => ingestApprovalNotifications(await deps.current(), event));
