import { performance } from 'node:perf_hooks';
import { SlackApiError } from './api-args.ts';
import { findButton, inputFields, isObject } from './block-kit.ts';
import type { ResponseUrlRegistry, TriggerRegistry } from './interaction-tokens.ts';
import { readContent, requireContent } from './message-content.ts';
import { checkView, modalView } from './modal.ts';
import {
  type AppInstall,
  blockActionsPayload,
  interactionBody,
  slashCommandForm,
  viewClosedPayload,
  viewSubmissionPayload,
} from './people.ts';
import { applyResponse } from './responses.ts';
import { slackRequestHeaders } from './signing.ts';
import type {
  Channel,
  Ephemeral,
  JsonObject,
  ModalView,
  OpenView,
  Person,
  SlackMessage,
  WorkspaceEvent,
} from './types.ts';
import { type ViewInput, viewState } from './view-state.ts';
import { maxViewStack, type Workspace } from './workspace.ts';

/** One signed HTTP request from Slack to the app. Header names are lower-case. */
export interface SlackRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface AppResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** Hands a request to the app (a Lambda Function URL event, an HTTP POST …) and returns its answer. */
export type Deliver = (request: SlackRequest) => Promise<AppResponse>;

export interface InteractionResult {
  /** False when Slack's client stopped the person before anything reached the app (e.g. a required field). */
  sent: boolean;
  request?: SlackRequest;
  /** The app's HTTP answer (0 when nothing was sent). */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Wall time the app took to answer; Slack gives up after 3000 ms. */
  elapsedMs: number;
  /** What Slack would show the person instead of the app's answer, when the app answered wrongly. */
  displayError?: string;
  /** Every workspace change from the moment the person acted until the answer was applied (others' included). */
  events: WorkspaceEvent[];
  /** Ephemeral messages this person got meanwhile, posted or replaced. */
  ephemerals: Ephemeral[];
  /** The person's modal stack afterwards, bottom first. */
  views: OpenView[];
}

export interface ClickResult extends InteractionResult {
  /** The clicked message as it is now (undefined if it was ephemeral or got deleted). */
  message: SlackMessage | undefined;
}

export interface InteractionsOptions {
  workspace: Workspace;
  triggers: TriggerRegistry;
  responseUrls: ResponseUrlRegistry;
  install: AppInstall;
  signingSecret: string;
  /** Path of the app's Request URL (interactivity and slash commands). */
  requestPath: string;
  deliver?: Deliver;
}

/** A person using Slack: each action becomes the request Slack would send, signed, and the app's answer is applied. */
export class Interactions {
  #options: InteractionsOptions;

  constructor(options: InteractionsOptions) {
    this.#options = options;
  }

  /** The app's signing secret from now on, as after "Regenerate" under Basic Information, App Credentials. */
  regenerateSigningSecret(signingSecret: string): void {
    this.#options = { ...this.#options, signingSecret };
  }

  /** Clicks a button (found by action_id) on a message or on an ephemeral message the person sees. */
  async click(
    userId: string,
    channelId: string,
    messageTs: string,
    actionId: string,
    options: { value?: string } = {},
  ): Promise<ClickResult> {
    const { workspace, triggers, responseUrls, install } = this.#options;
    const person = this.#person(userId);
    const channel = this.#channel(channelId, person);
    const message = workspace.message(channel.id, messageTs);
    const ephemeral = message ? undefined : workspace.ephemerals(channel.id, person.id).find((e) => e.ts === messageTs);
    const blocks = message?.blocks ?? ephemeral?.blocks;
    if (!blocks) throw new Error(`${person.id} sees no message ${messageTs} with blocks in ${channel.id}`);
    const button = findButton(blocks, actionId);
    if (!button) throw new Error(`Message ${messageTs} has no button ${actionId}`);
    const value = options.value ?? (typeof button.element.value === 'string' ? button.element.value : undefined);
    const payload = blockActionsPayload(install, {
      person,
      channel,
      messageTs,
      message,
      button,
      value,
      triggerId: triggers.issue(person.id),
      responseUrl: responseUrls.issue({
        kind: 'message',
        channel: channel.id,
        user: person.id,
        messageTs,
        ephemeral: !message,
      }),
      actionTs: workspace.nextTs(),
    });
    // Slack ignores the body of a block_actions answer; only a failure shows (a warning next to the button).
    const result = await this.#send(person, interactionBody(payload), (response) => failed(response));
    return { ...result, message: workspace.message(channel.id, messageTs) };
  }

