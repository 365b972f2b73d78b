import type { AnyMiddlewareArgs, App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { ListenerDeps } from './context.ts';

/** Who is asking, from any interaction or command payload. */
export interface Requester {
  userId: string;
  /**
   * The person's team as the payload reports it (`user.team_id`): their home workspace (T…) or, in
   * an Enterprise Grid org, possibly the org itself (E…). Slash commands do not report it.
   */
  userTeam?: string;
  /** The workspace the app is installed in, where the request happens. */
  team?: string;
  /** The Enterprise Grid org of the request, if any: its members span workspaces. */
  enterprise?: string;
  channel?: string;
}

/** Where Slack's directory (users.info) places a person: their workspace and Enterprise Grid org. */
export interface Home {
  team?: string;
  enterprise?: string;
}

/** Whether the person belongs to the organisation the request comes from. */
export type Belonging = 'member' | 'outsider';

export function requesterOf(body: Record<string, unknown>): Requester | undefined {
  const user = body.user as { id?: string; team_id?: string } | undefined;
  const userId = user?.id ?? (body.user_id as string | undefined);
  if (!userId) return undefined;
  const teamObject = body.team as { id?: string; enterprise_id?: string } | null | undefined;
  const team = teamObject?.id ?? (body.team_id as string | undefined);
  // Interactions name the org in `enterprise` (and on `team`), slash commands in `enterprise_id`.
  const enterprise =
    (body.enterprise as { id?: string } | null | undefined)?.id ??
    teamObject?.enterprise_id ??
    (body.enterprise_id as string | undefined);
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

/**
 * Whether the payload alone places the person in the request's organisation; undefined when it
 * cannot, and Slack's directory must be asked. That the payload carries an enterprise says where
 * the request happens, not where the person comes from: a Slack Connect channel of an org has
 * people of other organisations in it too.
 */
export function belongingFromPayload(requester: Requester): Belonging | undefined {
  const { userTeam, team, enterprise } = requester;
  if (!userTeam) return undefined;
  // Slack may report an org member's team as the org (E…): then it names the person's org outright.
  if (userTeam.startsWith('E')) return userTeam === enterprise ? 'member' : 'outsider';
  if (team && userTeam === team) return 'member';
  // Outside an org another workspace is another organisation. Inside one it may be a workspace of
  // the same org or of another: only the directory knows.
  if (!enterprise && team) return 'outsider';
  return undefined;
}

/** Whether Slack's directory places the person in the request's organisation; undefined when unknown. */
export function belongingFromHome(requester: Requester, home: Home | undefined): Belonging | undefined {
  if (!home) return undefined;
  if (requester.enterprise) return home.enterprise === requester.enterprise ? 'member' : 'outsider';
  return requester.team !== undefined && home.team === requester.team ? 'member' : 'outsider';
}

/**
 * Why this person may not use Greenlight here, in plain words; undefined when they may. `home` is
 * asked for only where the payload cannot place the person (belongingFromPayload).
 */
export function refusalFor(requester: Requester, guest: boolean | undefined, home?: Home): string | undefined {
  const belonging = belongingFromPayload(requester) ?? belongingFromHome(requester, home);
  if (belonging === 'outsider')
    return 'Only members of this workspace can approve or release with Greenlight: you are in a channel shared with another organisation. Nothing was changed.';
  if (guest) return 'Guests cannot approve or release with Greenlight. Nothing was changed.';
  if (guest === undefined || belonging === undefined)
    return 'Greenlight could not check who you are with Slack just now. Nothing was changed: please try again in a moment.';
  return undefined;
}

/** What the guard needs. */
export interface GuardDeps extends Pick<ListenerDeps, 'isGuest' | 'log'> {
  /**
   * Where Slack's directory places a person; undefined when Slack cannot say in time. Optional only
   * because ListenerDeps does not name it (the Slack way in provides it): without it, whoever the
   * payload cannot place is asked to try again, never let in.
   */
  homeOf?(userId: string): Promise<Home | undefined>;
}

/**
 * Runs before every listener: people from another organisation (Slack Connect channels) and
 * guests are refused before anything is read or decided. Who may decide what is for the
 * approval rules to come; this is the floor.
 */
export function register(app: App, deps: GuardDeps): void {
  app.use(async (args) => {
    const requester = requesterOf(args.body as unknown as Record<string, unknown>);
    if (!requester) return args.next();
    const placed = belongingFromPayload(requester);
    // An outsider costs no Slack call; otherwise one users.info call answers both (SlackPeople shares it).
    const [guest, home] =
      placed === 'outsider'
        ? [undefined, undefined]
        : await Promise.all([deps.isGuest(requester.userId), placed ? undefined : deps.homeOf?.(requester.userId)]);
    const refusal = refusalFor(requester, guest, home);
    if (!refusal) return args.next();
    deps.log.warn('Refused a request from outside the organisation or from a guest', {
      ...requester,
      ...(home ? { home } : {}),
      ...(placed === 'outsider' ? {} : { guest: guest ?? 'unknown' }),
    });
    const { ack } = args as AnyMiddlewareArgs & { ack?: (answer?: unknown) => Promise<void> };
    const body = args.body as unknown as Record<string, unknown>;
    const isCommand = 'command' in body;
    // A modal's submission is answered in the modal: an empty acknowledgement would close it, and
    // what was typed with it, though nothing was decided. A command's acknowledgement text is shown
    // to the person only; others get an ephemeral.
    if (body.type === 'view_submission') return ack?.(refusalInModal(body.view, refusal));
    if (ack) await ack(isCommand ? refusal : undefined);
    if (!isCommand && requester.channel) {
      await (args as unknown as { client: WebClient }).client.chat
        .postEphemeral({ channel: requester.channel, user: requester.userId, text: refusal })
        .catch((error: unknown) =>
          deps.log.warn('Could not tell a refused person why', { userId: requester.userId, error }),
        );
    }
  });
}

/**
 * The answer to a refused modal submission: the refusal under the modal's first input, so the modal
 * stays open with what was typed (a retry needs no retyping); a modal without inputs shows it instead.
 */
export function refusalInModal(view: unknown, refusal: string): Record<string, unknown> {
  const blocks = (view as { blocks?: { type?: string; block_id?: string }[] } | undefined)?.blocks ?? [];
  const input = blocks.find((block) => block.type === 'input' && block.block_id)?.block_id;
  if (input) return { response_action: 'errors', errors: { [input]: refusal } };
  return {
    response_action: 'update',
    view: {
      type: 'modal',
      title: { type: 'plain_text', text: 'Greenlight' },
      close: { type: 'plain_text', text: 'Close' },
      blocks: [{ type: 'section', text: { type: 'plain_text', text: refusal } }],
    },
  };
}
