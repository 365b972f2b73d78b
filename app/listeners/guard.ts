import type { AnyMiddlewareArgs, App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { ListenerDeps } from './context.ts';

/** Who is asking, from any interaction or command payload. */
export interface Requester {
  userId: string;
  /** The person's home workspace. */
  userTeam?: string;
  /** The workspace the app is installed in, where the request happens. */
  team?: string;
  /** The Enterprise Grid org of the request, if any: its members span workspaces. */
  enterprise?: string;
  channel?: string;
}

export function requesterOf(body: Record<string, unknown>): Requester | undefined {
  const user = body.user as { id?: string; team_id?: string } | undefined;
  const userId = user?.id ?? (body.user_id as string | undefined);
  if (!userId) return undefined;
  const team = (body.team as { id?: string } | null | undefined)?.id ?? (body.team_id as string | undefined);
  const enterprise =
    (body.enterprise as { id?: string } | null | undefined)?.id ?? (body.enterprise_id as string | undefined);
  const channel =
    (body.channel as { id?: string } | undefined)?.id ??
    (body.container as { channel_id?: string } | undefined)?.channel_id ??
    (body.channel_id as string | undefined);
  return {
    userId,
    ...(user?.team_id ? { userTeam: user.team_id } : {}),
    ...(team ? { team } : {}),
    ...(enterprise ? { enterprise } : {}),
    ...(channel ? { channel } : {}),
  };
}

/** Why this person may not use Greenlight here, in plain words; undefined when they may. */
export function refusalFor(requester: Requester, guest: boolean | undefined): string | undefined {
  // In an Enterprise Grid org a person's home workspace differs from the one they act in, so
  // only outside an org does another team mean another organisation (Slack Connect).
  if (!requester.enterprise && requester.userTeam && requester.team && requester.userTeam !== requester.team)
    return 'Only members of this workspace can approve or release with Greenlight: you are in a channel shared with another organisation. Nothing was changed.';
  if (guest) return 'Guests cannot approve or release with Greenlight. Nothing was changed.';
  if (guest === undefined)
    return 'Greenlight could not check who you are with Slack just now. Nothing was changed: please try again in a moment.';
  return undefined;
}

/**
 * Runs before every listener: people from another organisation (Slack Connect channels) and
 * guests are refused before anything is read or decided. Who may decide what is for the
 * approval rules to come; this is the floor.
 */
export function register(app: App, deps: Pick<ListenerDeps, 'isGuest' | 'log'>): void {
  app.use(async (args) => {
    const requester = requesterOf(args.body as unknown as Record<string, unknown>);
    if (!requester) return args.next();
    const refusal = refusalFor(requester, await deps.isGuest(requester.userId));
    if (!refusal) return args.next();
    deps.log.warn('Refused a request from outside the workspace or from a guest', { ...requester });
    const { ack } = args as AnyMiddlewareArgs & { ack?: (answer?: unknown) => Promise<void> };
    const isCommand = 'command' in (args.body as object);
    // A command's acknowledgement text is shown to the person only; others get an ephemeral.
    if (ack) await ack(isCommand ? refusal : undefined);
    if (!isCommand && requester.channel) {
      await (args as unknown as { client: WebClient }).client.chat.postEphemeral({
        channel: requester.channel,
        user: requester.userId,
        text: refusal,
      });
    }
  });
}
