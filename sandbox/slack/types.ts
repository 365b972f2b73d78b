/** Shapes of the simulated workspace, kept as close to Slack's own JSON as practical so API answers are the state itself. */

export type JsonObject = { [key: string]: unknown };

/** A Block Kit block as the app sent it (plus generated ids); the simulator only checks the parts Slack checks. */
export type Block = JsonObject;

export interface Team {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
}

export interface Person {
  readonly id: string;
  /** Legacy username (`alice`): Slack still sends it as `user.username` / `user_name`. */
  readonly name: string;
  readonly realName: string;
  readonly displayName: string;
  readonly tz: string;
}

export interface BotIdentity {
  readonly userId: string;
  readonly botId: string;
  readonly appId: string;
  readonly name: string;
}

export interface Channel {
  readonly id: string;
  readonly name: string;
  readonly isPrivate: boolean;
  /** Unix seconds. */
  readonly created: number;
  /** Member user ids; an array so events survive JSON on their way to the web page. */
  readonly members: readonly string[];
}

export interface MessageMetadata {
  event_type: string;
  event_payload: JsonObject;
}

export interface SlackMessage {
  type: 'message';
  ts: string;
  /** Author: the bot user for app messages. */
  user: string;
  team: string;
  text: string;
  bot_id?: string;
  app_id?: string;
  blocks?: Block[];
  metadata?: MessageMetadata;
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  edited?: { user: string; ts: string };
  /** Files shared with the message (files.completeUploadExternal); `upload` marks a message that shares one. */
  files?: SlackFile[];
  upload?: boolean;
}

/**
 * Slack's file object, the fields a message carries (https://docs.slack.dev/reference/objects/file-object/).
 * `url_private` needs the bot token, as in Slack.
 */
export interface SlackFile {
  id: string;
  created: number;
  timestamp: number;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  user: string;
  size: number;
  url_private: string;
  url_private_download: string;
  permalink: string;
  /** What a screen reader says for an image (files.getUploadURLExternal's alt_txt). */
  alt_txt?: string;
  original_w?: number;
  original_h?: number;
}

/** Where an ephemeral message came from: the Web API, a response_url, or the app's immediate answer to a command. */
export type EphemeralSource = 'chat.postEphemeral' | 'response_url' | 'command_response';

export interface Ephemeral {
  channel: string;
  /** The only person who sees it. */
  user: string;
  ts: string;
  text: string;
  blocks?: Block[];
  thread_ts?: string;
  source: EphemeralSource;
}

export interface ModalView {
  id: string;
  team_id: string;
  type: 'modal';
  title: JsonObject;
  blocks: Block[];
  close: JsonObject | null;
  submit: JsonObject | null;
  private_metadata: string;
  callback_id: string;
  external_id: string;
  state: { values: StateValues };
  hash: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
  root_view_id: string;
  previous_view_id: string | null;
  app_id: string;
  app_installed_team_id: string;
  bot_id: string;
}

/** `state.values`: block_id → action_id → element state (`{type:'plain_text_input', value}` …). */
export type StateValues = Record<string, Record<string, JsonObject>>;

/** A modal on a person's screen; `errors` are what the app last answered with `response_action: "errors"` (or the client's own checks). */
export interface OpenView {
  user: string;
  view: ModalView;
  errors: Record<string, string>;
}

export interface ApiCall {
  method: string;
  /** Arguments as the app sent them, JSON-encoded fields (`blocks`, `view`, `metadata` …) decoded, token removed. */
  args: JsonObject;
  at: Date;
  status: number;
  response: JsonObject;
}

/** Every change the future web page needs to redraw, in the order it happened. */
export type WorkspaceEvent =
  | { type: 'message_posted'; channel: string; message: SlackMessage }
  | { type: 'message_updated'; channel: string; message: SlackMessage }
  | { type: 'message_deleted'; channel: string; ts: string }
  | { type: 'ephemeral_posted'; ephemeral: Ephemeral }
  | { type: 'ephemeral_updated'; ephemeral: Ephemeral }
  | { type: 'ephemeral_deleted'; ephemeral: Ephemeral }
  | { type: 'view_opened'; user: string; view: ModalView }
  | { type: 'view_updated'; user: string; view: ModalView; errors: Record<string, string> }
  | { type: 'view_closed'; user: string; viewId: string }
  | { type: 'user_added'; user: Person }
  | { type: 'channel_added'; channel: Channel }
  | { type: 'membership_changed'; channel: string; user: string; member: boolean }
  | { type: 'api_called'; call: ApiCall };
