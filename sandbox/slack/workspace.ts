import type {
  BotIdentity,
  Channel,
  Ephemeral,
  MessageMetadata,
  ModalView,
  OpenView,
  Person,
  SlackMessage,
  Team,
  WorkspaceEvent,
} from './types.ts';

export const defaultTeam: Team = { id: 'T0GREENLT', name: 'Acme', domain: 'acme' };
export const defaultBot: BotIdentity = {
  userId: 'U0GREENBOT',
  botId: 'B0GREENBOT',
  appId: 'A0GREENLT',
  name: 'greenlight',
};

const defaultPeople: Person[] = [
  { id: 'U0ALICE', name: 'alice', realName: 'Alice Archer', displayName: 'alice', tz: 'Europe/Berlin' },
  { id: 'U0BOB', name: 'bob', realName: 'Bob Baker', displayName: 'bob', tz: 'Europe/London' },
  { id: 'U0CAROL', name: 'carol', realName: 'Carol Chen', displayName: 'carol', tz: 'America/New_York' },
  { id: 'U0DAVE', name: 'dave', realName: 'Dave Diaz', displayName: 'dave', tz: 'America/Los_Angeles' },
];

/** User groups (Slack's "subteams"): the sandbox's demo policy names Releasers and On-call (docs/policy.md). */
export interface Usergroup {
  id: string;
  name: string;
  handle: string;
  users: string[];
}

const defaultUsergroups: Usergroup[] = [
  { id: 'S0RELEASERS', name: 'Releasers', handle: 'releasers', users: ['U0ALICE', 'U0BOB'] },
  { id: 'S0ONCALL', name: 'On-call', handle: 'oncall', users: ['U0CAROL'] },
];

const defaultChannels = [
  { id: 'C0APPROVALS', name: 'approvals' },
  { id: 'C0RELEASES', name: 'releases' },
  { id: 'C0DIGEST', name: 'delivery-digest' },
];

/** The most modals Slack stacks for one person (views.push fails beyond it). */
export const maxViewStack = 3;

export interface NewUser {
  id?: string;
  name?: string;
  realName?: string;
  displayName?: string;
  tz?: string;
}

export interface NewChannel {
  id?: string;
  name: string;
  isPrivate?: boolean;
  /** Whether the app's bot user is in it (default true): a channel without the bot answers `not_in_channel`. */
  botMember?: boolean;
  /** People in it (default: everyone). */
  members?: readonly string[];
}

export interface MessageDraft {
  user: string;
  /** Posted by another app's bot (its bot id, B…): Greenlight's own bot posts as `bot.userId`. */
  botId?: string;
  text: string;
  blocks?: SlackMessage['blocks'];
  metadata?: MessageMetadata;
  thread_ts?: string;
  files?: SlackMessage['files'];
}

export type MessagePatch = Partial<Pick<SlackMessage, 'text' | 'blocks' | 'metadata'>>;

interface ChannelState {
  id: string;
  name: string;
  isPrivate: boolean;
  created: number;
  members: Set<string>;
}

/**
 * The state of one Slack workspace: people, channels, messages, ephemerals and the modals on each person's screen.
 * Stored objects are replaced, never mutated, so every emitted event carries a snapshot the web page can keep.
 */
export class Workspace {
  readonly team: Team;
  readonly bot: BotIdentity;
  readonly #clock: () => Date;
  readonly #people = new Map<string, Person>();
  readonly #usergroups = new Map<string, Usergroup>();
  readonly #channels = new Map<string, ChannelState>();
  readonly #messages = new Map<string, SlackMessage[]>();
  #ephemerals: Ephemeral[] = [];
  readonly #views = new Map<string, OpenView[]>();
  readonly #listeners = new Set<(event: WorkspaceEvent) => void>();
  #lastMicros = 0n;
  #sequence = 0;

