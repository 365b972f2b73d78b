import type { MessageMetadata } from '@slack/types';
import {
  type ChatPostMessageArguments,
  WebAPIHTTPError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  type WebClient,
} from '@slack/web-api';
import type { MessageRef } from '../core/approval.ts';
import { MaybeDeliveredError, TransientError } from '../core/errors.ts';
import type { Log } from '../core/ports.ts';

/** Pages of channel history read when looking for a post whose answer was lost (100 messages each). */
const HISTORY_PAGES = 5;

export interface PostOnceOptions {
  /** Longest total wait for Slack's rate limit (Retry-After) before giving up (transiently). */
  rateLimitWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
  log?: Log;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts a Slack message at most once. `chat.postMessage` has no idempotency key, so a post whose
 * answer is lost (a timeout, a dropped connection, a 5xx) may still have been shown: it is never
 * repeated here, but reported as MaybeDeliveredError so the caller looks for it (by its metadata)
 * first. A rate-limited post was not accepted, so it is repeated after Retry-After while the
 * path's budget allows; past it, TransientError.
 *
 * `client` must not retry on its own (`retryConfig: { retries: 0 }`, `rejectRateLimitedCalls`),
 * which is how deps.ts builds posting clients.
 */
export async function postOnce(
  client: WebClient,
  args: ChatPostMessageArguments,
  options: PostOnceOptions,
): Promise<MessageRef> {
  const sleep = options.sleep ?? realSleep;
  let waited = 0;
  for (;;) {
    try {
      const result = await client.chat.postMessage(args);
      if (!result.ts || !result.channel) throw new Error('chat.postMessage answered without channel and ts');
      return { channel: result.channel, ts: result.ts };
    } catch (error) {
      if (error instanceof WebAPIRateLimitedError) {
        const waitMs = error.retryAfter * 1000;
        if (waited + waitMs > options.rateLimitWaitMs)
          throw new TransientError(`Slack rate-limited the post for ${error.retryAfter} s, past this path's budget`, {
            cause: error,
          });
        options.log?.info('Slack rate-limited a post; waiting', { retryAfterSeconds: error.retryAfter });
        waited += waitMs;
        await sleep(waitMs);
        continue;
      }
      if (error instanceof WebAPIRequestError || (error instanceof WebAPIHTTPError && error.statusCode >= 500))
        throw new MaybeDeliveredError('Slack did not confirm a post; it may have been shown', { cause: error });
      throw error;
    }
  }
}

/**
 * The bot's own top-level message in `channel`, posted at or after `since`, whose metadata
 * matches. Reads at most a few pages of history (needs `channels:history` / `groups:history`).
 * Only this bot's messages count: another app (another Greenlight installation, say) may post the
 * same metadata in the same channel.
 */
export async function findPosted(
  client: WebClient,
  channel: string,
  since: Date,
  matches: (metadata: MessageMetadata) => boolean,
): Promise<MessageRef | undefined> {
  const bot = await ownBotId(client);
  let cursor: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const history = await client.conversations.history({
      channel,
      oldest: (since.getTime() / 1000).toFixed(6),
      inclusive: true,
      include_all_metadata: true,
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    for (const message of history.messages ?? []) {
      const metadata = message.metadata as MessageMetadata | undefined;
      if (message.ts && metadata && (!bot || message.bot_id === bot) && matches(metadata))
        return { channel, ts: message.ts };
    }
    cursor = history.response_metadata?.next_cursor || undefined;
    if (!history.has_more || !cursor) return undefined;
  }
  return undefined;
}

const ownBots = new WeakMap<WebClient, Promise<string | undefined>>();

/** The bot id of the client's token (auth.test, asked once per client; asked again after a failure). */
function ownBotId(client: WebClient): Promise<string | undefined> {
  let id = ownBots.get(client);
  if (!id) {
    id = client.auth.test().then((identity) => identity.bot_id);
    id.catch(() => ownBots.delete(client));
    ownBots.set(client, id);
  }
  return id;
}
