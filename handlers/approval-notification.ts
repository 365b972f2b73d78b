import { ingestApprovalNotifications, type SnsEvent } from '../app/adapters/approval-notification.ts';
import { loadConfig } from '../app/config.ts';
import { createDeps } from '../app/deps.ts';
import { lazy } from '../app/lazy.ts';

const deps = lazy(() => createDeps(loadConfig(process.env), { path: 'ingest' }));

/** SNS (CodePipeline approval notifications) → one Slack message per approval. */
export const handler = async (event: SnsEvent): Promise<void> => {
  await ingestApprovalNotifications(await deps(), event);
};
