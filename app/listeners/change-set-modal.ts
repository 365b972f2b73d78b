import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { refuseTamperedInput } from '../core/refuse-input.ts';
import { changeSetModal, changesButton } from '../views/change-set-lines.ts';
import { ids } from '../views/ids.ts';
import { notices } from '../views/notices.ts';
import { type ListenerDeps, slackActor } from './context.ts';

/**
 * "Show all changes" on an approval message: every change Greenlight read of the change set the
 * approval gates (docs/what-am-i-approving.md), from the stored request, in a modal. One DynamoDB
 * read, no AWS call: the change set was read when the approval arrived.
 */
export function register(app: App, deps: Pick<ListenerDeps, 'store' | 'log' | 'clock' | 'ids' | 'displayName'>): void {
  app.action<BlockAction<ButtonAction>>(ids.showChanges, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const tell = async (text: string): Promise<void> => {
      if (channel) await client.chat.postEphemeral({ channel, user: body.user.id, text });
    };
    const parsed = changesButton.read(action.value);
    if (!parsed.ok) {
      deps.log.warn('Refused a button value Greenlight did not make', {
        actionId: action.action_id,
        user: body.user.id,
      });
      await refuseTamperedInput(
        deps,
        await slackActor(deps, body.user),
        `${action.action_id}: value not made by Greenlight`,
      );
      await tell(notices.malformed);
      return;
    }
    try {
      const record = await deps.store.get(parsed.value.approvalId);
      if (!record) {
        await tell(notices.unknownApproval);
        return;
      }
      await client.views.open({ trigger_id: body.trigger_id, view: changeSetModal(record) });
    } catch (error) {
      deps.log.error('Could not open the change set modal', { approvalId: parsed.value.approvalId, error });
      await tell('Greenlight could not show the changes just now. Please try again.').catch(() => undefined);
    }
  });
}
