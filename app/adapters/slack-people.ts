import type { WebClient } from '@slack/web-api';
import type { Log } from '../core/ports.ts';

/** Where Slack's directory places a person: their workspace and, in an Enterprise Grid org, the org. */
export interface Home {
  team?: string;
  enterprise?: string;
}

interface Person {
  name?: string;
  guest: boolean;
  home: Home;
}

interface Known {
  person: Person;
  /** When Slack said so (`now()`), for the age limits below. */
  at: number;
}

/**
 * How old an answer about who may decide (guest, organisation) may be. An admin who demotes a
 * member to guest expects it to take effect, not at the next cold start; five minutes still spares
 * most clicks a users.info call.
 */
export const ACCESS_MAX_AGE_MS = 5 * 60_000;
/** How old a display name may be: a rename that shows an hour late harms nobody. */
export const NAME_MAX_AGE_MS = 60 * 60_000;

/**
 * Display names, guest flags and organisations from `users.info`, remembered for a while (see the
 * ages above): a users.info call on every click would spend the 3-second budget. A lookup that
 * outlasts `waitMs` is not waited for (the caller goes on without it), but still fills the cache
 * for the next click.
 */
export class SlackPeople {
  readonly #cache = new Map<string, Known>();
  readonly #pending = new Map<string, Promise<Person>>();

  constructor(
    private readonly slack: WebClient,
    private readonly log: Log,
    private readonly waitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The display name, or `fallback` (the username) when Slack cannot say in time. A name older
   * than its age limit still beats the username when Slack is slow.
   */
  async displayName(userId: string, fallback: string): Promise<string> {
    try {
      return (await this.#lookUp(userId, NAME_MAX_AGE_MS)).name ?? fallback;
    } catch (error) {
      this.log.warn('Could not look up a display name; using the username', { user: userId, error });
      return this.#cache.get(userId)?.person.name ?? fallback;
    }
  }

  /**
   * Unknown when Slack does not answer in time: the guard then asks the person to try again (the
   * lookup goes on and fills the cache), rather than letting a guest decide. An answer past its age
   * limit is never used: it may be the very one an admin has just changed.
   */
  async isGuest(userId: string): Promise<boolean | undefined> {
    try {
      return (await this.#lookUp(userId, ACCESS_MAX_AGE_MS)).guest;
    } catch (error) {
      this.log.warn('Could not tell whether a person is a guest', { user: userId, error });
      return undefined;
    }
  }

  /** Where the person belongs; unknown when Slack does not answer in time (as for `isGuest`). */
  async homeOf(userId: string): Promise<Home | undefined> {
    try {
      return (await this.#lookUp(userId, ACCESS_MAX_AGE_MS)).home;
    } catch (error) {
      this.log.warn('Could not tell which organisation a person belongs to', { user: userId, error });
      return undefined;
    }
  }

  async #lookUp(userId: string, maxAgeMs: number): Promise<Person> {
    const known = this.#cache.get(userId);
    if (known && this.now() - known.at < maxAgeMs) return known.person;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('users.info took too long')), this.waitMs);
    });
    try {
      return await Promise.race([this.#fetch(userId), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #fetch(userId: string): Promise<Person> {
    let lookup = this.#pending.get(userId);
    if (!lookup) {
      lookup = this.slack.users
        .info({ user: userId })
        .then(({ user }) => {
          const name = user?.profile?.display_name || user?.real_name || user?.name;
          // In an Enterprise Grid org `enterprise_user` names the org; elsewhere it is absent.
          const enterprise = user?.enterprise_user?.enterprise_id;
          const person: Person = {
            ...(name ? { name } : {}),
            guest: Boolean(user?.is_restricted || user?.is_ultra_restricted),
            home: { ...(user?.team_id ? { team: user.team_id } : {}), ...(enterprise ? { enterprise } : {}) },
          };
          this.#cache.set(userId, { person, at: this.now() });
          return person;
        })
        .finally(() => this.#pending.delete(userId));
      this.#pending.set(userId, lookup);
    }
    return lookup;
  }
}
