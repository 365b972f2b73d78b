import type { WebClient } from '@slack/web-api';
import type { GroupDirectory, Log } from '../core/ports.ts';

/**
 * How old a group's member list may be. Someone removed from the Releasers expects it to count
 * soon; a minute still spares nearly every click a usergroups.users.list call.
 */
export const GROUP_MAX_AGE_MS = 60_000;

/**
 * Who is in Slack's user groups (`usergroups.users.list`, scope usergroups:read), remembered per
 * container for GROUP_MAX_AGE_MS, so a warm click asks Slack nothing. A lookup that outlasts
 * `waitMs` is not waited for: the person counts as in none of the groups (and is told who may
 * decide), while the lookup goes on and fills the cache for the next click.
 */
export class SlackGroups implements GroupDirectory {
  readonly #cache = new Map<string, { members: ReadonlySet<string>; at: number }>();
  readonly #pending = new Map<string, Promise<ReadonlySet<string>>>();

  constructor(
    private readonly slack: WebClient,
    private readonly log: Log,
    private readonly waitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async groupsOf(userId: string, groups: readonly string[]): Promise<ReadonlySet<string> | undefined> {
    try {
      const lists = await Promise.all(groups.map(async (group) => [group, await this.#members(group)] as const));
      return new Set(lists.filter(([, members]) => members.has(userId)).map(([group]) => group));
    } catch (error) {
      this.log.warn('Could not tell which user groups a person is in', { user: userId, groups, error });
      return undefined;
    }
  }

  #members(group: string): Promise<ReadonlySet<string>> {
    const known = this.#cache.get(group);
    if (known && this.now() - known.at < GROUP_MAX_AGE_MS) return Promise.resolve(known.members);
    let pending = this.#pending.get(group);
    if (!pending) {
      pending = this.slack.usergroups.users
        .list({ usergroup: group })
        .then((answer) => {
          const members: ReadonlySet<string> = new Set(answer.users ?? []);
          this.#cache.set(group, { members, at: this.now() });
          return members;
        })
        .finally(() => this.#pending.delete(group));
      this.#pending.set(group, pending);
    }
    return Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`usergroups.users.list ${group}: no answer in time`)),
          this.waitMs,
        );
        timer.unref?.();
        pending.finally(() => clearTimeout(timer)).catch(() => {});
      }),
    ]);
  }
}
