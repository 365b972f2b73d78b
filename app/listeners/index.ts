import { App, type Receiver } from '@slack/bolt';
import type { Logger as BoltLogger, WebClientOptions } from '@slack/web-api';
import { register as registerApprovalActions } from './approval-actions.ts';
import type { ListenerDeps } from './context.ts';
import { register as registerGuard } from './guard.ts';
import { register as registerReleaseCommand } from './release-command.ts';
import type { ReleaseListenerDeps } from './release-context.ts';
import { register as registerReleaseModal } from './release-modal.ts';

/** What the Slack app needs: every listener's deps, the bot token and how its client talks to Slack. */
export interface SlackAppDeps extends ListenerDeps, ReleaseListenerDeps {
  botToken: string;
  slackClientOptions: WebClientOptions;
  boltLogger: BoltLogger;
}

/**
 * The Bolt app with every listener registered. The receiver decides the transport (Lambda Function
 * URL, the sandbox's HTTP adapter, or Socket Mode for `npm start` with real Slack); listeners are
 * the same everywhere.
 */
export function createSlackApp(deps: SlackAppDeps, receiver: Receiver): App {
  const app = new App({
    receiver,
    token: deps.botToken,
    // No auth.test on cold start: a click's 3 s are better spent deciding. We listen to no events
    // that need our own bot id to filter out.
    tokenVerificationEnabled: false,
    clientOptions: deps.slackClientOptions,
    logger: deps.boltLogger,
  });
  registerGuard(app, deps);
  registerApprovalActions(app, deps);
  registerReleaseCommand(app, deps);
  registerReleaseModal(app, deps);
  app.error(async (error) => {
    deps.log.error('Unhandled error in a Slack listener', { error });
  });
  return app;
}
