import type { MessageMetadata } from '@slack/types';
import { type ChatPostMessageArguments, ErrorCode, type WebClient } from '@slack/web-api';
import type { MessageRef } from '../core/approval.ts';
import type { Digest } from '../core/digest.ts';
import type { DigestPublisher } from '../core/digest-posting.ts';
import { MaybeDeliveredError } from '../core/errors.ts';
import { mapLimit } from '../core/map-limit.ts';
import type { Log } from '../core/ports.ts';
import { digestMessages, type Permalinks } from '../views/digest-message.ts';
import { findPosted, postOnce } from './slack-posting.ts';

/** Permalink lookups in flight at once. */
const PERMALINK_CONCURRENCY = 8;
const DIGEST_METADATA_EVENT = 'greenlight_digest';

export interface DigestPostingOptions {
  /** Longest wait for Slack's rate limit per post. */
  rateLimitWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
  /** Shares the digest's chart in its thread, after the text; it never fails the digest (slack-digest-chart.ts). */
  chart?: { share(digest: Digest, thread: MessageRef): Promise<void> };
}

/**
 * Posts the digest to its channel: the top message, then the rest in its thread. The top message
 * is tagged with its day in the message metadata and posted at most once (postOnce): when an
 * earlier run's post got no answer, or this one's, the message is found by its tag instead of
 * being posted a second time. Posts wait out Slack's rate limit within the digest's budget.
 */
export class SlackDigestPublisher implements DigestPublisher {
  constructor(
    private readonly slack: WebClient,
    private readonly poster: WebClient,
    private readonly channel: string,
    private readonly log: Log,
    private readonly options: DigestPostingOptions,
  ) {}

  async publish(digest: Digest, posted: (message: MessageRef) => Promise<void>): Promise<MessageRef> {
    const { top, replies } = digestMessages(digest, await permalinksOf(this.slack, digest, this.log));
    const isOurs = (metadata: MessageMetadata) =>
      metadata.event_type === DIGEST_METADATA_EVENT && metadata.event_payload?.day === digest.day;
    // A run that died after posting without an answer left the top message behind: use it.
    const startOfDay = new Date(`${digest.day}T00:00:00Z`);
    let message = await findPosted(this.poster, this.channel, startOfDay, isOurs);
    if (message) this.log.info('Found the digest an earlier run posted; finishing its thread', { day: digest.day });
    if (!message) {
      try {
        message = await this.post({
          ...top,
          metadata: { event_type: DIGEST_METADATA_EVENT, event_payload: { day: digest.day } },
        });
      } catch (error) {
        if (!(error instanceof MaybeDeliveredError)) throw error;
        message = await findPosted(this.poster, this.channel, startOfDay, isOurs);
        if (!message) throw error;
      }
    }
    await posted(message);
    for (const reply of replies) await this.post({ thread_ts: message.ts, ...reply });
    await this.options.chart?.share(digest, message);
    return message;
  }

  private post(args: Omit<ChatPostMessageArguments, 'channel'>): Promise<MessageRef> {
    return postOnce(
      this.poster,
      { channel: this.channel, ...args, unfurl_links: false, unfurl_media: false } as ChatPostMessageArguments,
      {
        rateLimitWaitMs: this.options.rateLimitWaitMs,
        log: this.log,
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      },
    );
  }
}

/**
 * Links to the live approval messages. Slack's permalink of a channel message is
 * `<workspace URL>/archives/<channel>/p<ts without its dot>` (https://api.slack.com/methods/chat.getPermalink:
 * `…/archives/C1H9RESGA/p135854651500008` for ts 1358546515.000008), so Slack is asked for one and
 * the rest are built alike: one call instead of one per waiting approval. The workspace URL is taken
 * from that answer rather than from auth.test, so a link is exactly what Slack gives, whatever the
 * workspace's host. Should its answer not have that shape, each link is asked for. A link is a
 * convenience: one Slack cannot give is left out, and once Slack rate-limits the lookups the rest
 * are not asked for.
 */
export async function permalinksOf(slack: WebClient, digest: Digest, log: Log): Promise<Permalinks> {
  const links = new Map<string, string>();
  const linked = digest.waiting.flatMap(({ approvalId, message }) => (message ? [{ approvalId, message }] : []));
  let workspace: string | undefined;
  let limited = false;
  const ask = async ({ approvalId, message }: (typeof linked)[number]) => {
    if (limited) return;
    try {
      const { permalink } = await slack.chat.getPermalink({ channel: message.channel, message_ts: message.ts });
      if (permalink) links.set(approvalId, permalink);
      return permalink;
    } catch (error) {
      if (rateLimited(error) !== undefined) limited = true;
      log.warn('No permalink for an approval message; the digest shows it without', { approvalId, error });
      return undefined;
    }
  };
  let next = 0;
  // Until one answer gives the workspace URL (a message may be gone: ask about the next).
  while (workspace === undefined && next < linked.length && !limited) {
    const first = linked[next++] as (typeof linked)[number];
    const permalink = await ask(first);
    if (permalink !== undefined) workspace = workspaceOf(permalink, first.message) ?? '';
  }
  const rest = linked.slice(next);
  if (workspace) for (const { approvalId, message } of rest) links.set(approvalId, permalinkOf(workspace, message));
  else if (workspace === '') await mapLimit(rest, PERMALINK_CONCURRENCY, ask);
  return links;
}

const permalinkOf = (workspace: string, message: MessageRef): string =>
  `${workspace}/archives/${message.channel}/p${message.ts.replace('.', '')}`;

/** The workspace URL of a permalink Slack gave for `message`, when it has the usual shape. */
function workspaceOf(permalink: string, message: MessageRef): string | undefined {
  const suffix = permalinkOf('', message);
  return permalink.endsWith(suffix) && /^https:\/\/[^/]+$/.test(permalink.slice(0, -suffix.length))
    ? permalink.slice(0, -suffix.length)
    : undefined;
}

function rateLimited(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, retryAfter } = error as { code?: unknown; retryAfter?: unknown };
  return code === ErrorCode.RateLimitedError && typeof retryAfter === 'number' ? retryAfter : undefined;
}