  constructor(options: { clock: () => Date; team?: Team; bot?: BotIdentity }) {
    this.#clock = options.clock;
    this.team = options.team ?? defaultTeam;
    this.bot = options.bot ?? defaultBot;
    for (const person of defaultPeople) this.#people.set(person.id, person);
    for (const group of defaultUsergroups) this.#usergroups.set(group.id, { ...group, users: [...group.users] });
    for (const channel of defaultChannels) this.addChannel(channel);
  }

  now(): Date {
    return this.#clock();
  }

  /** A message timestamp from the clock, strictly increasing even when the clock stands still (tests freeze it). */
  nextTs(): string {
    const micros = BigInt(this.#clock().getTime()) * 1000n;
    this.#lastMicros = micros > this.#lastMicros ? micros : this.#lastMicros + 1n;
    const fraction = (this.#lastMicros % 1_000_000n).toString().padStart(6, '0');
    return `${this.#lastMicros / 1_000_000n}.${fraction}`;
  }

  /** A short, unique, deterministic counter for ids and hashes. */
  nextSequence(): number {
    this.#sequence += 1;
    return this.#sequence;
  }

  onChange(listener: (event: WorkspaceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: WorkspaceEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  // People and channels

  users(): Person[] {
    return [...this.#people.values()];
  }

  user(id: string): Person | undefined {
    return this.#people.get(id);
  }

  usergroup(id: string): Usergroup | undefined {
    const group = this.#usergroups.get(id);
    return group && { ...group, users: [...group.users] };
  }

  /** Creates a user group, or replaces its members (as usergroups.users.update does). */
  setUsergroup(group: Usergroup): void {
    this.#usergroups.set(group.id, { ...group, users: [...group.users] });
  }

  /** Adds a person (joining every channel unless told otherwise); with no input, `U0USER001` `user1`, then 2, 3 … */
  addUser(input: NewUser = {}, options: { channels?: readonly string[] } = {}): Person {
    const n = this.#people.size - defaultPeople.length + 1;
    const name = input.name ?? `user${n}`;
    const person: Person = {
      id: input.id ?? `U0USER${String(n).padStart(3, '0')}`,
      name,
      realName: input.realName ?? name.charAt(0).toUpperCase() + name.slice(1),
      displayName: input.displayName ?? name,
      tz: input.tz ?? 'Europe/Berlin',
    };
    if (this.#people.has(person.id)) throw new Error(`User ${person.id} already exists`);
    this.#people.set(person.id, person);
    this.emit({ type: 'user_added', user: person });
    for (const channel of options.channels ?? [...this.#channels.keys()]) this.join(channel, person.id);
    return person;
  }

  channels(): Channel[] {
    return [...this.#channels.values()].map(snapshotChannel);
  }

  /** By id (`C0APPROVALS`) or name (`approvals`, `#approvals`), as the Web API accepts both. */
  channel(idOrName: string): Channel | undefined {
    const state = this.#channelState(idOrName);
    return state && snapshotChannel(state);
  }

  addChannel(input: NewChannel): Channel {
    const id = input.id ?? `C0CHAN${String(this.nextSequence()).padStart(4, '0')}`;
    if (this.#channels.has(id)) throw new Error(`Channel ${id} already exists`);
    const members = new Set(input.members ?? this.#people.keys());
    if (input.botMember ?? true) members.add(this.bot.userId);
    const state: ChannelState = {
      id,
      name: input.name,
      isPrivate: input.isPrivate ?? false,
      created: Math.floor(this.#clock().getTime() / 1000),
      members,
    };
    this.#channels.set(id, state);
    this.#messages.set(id, []);
    const channel = snapshotChannel(state);
    this.emit({ type: 'channel_added', channel });
    return channel;
  }

  isMember(channel: string, user: string): boolean {
    return this.#channelState(channel)?.members.has(user) ?? false;
  }

  join(channel: string, user: string): void {
    this.#setMembership(channel, user, true);
  }

  leave(channel: string, user: string): void {
    this.#setMembership(channel, user, false);
  }

  // Messages

  /** Every message of a channel, replies included, oldest first. */
  messages(channel: string): SlackMessage[] {
    const state = this.#channelState(channel);
    return state ? [...(this.#messages.get(state.id) ?? [])] : [];
  }

  message(channel: string, ts: string): SlackMessage | undefined {
    return this.messages(channel).find((message) => message.ts === ts);
  }

  post(channel: string, draft: MessageDraft): SlackMessage {
    const list = this.#messageList(channel);
    const fromBot = draft.user === this.bot.userId;
    const message: SlackMessage = {
      type: 'message',
      ts: this.nextTs(),
      user: draft.user,
      team: this.team.id,
      text: draft.text,
      ...(fromBot ? { bot_id: this.bot.botId, app_id: this.bot.appId } : draft.botId ? { bot_id: draft.botId } : {}),
      ...(draft.blocks ? { blocks: draft.blocks } : {}),
      ...(draft.metadata ? { metadata: draft.metadata } : {}),
      ...(draft.thread_ts ? { thread_ts: draft.thread_ts } : {}),
      ...(draft.files ? { files: draft.files, upload: true } : {}),
    };
    list.push(message);
    this.emit({ type: 'message_posted', channel: this.#channelId(channel), message });
    if (draft.thread_ts) this.#countReply(channel, draft.thread_ts, message);
    return message;
  }

  update(channel: string, ts: string, patch: MessagePatch, editor: string): SlackMessage {
    const updated = this.#replace(channel, ts, (message) => {
      const next: SlackMessage = { ...message, ...patch, edited: { user: editor, ts: this.nextTs() } };
      // An empty `blocks` removes them, as in chat.update; the stored message then has none at all.
      if (!next.blocks?.length) delete next.blocks;
      if (!next.metadata) delete next.metadata;
      return next;
    });
    this.emit({ type: 'message_updated', channel: this.#channelId(channel), message: updated });
    return updated;
  }

  delete(channel: string, ts: string): void {
    const list = this.#messageList(channel);
    const index = list.findIndex((message) => message.ts === ts);
    if (index < 0) throw new Error(`No message ${ts} in ${channel}`);
    list.splice(index, 1);
    this.emit({ type: 'message_deleted', channel: this.#channelId(channel), ts });
  }

  // Ephemerals

  /** Ephemeral messages, oldest first, optionally only those in a channel and/or shown to one person. */
  ephemerals(channel?: string, user?: string): Ephemeral[] {
    const channelId = channel === undefined ? undefined : this.#channelId(channel);
    return this.#ephemerals.filter(
      (ephemeral) =>
        (channelId === undefined || ephemeral.channel === channelId) && (user === undefined || ephemeral.user === user),
    );
  }

  postEphemeral(draft: Omit<Ephemeral, 'ts'>): Ephemeral {
    const ephemeral: Ephemeral = { ...draft, channel: this.#channelId(draft.channel), ts: this.nextTs() };
    this.#ephemerals.push(ephemeral);
    this.emit({ type: 'ephemeral_posted', ephemeral });
    return ephemeral;
  }

  replaceEphemeral(ts: string, patch: Pick<Ephemeral, 'text' | 'blocks'>): Ephemeral {
    const current = this.#ephemerals.find((ephemeral) => ephemeral.ts === ts);
    if (!current) throw new Error(`No ephemeral ${ts}`);
    const { blocks: _replaced, ...rest } = current;
    const ephemeral: Ephemeral = { ...rest, text: patch.text, ...(patch.blocks ? { blocks: patch.blocks } : {}) };
    this.#ephemerals = this.#ephemerals.map((existing) => (existing === current ? ephemeral : existing));
    this.emit({ type: 'ephemeral_updated', ephemeral });
    return ephemeral;
  }

  deleteEphemeral(ts: string): void {
    const current = this.#ephemerals.find((ephemeral) => ephemeral.ts === ts);
    if (!current) return;
    this.#ephemerals = this.#ephemerals.filter((existing) => existing !== current);
    this.emit({ type: 'ephemeral_deleted', ephemeral: current });
  }

  // Modals

  /** The person's modal stack, bottom first; the last one is on screen. */
  openViews(user: string): OpenView[] {
    return [...(this.#views.get(user) ?? [])];
  }

  findView(match: { id?: string; externalId?: string }): OpenView | undefined {
    for (const stack of this.#views.values()) {
      const found = stack.find(
        (open) =>
          (match.id && open.view.id === match.id) || (match.externalId && open.view.external_id === match.externalId),
      );
      if (found) return found;
    }
    return undefined;
  }

  /** Opens a new root modal; whatever the person had open is replaced, as a fresh trigger starts a new stack. */
  openView(user: string, view: ModalView): void {
    this.clearViews(user);
    this.#views.set(user, [{ user, view, errors: {} }]);
    this.emit({ type: 'view_opened', user, view });
  }

  pushView(user: string, view: ModalView): void {
    const stack = this.#views.get(user) ?? [];
    stack.push({ user, view, errors: {} });
    this.#views.set(user, stack);
    this.emit({ type: 'view_opened', user, view });
  }

  /** Replaces a view's content in place (same id, position in the stack); new content starts without errors. */
  updateView(view: ModalView, errors: Record<string, string> = {}): void {
    for (const [user, stack] of this.#views) {
      const index = stack.findIndex((open) => open.view.id === view.id);
      if (index < 0) continue;
      stack[index] = { user, view, errors };
      this.emit({ type: 'view_updated', user, view, errors });
      return;
    }
    throw new Error(`No open view ${view.id}`);
  }

  /** Closes the top modal of the person's stack (Slack's "Back", or a submission acknowledged with no body). */
  popView(user: string): void {
    const stack = this.#views.get(user) ?? [];
    const top = stack.pop();
    if (stack.length === 0) this.#views.delete(user);
    if (top) this.emit({ type: 'view_closed', user, viewId: top.view.id });
  }

  clearViews(user: string): void {
    while (this.#views.has(user)) this.popView(user);
  }

  // Internals

  #channelState(idOrName: string): ChannelState | undefined {
    const byId = this.#channels.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^#/, '');
    return [...this.#channels.values()].find((channel) => channel.name === name);
  }

  #channelId(idOrName: string): string {
    return this.#channelState(idOrName)?.id ?? idOrName;
  }

  #messageList(channel: string): SlackMessage[] {
    const list = this.#messages.get(this.#channelId(channel));
    if (!list) throw new Error(`No channel ${channel}`);
    return list;
  }

  #replace(channel: string, ts: string, change: (message: SlackMessage) => SlackMessage): SlackMessage {
    const list = this.#messageList(channel);
    const index = list.findIndex((message) => message.ts === ts);
    const current = list[index];
    if (!current) throw new Error(`No message ${ts} in ${channel}`);
    const next = change(current);
    list[index] = next;
    return next;
  }

  #countReply(channel: string, parentTs: string, reply: SlackMessage): void {
    const parent = this.#replace(channel, parentTs, (message) => ({
      ...message,
      thread_ts: message.ts,
      reply_count: (message.reply_count ?? 0) + 1,
      reply_users: [...new Set([...(message.reply_users ?? []), reply.user])],
      latest_reply: reply.ts,
    }));
    this.emit({ type: 'message_updated', channel: this.#channelId(channel), message: parent });
  }

  #setMembership(channel: string, user: string, member: boolean): void {
    const state = this.#channelState(channel);
    if (!state) throw new Error(`No channel ${channel}`);
    if (state.members.has(user) === member) return;
    if (member) state.members.add(user);
    else state.members.delete(user);
    this.emit({ type: 'membership_changed', channel: state.id, user, member });
  }
}

function snapshotChannel(state: ChannelState): Channel {
  return {
    id: state.id,
    name: state.name,
    isPrivate: state.isPrivate,
    created: state.created,
    members: [...state.members],
  };
}
