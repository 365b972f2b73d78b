import { chatMethods } from './api-chat.ts';
import { directoryMethods } from './api-directory.ts';
import { FileStore, type StoredFile } from './api-files.ts';
import { ApiServer } from './api-server.ts';
import { viewMethods } from './api-views.ts';
import { FaultPlan, type SlackFaults } from './faults.ts';
import { ResponseUrlRegistry, TriggerRegistry } from './interaction-tokens.ts';
import { type ClickResult, type Deliver, type InteractionResult, Interactions } from './interactions.ts';
import { defaultRateLimit, type RateLimit, RateLimiter } from './rate-limit.ts';
import type { ApiCall, Channel, Ephemeral, OpenView, Person, SlackMessage, WorkspaceEvent } from './types.ts';
import type { ViewInput } from './view-state.ts';
import { Workspace } from './workspace.ts';

export type { StoredFile } from './api-files.ts';
export type { SlackFaults } from './faults.ts';
export type { AppResponse, ClickResult, Deliver, InteractionResult, SlackRequest } from './interactions.ts';
export type { RateLimit } from './rate-limit.ts';
export { signSlackRequest, slackRequestHeaders } from './signing.ts';
export type {
  ApiCall,
  Channel,
  Ephemeral,
  ModalView,
  OpenView,
  Person,
  SlackFile,
  SlackMessage,
  WorkspaceEvent,
} from './types.ts';
export type { ViewInput } from './view-state.ts';
export { Workspace } from './workspace.ts';

export interface SlackSimulatorOptions {
  botToken: string;
  signingSecret: string;
  /** How requests reach the app; without it the simulator is API-only and acting as a person throws. */
  deliver?: Deliver;
  /** The deprecated token Slack still puts in payloads. */
  verificationToken?: string;
  /** Loopback port for the Web API; 0 (default) picks a free one. */
  port?: number;
  /**
   * The world's time: message ts, trigger and response_url expiry, rate-limit refill and the signature timestamp.
   * Bolt checks that timestamp against its own Date.now(), so keep a custom clock within 5 minutes of it.
   */
  clock?: () => Date;
  /** Rate-limit chat.postMessage per channel (HTTP 429 + Retry-After); off by default. */
  rateLimit?: boolean | RateLimit;
  /** Path of the app's Request URL; default `/slack/events` (Bolt's). */
  requestPath?: string;
  /** Base of permalinks and auth.test's url; default `https://acme.slack.com`. */
  webUrl?: string;
}

export interface SlackSimulator {
  /** Give this to the WebClient as `slackApiUrl`: `http://127.0.0.1:<port>/api/` (the trailing slash matters). */
  readonly apiUrl: string;
  readonly workspace: Workspace;
  messages(channel: string): SlackMessage[];
  ephemerals(channel?: string, user?: string): Ephemeral[];
  openViews(user: string): OpenView[];
  users(): Person[];
  channels(): Channel[];
  /** Web API calls (and `response_url` posts) in the order they arrived. */
  calls(method?: string): ApiCall[];
  /** A file shared with the external upload flow, and its bytes. */
  file(id: string): StoredFile | undefined;
  /** Misbehaviour on demand: late answers, 5xx. */
  readonly faults: SlackFaults;
  onChange(listener: (event: WorkspaceEvent) => void): () => void;
  click(
    user: string,
    channel: string,
    messageTs: string,
    actionId: string,
    options?: { value?: string },
  ): Promise<ClickResult>;
  submitView(user: string, viewId: string, input?: ViewInput): Promise<InteractionResult>;
  closeView(user: string, viewId: string): Promise<InteractionResult>;
  slashCommand(user: string, channel: string, command: string, text?: string): Promise<InteractionResult>;
  /**
   * An admin regenerates the app's signing secret (Basic Information, App Credentials): requests
   * to the app are signed with the new one from now on, and the old one stops working at once.
   */
  regenerateSigningSecret(signingSecret: string): void;
  close(): Promise<void>;
}

export async function startSlackSimulator(options: SlackSimulatorOptions): Promise<SlackSimulator> {
  const clock = options.clock ?? (() => new Date());
  const workspace = new Workspace({ clock });
  const webUrl = options.webUrl ?? `https://${workspace.team.domain}.slack.com`;
  const triggers = new TriggerRegistry(workspace);
  let baseUrl = '';
  const responseUrls = new ResponseUrlRegistry(workspace, () => baseUrl);
  const rateLimit = options.rateLimit === true ? defaultRateLimit : options.rateLimit || undefined;
  const rateLimiter = rateLimit && new RateLimiter(rateLimit, () => clock().getTime());
  const faults = new FaultPlan();
  const files = new FileStore(workspace, () => baseUrl, webUrl);
  const server = await ApiServer.start(
    {
      workspace,
      faults,
      files,
      botToken: options.botToken,
      responseUrls,
      methods: {
        ...chatMethods({ workspace, webUrl, ...(rateLimiter ? { rateLimiter } : {}) }),
        ...viewMethods({ workspace, triggers }),
        ...directoryMethods({ workspace, webUrl }),
        ...files.methods(),
      },
    },
    options.port ?? 0,
  );
  baseUrl = server.baseUrl;
  const people = new Interactions({
    workspace,
    triggers,
    responseUrls,
    install: {
      team: workspace.team,
      bot: workspace.bot,
      verificationToken: options.verificationToken ?? 'sim-verification-token',
    },
    signingSecret: options.signingSecret,
    requestPath: options.requestPath ?? '/slack/events',
    ...(options.deliver ? { deliver: options.deliver } : {}),
  });

  return {
    apiUrl: `${server.baseUrl}/api/`,
    workspace,
    messages: (channel) => workspace.messages(channel),
    ephemerals: (channel, user) => workspace.ephemerals(channel, user),
    openViews: (user) => workspace.openViews(user),
    users: () => workspace.users(),
    channels: () => workspace.channels(),
    calls: (method) => server.calls(method),
    file: (id) => files.file(id),
    faults,
    onChange: (listener) => workspace.onChange(listener),
    click: (user, channel, messageTs, actionId, clickOptions) =>
      people.click(user, channel, messageTs, actionId, clickOptions),
    submitView: (user, viewId, input) => people.submitView(user, viewId, input),
    closeView: (user, viewId) => people.closeView(user, viewId),
    slashCommand: (user, channel, command, text) => people.slashCommand(user, channel, command, text),
    regenerateSigningSecret: (signingSecret) => people.regenerateSigningSecret(signingSecret),
    close: () => server.close(),
  };
}
