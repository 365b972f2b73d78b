import type { Actor } from '../core/approval.ts';
import type { RulesDecideDeps } from '../core/decide-under-rules.ts';

/** What listeners need: the core's dependencies plus a way to name people. */
export interface ListenerDeps extends RulesDecideDeps {
  /** The person's display name, for summaries CodePipeline keeps ("Approved by Alice (U0…)"). */
  displayName(userId: string, fallback: string): Promise<string>;
  /** Guests (single- and multi-channel) may not decide; undefined when Slack could not say in time. */
  isGuest(userId: string): Promise<boolean | undefined>;
}

/** A Slack user as the audit trail and CodePipeline see them. */
export async function slackActor(
  deps: Pick<ListenerDeps, 'displayName'>,
  user: { id: string; name?: string; username?: string; team_id?: string },
): Promise<Actor> {
  const fallback = user.name ?? user.username ?? user.id;
  return {
    id: user.id,
    name: await deps.displayName(user.id, fallback),
    via: 'slack',
    ...(user.team_id ? { teamId: user.team_id } : {}),
  };
}
