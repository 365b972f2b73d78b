import { App, type Authorize, type Receiver } from '@slack/bolt';
import type { Logger as BoltLogger, WebClientOptions } from '@slack/web-api';
import { register as registerApprovalActions } from './approval-actions.ts';
import { register as registerChangeSetModal } from './change-set-modal.ts';
import type { ListenerDeps } from './context.ts';
import { register as registerCorrelation } from './correlation.ts';
import { register as registerGuard } from './guard.ts';
import { register as registerReleaseCommand } from './release-command.ts';
import type { ReleaseListenerDeps } from './release-context.ts';
import { register as registerReleaseModal } from './release-modal.ts';

/** What the Slack app needs: every listener's deps, how Bolt authorizes a request and how its client talks to Slack. */
export interface SlackAppDeps extends ListenerDeps, ReleaseListenerDeps {
  /** The bot token for each request, without asking Slack (inbound/slack.ts). */
  authorize: Authorize<boolean>;
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
    // Not Bolt's own single-workspace authorize: it calls auth.test on cold start, or, with that
    // turned off, on every request. A click's 3 s are better spent deciding, and the bot's ids it
    // asks for only filter the app's own Events API events: Greenlight listens to none.
    authorize: deps.authorize,
    clientOptions: deps.slackClientOptions,
    logger: deps.boltLogger,
    // Bolt's conversation store keeps state per channel in memory; no listener reads it, and a
    // Lambda container's memory is no place for it.
    convoStore: false,
  });
  registerCorrelation(app);
  registerGuard(app, deps);
  registerApprovalActions(app, deps);
  registerChangeSetModal(app, deps);
  registerReleaseCommand(app, deps);
  registerReleaseModal(app, deps);
  app.error(async (error) => {
    deps.log.error('Unhandled error in a Slack listener', { error });
    deps.metrics?.count('SlackActionFailed');
  });
  return app;
}
