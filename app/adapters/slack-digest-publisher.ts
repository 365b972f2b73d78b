import { type ChatPostMessageArguments, ErrorCode, type WebClient } from '@slack/web-api';
import type { MessageRef } from '../core/approval.ts';
import type { Digest } from '../core/digest.ts';
import { mapLimit } from '../core/map-limit.ts';
import type { DigestPublisher, Log } from '../core/ports.ts';
import { digestMessages, type Permalinks } from '../views/digest-message.ts';

/** Permalink lookups in flight at once. */
const PERMALINK_CONCURRENCY = 8;
/** Times a post waits out Slack's rate limit (about one message per second per channel) before giving up. */
const RATE_LIMIT_RETRIES = 3;

type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Posts the digest to its channel: the top message, then the rest in its thread. The digest is not
 * on a click path, so a post that Slack rate-limits waits for Retry-After instead of failing (the
 * shared client rejects rate-limited calls at once, for clicks' sake).
 */
export class SlackDigestPublisher implements DigestPublisher {
  constructor(
    private readonly slack: WebClient,
    private readonly channel: string,
    private readonly log: Log,
    private readonly wait: Sleep = sleep,
  ) {}

  async publish(digest: Digest, posted: (message: MessageRef) => Promise<void>): Promise<MessageRef> {
    const { top, replies } = digestMessages(digest, await permalinksOf(this.slack, digest, this.log));
    const message = await this.post({ channel: this.channel, ...top });
    await posted(message);
    for (const reply of replies) await this.post({ channel: this.channel, thread_ts: message.ts, ...reply });
    return message;
  }

  private async post(args: ChatPostMessageArguments): Promise<MessageRef> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.slack.chat.postMessage({ ...args, unfurl_links: false, unfurl_media: false });
        if (!result.ts || !result.channel) throw new Error('chat.postMessage answered without channel and ts');
        return { channel: result.channel, ts: result.ts };
      } catch (error) {
        const retryAfter = rateLimited(error);
        if (retryAfter === undefined || attempt >= RATE_LIMIT_RETRIES) throw error;
        this.log.info('Slack rate-limited a digest post; waiting', { retryAfterSeconds: retryAfter });
        await this.wait(retryAfter * 1000);
      }
    }
  }
}

/**
 * Links to the live approval messages. A link is a convenience: one Slack cannot give is left out,
 * and once Slack rate-limits the lookups the rest are not asked for.
 */
export async function permalinksOf(slack: WebClient, digest: Digest, log: Log): Promise<Permalinks> {
  const links = new Map<string, string>();
  let limited = false;
  await mapLimit(digest.waiting, PERMALINK_CONCURRENCY, async ({ approvalId, message }) => {
    if (!message || limited) return;
    try {
      const { permalink } = await slack.chat.getPermalink({ channel: message.channel, message_ts: message.ts });
      if (permalink) links.set(approvalId, permalink);
    } catch (error) {
      if (rateLimited(error) !== undefined) limited = true;
      log.warn('No permalink for an approval message; the digest shows it without', { approvalId, error });
    }
  });
  return links;
}

function rateLimited(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, retryAfter } = error as { code?: unknown; retryAfter?: unknown };
  return code === ErrorCode.RateLimitedError && typeof retryAfter === 'number' ? retryAfter : undefined;
}
