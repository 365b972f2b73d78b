import type { WebClient } from '@slack/web-api';
import type { Log } from '../core/ports.ts';

interface Person {
  name?: string;
  guest: boolean;
}

/**
 * Display names and guest flags from `users.info`, cached for the life of the process: people
 * rarely rename, and a users.info call on every click would spend the 3-second budget. A lookup
 * that outlasts `waitMs` is not waited for (the caller goes on without it), but still fills the
 * cache for the next click.
 */
export class SlackPeople {
  readonly #cache = new Map<string, Person>();
  readonly #pending = new Map<string, Promise<Person>>();

  constructor(
    private readonly slack: WebClient,
    private readonly log: Log,
    private readonly waitMs: number,
  ) {}

  /** The display name, or `fallback` (the username) when Slack cannot say in time. */
  async displayName(userId: string, fallback: string): Promise<string> {
    try {
      return (await this.#lookUp(userId)).name ?? fallback;
    } catch (error) {
      this.log.warn('Could not look up a display name; using the username', { user: userId, error });
      return fallback;
    }
  }

  /**
   * Unknown when Slack does not answer in time: the guard then asks the person to try again (the
   * lookup goes on and fills the cache), rather than letting a guest decide.
   */
  async isGuest(userId: string): Promise<boolean | undefined> {
    try {
      return (await this.#lookUp(userId)).guest;
    } catch (error) {
      this.log.warn('Could not tell whether a person is a guest', { user: userId, error });
      return undefined;
    }
  }

  async #lookUp(userId: string): Promise<Person> {
    const cached = this.#cache.get(userId);
    if (cached) return cached;
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
          const person: Person = {
            ...(name ? { name } : {}),
            guest: Boolean(user?.is_restricted || user?.is_ultra_restricted),
          };
          this.#cache.set(userId, person);
          return person;
        })
        .finally(() => this.#pending.delete(userId));
      this.#pending.set(userId, lookup);
    }
    return lookup;
  }
}
