import { type ApiMethod, booleanArg, requiredArg, SlackApiError, stringArg } from './api-args.ts';
import { visibleChannel } from './api-chat.ts';
import type { Channel, JsonObject, Person, SlackMessage } from './types.ts';
import type { Workspace } from './workspace.ts';

export function directoryMethods({
  workspace,
  webUrl,
}: {
  workspace: Workspace;
  webUrl: string;
}): Record<string, ApiMethod> {
  const { bot, team } = workspace;

  const readableChannel = (args: JsonObject): Channel => {
    const channel = visibleChannel(workspace, args);
    if (!channel.members.includes(bot.userId)) throw new SlackApiError('not_in_channel');
    return channel;
  };

  const shown = (args: JsonObject) => {
    const withMetadata = booleanArg(args, 'include_all_metadata');
    return (message: SlackMessage): SlackMessage => {
      if (withMetadata || !message.metadata) return message;
      const { metadata: _hidden, ...rest } = message;
      return rest;
    };
  };

  return {
    'auth.test': () => ({
      url: `${webUrl}/`,
      team: team.name,
      user: bot.name,
      team_id: team.id,
      user_id: bot.userId,
      bot_id: bot.botId,
      is_enterprise_install: false,
    }),

    'users.info': (args) => {
      const id = requiredArg(args, 'user', 'user_not_found');
      if (id === bot.userId) return { user: botUser(workspace) };
      const person = workspace.user(id);
      if (!person) throw new SlackApiError('user_not_found');
      return { user: personUser(person, team.id) };
    },

    // https://api.slack.com/methods/usergroups.users.list: `usergroup` required; answers
    // {"ok":true,"users":["U060R4BJ4","W123A4BC5"]}; an id it does not know is `no_such_subteam`.
    'usergroups.users.list': (args) => {
      const id = requiredArg(args, 'usergroup', 'no_such_subteam');
      const group = workspace.usergroup(id);
      if (!group) throw new SlackApiError('no_such_subteam');
      return { users: group.users };
    },

    'conversations.info': (args) => {
      const channel = visibleChannel(workspace, args);
      return { channel: conversation(channel, bot.userId) };
    },

    'conversations.history': (args) => {
      const channel = readableChannel(args);
      const oldest = stringArg(args, 'oldest');
      const latest = stringArg(args, 'latest');
      const inclusive = booleanArg(args, 'inclusive');
      const inRange = (ts: string) =>
        (oldest === undefined || (inclusive ? Number(ts) >= Number(oldest) : Number(ts) > Number(oldest))) &&
        (latest === undefined || (inclusive ? Number(ts) <= Number(latest) : Number(ts) < Number(latest)));
      const topLevel = workspace
        .messages(channel.id)
        .filter(
          (message) => (message.thread_ts === undefined || message.thread_ts === message.ts) && inRange(message.ts),
        )
        .reverse();
      return page(topLevel.map(shown(args)), args);
    },

    'conversations.replies': (args) => {
      const channel = readableChannel(args);
      const ts = requiredArg(args, 'ts', 'thread_not_found');
      const parent = workspace.message(channel.id, ts);
      if (!parent) throw new SlackApiError('thread_not_found');
      const threadTs = parent.thread_ts ?? parent.ts;
      const thread = workspace
        .messages(channel.id)
        .filter((message) => message.ts === threadTs || message.thread_ts === threadTs);
      return page(thread.map(shown(args)), args);
    },
  };
}

/** Cursor pagination: the cursor is the offset, base64-encoded, as opaque to the app as Slack's. */
function page(messages: SlackMessage[], args: JsonObject): JsonObject {
  const limit = Math.min(Math.max(Number(stringArg(args, 'limit') ?? 100) || 100, 1), 999);
  const cursor = stringArg(args, 'cursor');
  const offset = cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8').replace('offset:', '')) || 0 : 0;
  const slice = messages.slice(offset, offset + limit);
  const hasMore = offset + limit < messages.length;
  return {
    messages: slice,
    has_more: hasMore,
    response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
  };
}

function personUser(person: Person, teamId: string): JsonObject {
  return {
    id: person.id,
    team_id: teamId,
    name: person.name,
    deleted: false,
    real_name: person.realName,
    tz: person.tz,
    is_admin: false,
    is_owner: false,
    is_bot: false,
    is_app_user: false,
    profile: {
      real_name: person.realName,
      real_name_normalized: person.realName,
      display_name: person.displayName,
      display_name_normalized: person.displayName,
      team: teamId,
    },
  };
}

function botUser(workspace: Workspace): JsonObject {
  const { bot, team } = workspace;
  return {
    id: bot.userId,
    team_id: team.id,
    name: bot.name,
    deleted: false,
    real_name: bot.name,
    is_bot: true,
    is_app_user: false,
    profile: { real_name: bot.name, display_name: '', bot_id: bot.botId, api_app_id: bot.appId, team: team.id },
  };
}

function conversation(channel: Channel, botUserId: string): JsonObject {
  return {
    id: channel.id,
    name: channel.name,
    name_normalized: channel.name,
    is_channel: !channel.isPrivate,
    is_group: false,
    is_im: false,
    is_mpim: false,
    is_private: channel.isPrivate,
    is_archived: false,
    is_general: false,
    is_member: channel.members.includes(botUserId),
    created: channel.created,
    num_members: channel.members.length,
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
  };
}
