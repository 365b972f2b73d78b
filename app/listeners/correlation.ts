import type { App } from '@slack/bolt';
import { type Correlation, withCorrelation } from '../adapters/powertools-log.ts';
import { approvalButton } from '../views/approval-message.ts';
import { ids } from '../views/ids.ts';
import { rejectModalMetadata } from '../views/reject-modal.ts';
import { releaseModalMetadata } from '../views/release-modal.ts';

/**
 * The approval or release a Slack request is about, from what Greenlight wrote into it (a button's
 * value, a modal's private_metadata), read with the same readers the listeners use; undefined for
 * anything else. A value that does not read names nothing: the listener refuses it.
 */
export function correlationOf(body: Record<string, unknown>): Correlation | undefined {
  if (body.type === 'block_actions') {
    const [action] = (body.actions as Array<{ action_id?: unknown; value?: unknown }> | undefined) ?? [];
    if (action?.action_id !== ids.approve && action?.action_id !== ids.reject) return undefined;
    const button = approvalButton.read(typeof action.value === 'string' ? action.value : undefined);
    return button.ok ? { approvalId: button.value.approvalId } : undefined;
  }
  if (body.type === 'view_submission' || body.type === 'view_closed') {
    const view = body.view as { callback_id?: unknown; private_metadata?: unknown } | undefined;
    const metadata = typeof view?.private_metadata === 'string' ? view.private_metadata : undefined;
    if (view?.callback_id === ids.rejectModal) {
      const state = rejectModalMetadata.read(metadata);
      return state.ok ? { approvalId: state.value.approvalId } : undefined;
    }
    if (view?.callback_id === ids.releaseModal) {
      const state = releaseModalMetadata.read(metadata);
      return state.ok ? { releaseId: state.value.releaseId } : undefined;
    }
  }
  return undefined;
}

/**
 * Registered first, before the guard: every line logged while a click, modal or command about one
 * approval or release is handled (the guard's, the listener's, the core's, the Slack SDK's) carries
 * its id as a top-level key, as the SNS and SQS ways in do. A command learns its release id only
 * once it plans one (release-command.ts scopes the rest of its work then).
 */
export function register(app: App): void {
  app.use(async ({ body, next }) => {
    const keys = correlationOf(body as unknown as Record<string, unknown>);
    return keys ? withCorrelation(keys, next) : next();
  });
}