  /**
   * Submits the modal on top of the person's stack with what they entered (block_id or action_id → value; an
   * option's value for selects, a list for multi-selects and checkboxes), then applies the app's `response_action`.
   */
  async submitView(userId: string, viewId: string, input: ViewInput = {}): Promise<InteractionResult> {
    const { workspace, triggers, install } = this.#options;
    const person = this.#person(userId);
    const top = this.#topView(person, viewId);
    const state = viewState(top.view.blocks, input);
    const submitted: ModalView = { ...top.view, state: { values: state.values } };
    if (Object.keys(state.problems).length > 0) {
      return this.#notSent(person, () => workspace.updateView(submitted, state.problems));
    }
    const payload = viewSubmissionPayload(install, person, submitted, triggers.issue(person.id));
    return this.#send(person, interactionBody(payload), (response) =>
      this.#applyViewAnswer(person, submitted, response),
    );
  }

  /** Closes the top modal with its Close button; the app hears of it only if the view asked (`notify_on_close`). */
  async closeView(userId: string, viewId: string): Promise<InteractionResult> {
    const { workspace, install } = this.#options;
    const person = this.#person(userId);
    const top = this.#topView(person, viewId);
    const isCleared = workspace.openViews(person.id).length === 1;
    if (!top.view.notify_on_close) return this.#notSent(person, () => workspace.popView(person.id));
    const payload = viewClosedPayload(install, person, top.view, isCleared);
    workspace.popView(person.id);
    return this.#send(person, interactionBody(payload), (response) => failed(response));
  }

  /** Types `/command text` in a channel; an immediate answer from the app is shown as Slack shows it. */
  async slashCommand(userId: string, channelId: string, command: string, text = ''): Promise<InteractionResult> {
    const { workspace, triggers, responseUrls, install } = this.#options;
    if (!command.startsWith('/')) throw new Error(`A slash command starts with "/": ${command}`);
    const person = this.#person(userId);
    const channel = this.#channel(channelId, person);
    const form = slashCommandForm(install, {
      person,
      channel,
      command,
      text,
      triggerId: triggers.issue(person.id),
      responseUrl: responseUrls.issue({ kind: 'command', channel: channel.id, user: person.id }),
    });
    return this.#send(person, new URLSearchParams(form).toString(), (response) => {
      const failure = failed(response);
      if (failure || response.body.trim() === '') return failure;
      const answer = parseJson(response.body) ?? { text: response.body };
      if (answer.text === undefined && answer.blocks === undefined) return undefined;
      // Checked before anything shows, so a refused answer leaves no half-posted command behind.
      const refused = contentFailure(() => requireContent(readContent(answer, 'check')));
      if (refused) return refused;
      if (answer.response_type === 'in_channel') {
        // The invocation becomes visible to the channel together with a public answer.
        workspace.post(channel.id, { user: person.id, text: `${command} ${text}`.trim() });
      }
      applyResponse(workspace, { kind: 'command', channel: channel.id, user: person.id }, answer, 'command_response');
      return undefined;
    });
  }

  #applyViewAnswer(person: Person, submitted: ModalView, response: AppResponse): string | undefined {
    const { workspace } = this.#options;
    const failure = failed(response);
    if (failure) return failure;
    const answer = response.body.trim() === '' ? {} : parseJson(response.body);
    if (!answer) return 'The app answered with something other than JSON.';
    // The listener may have changed the modal meanwhile (views.update) or closed it: answer for the view as it is now.
    const stack = workspace.openViews(person.id);
    const current = stack.find((open) => open.view.id === submitted.id)?.view;
    if (!current) return undefined;
    switch (answer.response_action) {
      case undefined:
        if (stack.at(-1)?.view.id === current.id) workspace.popView(person.id);
        return undefined;
      case 'clear':
        workspace.clearViews(person.id);
        return undefined;
      case 'errors':
        return this.#showErrors({ ...current, state: submitted.state }, answer.errors);
      case 'update':
      case 'push': {
        const checked = checkView(answer.view);
        if (!checked.ok) return `The app answered with an invalid view: ${checked.problems.join('; ')}`;
        if (answer.response_action === 'update') {
          const placement = { id: current.id, rootId: current.root_view_id, previousId: current.previous_view_id };
          workspace.updateView(modalView(workspace, checked.view, placement));
          return undefined;
        }
        if (stack.length >= maxViewStack) return `The app tried to push a view beyond ${maxViewStack}.`;
        const placement = { rootId: current.root_view_id, previousId: current.id };
        workspace.pushView(person.id, modalView(workspace, checked.view, placement));
        return undefined;
      }
      default:
        return `The app answered with an unknown response_action: ${String(answer.response_action)}`;
    }
  }

  /** Slack refuses the whole answer when an error names a block that is not an input of the view. */
  #showErrors(view: ModalView, errors: unknown): string | undefined {
    const inputs = new Set(inputFields(view.blocks).map((field) => field.blockId));
    if (!isObject(errors) || Object.keys(errors).length === 0) return 'The app answered "errors" without errors.';
    const unknown = Object.keys(errors).filter((blockId) => !inputs.has(blockId));
    if (unknown.length > 0) return `The app answered errors for blocks that are not inputs: ${unknown.join(', ')}`;
    const messages = Object.fromEntries(Object.entries(errors).map(([blockId, message]) => [blockId, String(message)]));
    // The view keeps what the person typed, so a later look (or the web page) shows it next to the errors.
    this.#options.workspace.updateView(view, messages);
    return undefined;
  }

  async #send(
    person: Person,
    body: string,
    apply: (response: AppResponse) => string | undefined,
  ): Promise<InteractionResult> {
    const { workspace, deliver, signingSecret, requestPath } = this.#options;
    if (!deliver) throw new Error('The Slack simulator has no `deliver` option: it cannot reach the app.');
    const events: WorkspaceEvent[] = [];
    const stopListening = workspace.onChange((event) => events.push(event));
    try {
      const timestamp = Math.floor(workspace.now().getTime() / 1000);
      const request: SlackRequest = {
        path: requestPath,
        headers: slackRequestHeaders(signingSecret, timestamp, body),
        body,
      };
      const started = performance.now();
      const response = await deliver(request);
      const elapsedMs = performance.now() - started;
      const displayError = apply(response);
      return {
        sent: true,
        request,
        status: response.status,
        headers: response.headers ?? {},
        body: response.body,
        elapsedMs,
        ...(displayError ? { displayError } : {}),
        events,
        ephemerals: ephemeralsFor(person, events),
        views: workspace.openViews(person.id),
      };
    } finally {
      stopListening();
    }
  }

  #notSent(person: Person, change: () => void): InteractionResult {
    const { workspace } = this.#options;
    const events: WorkspaceEvent[] = [];
    const stopListening = workspace.onChange((event) => events.push(event));
    try {
      change();
    } finally {
      stopListening();
    }
    const views = workspace.openViews(person.id);
    return { sent: false, status: 0, headers: {}, body: '', elapsedMs: 0, events, ephemerals: [], views };
  }

  #person(userId: string): Person {
    const person = this.#options.workspace.user(userId);
    if (!person) throw new Error(`No person ${userId} in the workspace`);
    return person;
  }

  #channel(channelId: string, person: Person): Channel {
    const channel = this.#options.workspace.channel(channelId);
    if (!channel) throw new Error(`No channel ${channelId} in the workspace`);
    if (channel.isPrivate && !channel.members.includes(person.id))
      throw new Error(`${person.id} cannot see ${channel.id}`);
    return channel;
  }

  #topView(person: Person, viewId: string): OpenView {
    const top = this.#options.workspace.openViews(person.id).at(-1);
    if (top?.view.id !== viewId) throw new Error(`View ${viewId} is not on top of ${person.id}'s screen`);
    return top;
  }
}

function failed(response: AppResponse): string | undefined {
  return response.status === 200 ? undefined : `The app answered HTTP ${response.status}.`;
}

function contentFailure(apply: () => void): string | undefined {
  try {
    apply();
    return undefined;
  } catch (error) {
    if (error instanceof SlackApiError) return `Slack refused the app's answer: ${error.code}`;
    throw error;
  }
}

function parseJson(body: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function ephemeralsFor(person: Person, events: readonly WorkspaceEvent[]): Ephemeral[] {
  return events.flatMap((event) =>
    (event.type === 'ephemeral_posted' || event.type === 'ephemeral_updated') && event.ephemeral.user === person.id
      ? [event.ephemeral]
      : [],
  );
}
