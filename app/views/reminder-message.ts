import type { ApprovalRecord } from '../core/approval.ts';
import type { ReminderPost } from '../core/ports.ts';
import type { SlackMessage } from './approval-message.ts';
import { escapeMrkdwn, relative, slackDate } from './format.ts';
import { whoText } from './policy-lines.ts';

/**
 * The one reminder an approval gets before it expires (core/reminders.ts), in its thread: when it
 * expires, and a call to its approvers (people and user groups), `@here`, or nobody.
 */
export function reminderMessage(record: ApprovalRecord, reminder: ReminderPost): SlackMessage {
  const { request } = record;
  const who =
    reminder.mention === 'here'
      ? '<!here> '
      : reminder.mention.length > 0
        ? `${reminder.mention.map(whoText).join(' ')} `
        : '';
  const when = `${relative(reminder.expiresAt, reminder.at)} (${slackDate(reminder.expiresAt)})`;
  const line = `⏰ ${who}this approval of *${escapeMrkdwn(request.pipelineName)} › ${escapeMrkdwn(request.stageName)}* is still open and expires ${when}. CodePipeline then fails it.`;
  return {
    text: `${who}${request.pipelineName} › ${request.stageName} still waits for approval and expires ${relative(reminder.expiresAt, reminder.at)}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: line } }],
  };
}
