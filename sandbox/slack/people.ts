import type { FoundElement } from './block-kit.ts';
import type { BotIdentity, Channel, JsonObject, ModalView, Person, SlackMessage, Team } from './types.ts';

/**
 * What Slack sends to the app when a person acts, field for field as in Slack's payload references
 * (block_actions, view_submission, view_closed, slash commands). Pure: ids and URLs are issued by the caller.
 */

export interface AppInstall {
  team: Team;
  bot: BotIdentity;
  /** The deprecated verification token Slack still puts in every payload. */
  verificationToken: string;
}

interface PayloadUser {
  id: string;
  username: string;
  name: string;
  team_id: string;
}

export interface BlockActionsPayload {
  type: 'block_actions';
  user: PayloadUser;
  api_app_id: string;
  token: string;
  container: { type: 'message'; message_ts: string; channel_id: string; is_ephemeral: boolean };
  trigger_id: string;
  team: { id: string; domain: string };
  enterprise: null;
  is_enterprise_install: false;
  channel: { id: string; name: string };
  /** Absent when the button was on an ephemeral message: Slack does not send those back. */
  message?: JsonObject;
  state: { values: Record<string, never> };
  response_url: string;
  actions: JsonObject[];
}

export interface ViewPayload {
  type: 'view_submission' | 'view_closed';
  team: { id: string; domain: string };
  user: PayloadUser;
  api_app_id: string;
  token: string;
  view: ModalView;
  enterprise: null;
  is_enterprise_install: false;
  trigger_id?: string;
  response_urls?: [];
  is_cleared?: boolean;
}

export interface ButtonClick {
  person: Person;
  channel: Channel;
  messageTs: string;
  /** The message as the channel shows it, or undefined for an ephemeral one. */
  message: SlackMessage | undefined;
  button: FoundElement;
  value: string | undefined;
  triggerId: string;
  responseUrl: string;
  actionTs: string;
}

export function blockActionsPayload(install: AppInstall, click: ButtonClick): BlockActionsPayload {
  const { element } = click.button;
  return {
    type: 'block_actions',
    user: payloadUser(click.person, install.team),
    api_app_id: install.bot.appId,
    token: install.verificationToken,
    container: {
      type: 'message',
      message_ts: click.messageTs,
      channel_id: click.channel.id,
      is_ephemeral: click.message === undefined,
    },
    trigger_id: click.triggerId,
    team: { id: install.team.id, domain: install.team.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: click.channel.id, name: click.channel.name },
    ...(click.message ? { message: payloadMessage(click.message) } : {}),
    state: { values: {} },
    response_url: click.responseUrl,
    actions: [
      {
        action_id: element.action_id,
        block_id: click.button.blockId,
        text: element.text,
        ...(click.value === undefined ? {} : { value: click.value }),
        ...(element.style === undefined ? {} : { style: element.style }),
        type: 'button',
        action_ts: click.actionTs,
      },
    ],
  };
}

export function viewSubmissionPayload(
  install: AppInstall,
  person: Person,
  view: ModalView,
  triggerId: string,
): ViewPayload {
  return {
    type: 'view_submission',
    team: { id: install.team.id, domain: install.team.domain },
    user: payloadUser(person, install.team),
    api_app_id: install.bot.appId,
    token: install.verificationToken,
    trigger_id: triggerId,
    view,
    // Filled only for input blocks with `response_url_enabled`, which only workflow-ish modals use.
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

export function viewClosedPayload(
  install: AppInstall,
  person: Person,
  view: ModalView,
  isCleared: boolean,
): ViewPayload {
  return {
    type: 'view_closed',
    team: { id: install.team.id, domain: install.team.domain },
    user: payloadUser(person, install.team),
    api_app_id: install.bot.appId,
    token: install.verificationToken,
    view,
    is_cleared: isCleared,
    enterprise: null,
    is_enterprise_install: false,
  };
}

export interface CommandInvocation {
  person: Person;
  channel: Channel;
  command: string;
  text: string;
  triggerId: string;
  responseUrl: string;
}

/** A slash command is a plain form, not a `payload` JSON field; the field order is Slack's. */
export function slashCommandForm(install: AppInstall, invocation: CommandInvocation): Record<string, string> {
  return {
    token: install.verificationToken,
    team_id: install.team.id,
    team_domain: install.team.domain,
    channel_id: invocation.channel.id,
    channel_name: invocation.channel.name,
    user_id: invocation.person.id,
    user_name: invocation.person.name,
    command: invocation.command,
    text: invocation.text,
    api_app_id: install.bot.appId,
    is_enterprise_install: 'false',
    response_url: invocation.responseUrl,
    trigger_id: invocation.triggerId,
  };
}

/** Interactions arrive as a form with one field, `payload`, holding the JSON. */
export function interactionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function payloadUser(person: Person, team: Team): PayloadUser {
  return { id: person.id, username: person.name, name: person.name, team_id: team.id };
}

/**
 * The message as Slack echoes it in block_actions. Metadata is left out: Slack does not promise it in interaction
 * payloads, so an app must not depend on it there (read it with conversations.history instead).
 */
function payloadMessage(message: SlackMessage): JsonObject {
  const { metadata: _notSent, ...rest } = message;
  return rest;
}
