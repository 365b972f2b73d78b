import { createHash } from 'node:crypto';
import type { Workspace } from './workspace.ts';

/** Slack lets an app exchange a trigger_id for a modal once, within 3 seconds of the interaction. */
export const triggerLifetimeMs = 3_000;
/** A response_url answers up to 5 times within 30 minutes. */
export const responseUrlLifetimeMs = 30 * 60_000;
export const responseUrlMaxUses = 5;

export type Outcome<T, E extends string> = { ok: true; value: T } | { ok: false; error: E };

interface Trigger {
  user: string;
  issuedAt: number;
  exchanged: boolean;
}

export class TriggerRegistry {
  readonly #workspace: Workspace;
  readonly #triggers = new Map<string, Trigger>();

  constructor(workspace: Workspace) {
    this.#workspace = workspace;
  }

  issue(user: string): string {
    const sequence = this.#workspace.nextSequence();
    const seconds = Math.floor(this.#workspace.now().getTime() / 1000);
    const id = `${seconds}${String(sequence).padStart(4, '0')}.${teamNumber(this.#workspace.team.id)}.${digest(`trigger:${sequence}`)}`;
    this.#triggers.set(id, { user, issuedAt: this.#workspace.now().getTime(), exchanged: false });
    return id;
  }

  /** Spends the trigger for a modal; the error codes are the ones views.open answers with. */
  exchange(id: string): Outcome<string, 'invalid_trigger_id' | 'expired_trigger_id' | 'exchanged_trigger_id'> {
    const trigger = this.#triggers.get(id);
    if (!trigger) return { ok: false, error: 'invalid_trigger_id' };
    if (trigger.exchanged) return { ok: false, error: 'exchanged_trigger_id' };
    if (this.#workspace.now().getTime() - trigger.issuedAt > triggerLifetimeMs) {
      return { ok: false, error: 'expired_trigger_id' };
    }
    trigger.exchanged = true;
    return { ok: true, value: trigger.user };
  }
}

/** What a response_url answers into: the message a button was on, or the channel a command was typed in. */
export type ResponseTarget =
  | { kind: 'message'; channel: string; user: string; messageTs: string; ephemeral: boolean }
  | { kind: 'command'; channel: string; user: string };

interface ResponseUrl {
  target: ResponseTarget;
  issuedAt: number;
  uses: number;
}

export class ResponseUrlRegistry {
  readonly #workspace: Workspace;
  readonly #baseUrl: () => string;
  readonly #urls = new Map<string, ResponseUrl>();

  /** `baseUrl` is read late: the server's port is known only once it listens. */
  constructor(workspace: Workspace, baseUrl: () => string) {
    this.#workspace = workspace;
    this.#baseUrl = baseUrl;
  }

  issue(target: ResponseTarget): string {
    const sequence = this.#workspace.nextSequence();
    const id = `${this.#workspace.team.id}/${sequence}/${digest(`response:${sequence}`).slice(0, 24)}`;
    this.#urls.set(id, { target, issuedAt: this.#workspace.now().getTime(), uses: 0 });
    return `${this.#baseUrl()}/actions/${id}`;
  }

  /** Counts one use of the URL whose path (after `/actions/`) is `id`. */
  use(id: string): Outcome<ResponseTarget, 'invalid_url' | 'expired_url' | 'used_url'> {
    const url = this.#urls.get(id);
    if (!url) return { ok: false, error: 'invalid_url' };
    if (this.#workspace.now().getTime() - url.issuedAt > responseUrlLifetimeMs)
      return { ok: false, error: 'expired_url' };
    if (url.uses >= responseUrlMaxUses) return { ok: false, error: 'used_url' };
    url.uses += 1;
    return { ok: true, value: url.target };
  }
}

function digest(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

function teamNumber(teamId: string): number {
  return [...teamId].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) % 1_000_000_000, 7);
}
