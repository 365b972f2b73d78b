import type { SlackCredentials } from './config.ts';
import type { Log } from './core/ports.ts';

/**
 * A handler's deps, built with the Slack credentials and built again when the secret holding them
 * changes: a bot token put again after a reinstall, or a signing secret regenerated in Slack, takes
 * effect in every warm container within `maxAgeMs`, with no deploy. (A deploy that changes nothing
 * leaves warm containers as they are: README, "Put the two secrets".)
 *
 * - Like `lazy()`, the first call builds, concurrent first calls share the build, and a failed build
 *   is forgotten so the next call tries again.
 * - Once `maxAgeMs` has passed since the secret was read, a call starts reading it again and goes on
 *   with the deps it has: no invocation waits for Secrets Manager. When the secret's content
 *   differs, the deps are built anew with it and used from the next call on; when it cannot be
 *   read, the deps stay, and the next call tries again.
 * - `renew()` reads it at once, at most once per `renewEveryMs` (a request signed with another
 *   secret than ours may be Slack's with a new one; a flood of forged ones costs one read a minute),
 *   and answers whether the deps changed.
 * - Credentials from the environment (`read` answers undefined) are never read again.
 */
export interface FollowedDeps<T> {
  current(): Promise<T>;
  renew(): Promise<boolean>;
}

export interface FollowOptions {
  log: Log;
  /** How long the secret read last serves before it is read again (default 5 minutes). */
  maxAgeMs?: number;
  /** How often `renew()` may read it at most (default once a minute). */
  renewEveryMs?: number;
  now?: () => number;
}

export function followSlackSecret<T>(
  read: () => Promise<SlackCredentials | undefined>,
  build: (credentials: SlackCredentials | undefined) => Promise<T>,
  { log, maxAgeMs = 5 * 60_000, renewEveryMs = 60_000, now = Date.now }: FollowOptions,
): FollowedDeps<T> {
  interface Built {
    value: T;
    credentials: SlackCredentials | undefined;
    readAt: number;
  }
  let built: Promise<Built> | undefined;
  let reading: Promise<boolean> | undefined;
  let renewedAt = Number.NEGATIVE_INFINITY;

  const make = async (credentials: SlackCredentials | undefined): Promise<Built> => {
    const readAt = now();
    return { value: await build(credentials), credentials, readAt };
  };
  const first = (): Promise<Built> => {
    built ??= read()
      .then(make)
      .catch((error: unknown) => {
        built = undefined;
        throw error;
      });
    return built;
  };
  const readAgain = (): Promise<boolean> => {
    reading ??= (async () => {
      const current = await first();
      if (!current.credentials) return false;
      try {
        const fresh = await read();
        current.readAt = now();
        if (!fresh || sameCredentials(fresh, current.credentials)) return false;
        const next = await make(fresh);
        built = Promise.resolve(next);
        log.info('The Slack secret changed: using its new credentials from now on');
        return true;
      } catch (error) {
        log.warn('Could not read the Slack secret again; keeping the credentials read before', { error });
        return false;
      }
    })().finally(() => {
      reading = undefined;
    });
    return reading;
  };

  return {
    async current() {
      const current = await first();
      if (current.credentials && now() - current.readAt >= maxAgeMs) void readAgain();
      return current.value;
    },
    async renew() {
      if (now() - renewedAt < renewEveryMs) return false;
      renewedAt = now();
      return readAgain();
    },
  };
}

const sameCredentials = (a: SlackCredentials, b: SlackCredentials): boolean =>
  a.botToken === b.botToken && a.signingSecret === b.signingSecret;
