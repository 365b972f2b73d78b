import type { WebClient } from '@slack/web-api';
import type { ApprovalRecord, MessageRef } from '../core/approval.ts';
import type { ApprovalNotifier, Clock } from '../core/ports.ts';
import { approvalMessage } from '../views/approval-message.ts';
import { ids } from '../views/ids.ts';

/**
 * Shows approvals in Slack: one message per approval, redrawn in place as it moves on.
 * Posting may use a patient client (a product's services reach a stage together, and Slack allows
 * about one message per second per channel: it waits out Retry-After); redrawing happens on a
 * click and uses the quick one.
 */
export class SlackApprovalNotifier implements ApprovalNotifier {
  constructor(
    private readonly slack: WebClient,
    private readonly channelFor: (record: ApprovalRecord) => string,
    private readonly clock: Clock,
    private readonly poster: WebClient = slack,
  ) {}

  async announce(record: ApprovalRecord): Promise<MessageRef> {
    const channel = this.channelFor(record);
    const result = await this.poster.chat.postMessage({
      channel,
      ...approvalMessage(record, this.clock()),
      unfurl_links: false,
      unfurl_media: false,
      // Tags the message with its approval, so it can be found again from Slack's side.
      metadata: { event_type: ids.metadataEvent, event_payload: { approval_id: record.request.id } },
    });
    if (!result.ts || !result.channel) throw new Error('chat.postMessage answered without channel and ts');
    return { channel: result.channel, ts: result.ts };
  }

  async refresh(record: ApprovalRecord): Promise<void> {
    if (!record.message) return;
    await this.slack.chat.update({
      channel: record.message.channel,
      ts: record.message.ts,
      ...approvalMessage(record, this.clock()),
    });
  }
}
