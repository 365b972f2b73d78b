import { type ApiMethod, requiredArg, SlackApiError, stringArg } from './api-args.ts';
import { readContent, readMetadata, requireContent } from './message-content.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Channel, JsonObject, SlackMessage } from './types.ts';
import type { MessagePatch, Workspace } from './workspace.ts';

export interface ChatContext {
  workspace: Workspace;
  /** Base of permalinks, e.g. `https://acme.slack.com`. */
  webUrl: string;
  rateLimiter?: RateLimiter;
}

/** A channel the bot can see: private channels it is not in do not exist for it, as in Slack. */
export function visibleChannel(workspace: Workspace, args: JsonObject, key = 'channel'): Channel {
  const channel = workspace.channel(requiredArg(args, key, 'channel_not_found'));
  if (!channel || (channel.isPrivate && !channel.members.includes(workspace.bot.userId))) {
    throw new SlackApiError('channel_not_found');
  }
  return channel;
}

export function chatMethods({ workspace, webUrl, rateLimiter }: ChatContext): Record<string, ApiMethod> {
  const bot = workspace.bot;
  const seed = () => `message:${workspace.nextSequence()}`;

  const botMessage = (channel: Channel, args: JsonObject): SlackMessage => {
    const message = workspace.message(channel.id, requiredArg(args, 'ts', 'message_not_found'));
    if (!message) throw new SlackApiError('message_not_found');
    return message;
  };

  return {
    'chat.postMessage': (args) => {
      const channel = visibleChannel(workspace, args);
      if (!channel.members.includes(bot.userId)) throw new SlackApiError('not_in_channel');
      const retryAfter = rateLimiter?.take(channel.id);
      if (retryAfter !== undefined) {
        throw new SlackApiError('ratelimited', { status: 429, headers: { 'Retry-After': String(retryAfter) } });
      }
      const content = requireContent(readContent(args, seed()));
      const metadata = readMetadata(args);
      const threadTs = threadOf(workspace, channel, stringArg(args, 'thread_ts'));
      const message = workspace.post(channel.id, {
        user: bot.userId,
        ...content,
        ...(metadata ? { metadata } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return { channel: channel.id, ts: message.ts, message };
    },

    'chat.update': (args) => {
      const channel = visibleChannel(workspace, args);
      const message = botMessage(channel, args);
      if (message.bot_id !== bot.botId) throw new SlackApiError('cant_update_message');
      const content = readContent(args, seed());
      if (content.text === undefined && content.blocks === undefined) throw new SlackApiError('no_text');
      const metadata = readMetadata(args);
      // Fields left out keep their value; `blocks: []` removes the blocks (Slack's documented chat.update rule).
      const patch: MessagePatch = {
        ...(content.text !== undefined ? { text: content.text } : {}),
        ...(content.blocks !== undefined ? { blocks: content.blocks } : {}),
        ...(metadata ? { metadata } : {}),
      };
      const updated = workspace.update(channel.id, message.ts, patch, bot.userId);
      return { channel: channel.id, ts: updated.ts, text: updated.text, message: updated };
    },

    'chat.delete': (args) => {
      const channel = visibleChannel(workspace, args);
      const message = botMessage(channel, args);
      if (message.bot_id !== bot.botId) throw new SlackApiError('cant_delete_message');
      workspace.delete(channel.id, message.ts);
      return { channel: channel.id, ts: message.ts };
    },

    'chat.postEphemeral': (args) => {
      const channel = visibleChannel(workspace, args);
      const user = workspace.user(requiredArg(args, 'user', 'user_not_found'));
      if (!user) throw new SlackApiError('user_not_found');
      if (!channel.members.includes(bot.userId)) throw new SlackApiError('not_in_channel');
      if (!channel.members.includes(user.id)) throw new SlackApiError('user_not_in_channel');
      const content = requireContent(readContent(args, seed()));
      const threadTs = stringArg(args, 'thread_ts');
      const ephemeral = workspace.postEphemeral({
        channel: channel.id,
        user: user.id,
        ...content,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        source: 'chat.postEphemeral',
      });
      return { message_ts: ephemeral.ts };
    },

    'chat.getPermalink': (args) => {
      const channel = visibleChannel(workspace, args);
      const message = workspace.message(channel.id, requiredArg(args, 'message_ts', 'message_not_found'));
      if (!message) throw new SlackApiError('message_not_found');
      const path = `${webUrl}/archives/${channel.id}/p${message.ts.replace('.', '')}`;
      const isReply = message.thread_ts !== undefined && message.thread_ts !== message.ts;
      return {
        channel: channel.id,
        permalink: isReply ? `${path}?thread_ts=${message.thread_ts}&cid=${channel.id}` : path,
      };
    },
  };
}

/**
 * The thread a reply goes into. Slack files a reply to a reply under the thread's parent, and posts a message whose
 * `thread_ts` matches nothing into the channel instead of failing.
 */
function threadOf(workspace: Workspace, channel: Channel, threadTs: string | undefined): string | undefined {
  if (!threadTs) return undefined;
  const parent = workspace.message(channel.id, threadTs);
  return parent ? (parent.thread_ts ?? parent.ts) : undefined;
}
