import { WebAPIRateLimitedError, type WebClient } from '@slack/web-api';
import type { ApprovalRecord, MessageRef } from '../core/approval.ts';
import { BusyError } from '../core/errors.ts';
import type { ApprovalNotifier, Clock, Log } from '../core/ports.ts';
import { approvalMessage } from '../views/approval-message.ts';
import { ids } from '../views/ids.ts';
import { findPosted, postOnce } from './slack-posting.ts';

export interface SlackApprovalNotifierOptions {
  /** Redraws (on a click: quick, rejects rate-limited calls). */
  slack: WebClient;
  /** Posts: never retries by itself (see postOnce). */
  poster: WebClient;
  channelFor: (record: ApprovalRecord) => string;
  clock: Clock;
  log: Log;
  /** How long a post may wait out Slack's rate limit (a product's services reach a stage together). */
  rateLimitWaitMs: number;
}

/**
 * Shows approvals in Slack: one message per approval, tagged with its approval id in the message
 * metadata, and redrawn in place as the approval moves on.
 */
export class SlackApprovalNotifier implements ApprovalNotifier {
  constructor(private readonly options: SlackApprovalNotifierOptions) {}

  announce(record: ApprovalRecord): Promise<MessageRef> {
    const { poster, channelFor, clock, log, rateLimitWaitMs } = this.options;
    return postOnce(
      poster,
      {
        channel: channelFor(record),
        ...approvalMessage(record, clock()),
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: ids.metadataEvent, event_payload: { approval_id: record.request.id } },
      },
      { rateLimitWaitMs, log },
    );
  }

  find(record: ApprovalRecord, since: Date): Promise<MessageRef | undefined> {
    const { poster, channelFor } = this.options;
    return findPosted(
      poster,
      channelFor(record),
      since,
      (metadata) =>
        metadata.event_type === ids.metadataEvent && metadata.event_payload?.approval_id === record.request.id,
    );
  }

  async withdraw(message: MessageRef): Promise<void> {
    await this.options.poster.chat.delete({ channel: message.channel, ts: message.ts });
  }

  async refresh(record: ApprovalRecord): Promise<void> {
    if (!record.message) return;
    try {
      await this.options.slack.chat.update({
        channel: record.message.channel,
        ts: record.message.ts,
        ...approvalMessage(record, this.options.clock()),
      });
    } catch (error) {
      // The core settles the message later, when Slack says it may (decide-approval's refreshQuietly).
      if (error instanceof WebAPIRateLimitedError)
        throw new BusyError(error.retryAfter, 'Slack rate-limited the redraw', { cause: error });
      throw error;
    }
  }
}
