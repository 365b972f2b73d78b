import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../core/approval.ts';
import type { Digest } from '../core/digest.ts';
import { MaybeDeliveredError } from '../core/errors.ts';
import type { Clock, Log } from '../core/ports.ts';
import type { ProductBoard } from '../core/product-board.ts';
import type { ReleasePlan, ReleaseRun } from '../core/release.ts';
import type { ReleaseReporter } from '../core/release-ports.ts';
import type { SlackMessage } from '../views/approval-message.ts';
import { digestPreview } from '../views/digest-message.ts';
import { ids } from '../views/ids.ts';
import { productBoardMessage } from '../views/product-board.ts';
import { releasePlanModal, releaseProblemModal } from '../views/release-modal.ts';
import { releaseProgressMessage } from '../views/release-progress.ts';
import { permalinksOf } from './slack-digest-publisher.ts';
import { findPosted, postOnce } from './slack-posting.ts';

/** A response_url post that hangs is given up after this long (the job fails and SQS retries it). */
export const RESPONSE_TIMEOUT_MS = 5_000;

/** What the release worker shows in Slack: the progress message, the confirmation modal, ephemeral answers. */
export class SlackReleaseReporter implements ReleaseReporter {
  constructor(
    private readonly slack: WebClient,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly httpPost: typeof fetch = fetch,
    /** Posts without retrying by itself (see postOnce); the patient client when not given. */
    private readonly poster: WebClient = slack,
    private readonly rateLimitWaitMs = 60_000,
  ) {}

  /** Posts the progress message once: a post whose answer was lost is looked for, not repeated. */
  async post(run: ReleaseRun): Promise<MessageRef> {
    const since = new Date(this.clock().getTime() - 5_000);
    try {
      return await postOnce(
        this.poster,
        {
          channel: run.channel,
          ...releaseProgressMessage(run),
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: ids.releaseMetadataEvent, event_payload: { release_id: run.releaseId } },
        },
        { rateLimitWaitMs: this.rateLimitWaitMs, log: this.log },
      );
    } catch (error) {
      if (!(error instanceof MaybeDeliveredError)) throw error;
      const found = await this.find(run, since);
      if (!found) throw error;
      return found;
    }
  }

  /** The progress message of the release posted since `since`, by the metadata every post carries. */
  find(run: ReleaseRun, since: Date): Promise<MessageRef | undefined> {
    return findPosted(
      this.poster,
      run.channel,
      since,
      (metadata) =>
        metadata.event_type === ids.releaseMetadataEvent && metadata.event_payload?.release_id === run.releaseId,
    );
  }

  async update(run: ReleaseRun, message: MessageRef): Promise<void> {
    await this.slack.chat.update({ channel: message.channel, ts: message.ts, ...releaseProgressMessage(run) });
  }

  /** Fills in the loading modal (views.update by id works long after the trigger_id expired). */
  async showPlan(viewId: string, plan: ReleasePlan, viewHash?: string): Promise<void> {
    await this.slack.views.update({
      view_id: viewId,
      ...(viewHash ? { hash: viewHash } : {}),
      view: releasePlanModal(plan, this.clock()),
    });
  }

  async showProblem(viewId: string, heading: string, text: string, viewHash?: string): Promise<void> {
    await this.slack.views.update({
      view_id: viewId,
      ...(viewHash ? { hash: viewHash } : {}),
      view: releaseProblemModal(heading, text),
    });
  }

  async respond(responseUrl: string, text: string): Promise<void> {
    await this.#respond(responseUrl, { text, blocks: [] });
  }

  async showBoard(responseUrl: string, board: ProductBoard): Promise<void> {
    await this.#respond(responseUrl, productBoardMessage(board, this.clock()));
  }

  async showDigest(responseUrl: string, digest: Digest): Promise<void> {
    await this.#respond(responseUrl, digestPreview(digest, await permalinksOf(this.slack, digest, this.log)));
  }

  /** An answer only the person who typed the command sees, through the command's response_url. */
  async #respond(responseUrl: string, message: SlackMessage): Promise<void> {
    const response = await this.httpPost(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        response_type: 'ephemeral',
        replace_original: false,
        text: message.text,
        ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}),
      }),
      signal: AbortSignal.timeout(RESPONSE_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`Slack refused the response_url post: HTTP ${response.status}`);
  }
}
