import { WebAPIRateLimitedError, type WebClient } from '@slack/web-api';
import type { ApprovalRecord, MessageRef } from '../core/approval.ts';
import { BusyError } from '../core/errors.ts';
import type {
  ApprovalNotifier,
  Clock,
  JourneyStepPost,
  Log,
  ReleaseStep,
  ReleaseStepView,
  ReminderPost,
  ThreadNotifier,
} from '../core/ports.ts';
import type { ReleaseRun } from '../core/release.ts';
import { approvalMessage, type SlackMessage } from '../views/approval-message.ts';
import { ids } from '../views/ids.ts';
import { journeyMessage } from '../views/journey-message.ts';
import { releaseProgressMessage } from '../views/release-progress.ts';
import { reminderMessage } from '../views/reminder-message.ts';
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
export class SlackApprovalNotifier implements ApprovalNotifier, ThreadNotifier, ReleaseStepView {
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

  async journeyStep(record: ApprovalRecord, step: JourneyStepPost): Promise<void> {
    await this.#reply(record, journeyMessage(record, step));
  }

  async reminder(record: ApprovalRecord, reminder: ReminderPost): Promise<void> {
    await this.#reply(record, reminderMessage(record, reminder));
  }

  /** Redraws a release's progress message with its pipelines' steps after the approvals (core/journey-release.ts). */
  async showSteps(run: ReleaseRun, steps: Readonly<Record<string, ReleaseStep>>): Promise<void> {
    if (!run.message) return;
    await this.options.slack.chat.update({
      channel: run.message.channel,
      ts: run.message.ts,
      ...releaseProgressMessage(run, steps),
    });
  }

  /** A reply in the approval message's thread; never repeated here (postOnce): the core marks each reply. */
  async #reply(record: ApprovalRecord, message: SlackMessage): Promise<void> {
    if (!record.message) return;
    const { poster, log, rateLimitWaitMs } = this.options;
    await postOnce(
      poster,
      {
        channel: record.message.channel,
        thread_ts: record.message.ts,
        ...message,
        unfurl_links: false,
        unfurl_media: false,
      },
      { rateLimitWaitMs, log },
    );
  }
}
