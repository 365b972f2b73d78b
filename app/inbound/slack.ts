import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseForm } from 'node:querystring';
import { type Authorize, AwsLambdaReceiver } from '@slack/bolt';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { SlackGroups } from '../adapters/slack-groups.ts';
import type { Config } from '../config.ts';
import { type ClientOverrides, ReleaseClients } from '../deps.ts';
import type { Home } from '../listeners/guard.ts';
import { createSlackApp, type SlackAppDeps } from '../listeners/index.ts';
import { parseJson } from '../parse-json.ts';

/*
 * The way in of Slack: buttons, modals and `/release` arrive at the Lambda Function URL
 * (handlers/slack-events.ts) and come here; Bolt routes them to the listeners.
 */

/** What the Slack way in needs: every listener's deps and the signing secret, on the click path's budget. */
export interface SlackDeps extends SlackAppDeps {
  signingSecret: string;
  /** Where Slack's directory places a person, for the guard (listeners/guard.ts reads it from the same object). */
  homeOf(userId: string): Promise<Home | undefined>;
}

export async function slackDeps(config: Config, overrides?: ClientOverrides): Promise<SlackDeps> {
  const clients = new ReleaseClients(config, 'slack-events', overrides);
  const credentials = await clients.credentials();
  const people = await clients.people();
  return {
    config,
    authorize: botAuthorization(credentials.botToken),
    signingSecret: credentials.signingSecret,
    slackClientOptions: clients.slackClientOptions,
    boltLogger: clients.boltLogger,
    ...(await clients.decidingPorts()),
    displayName: (userId, fallback) => people.displayName(userId, fallback),
    isGuest: (userId) => people.isGuest(userId),
    rules: { products: config.products, groups: new SlackGroups(await clients.slack(), clients.log, 800) },
    homeOf: (userId) => people.homeOf(userId),
  };
}

/**
 * Bolt's authorize for Greenlight's one workspace: the bot token, and nothing Slack must be asked
 * for. Bolt's own single-workspace authorize calls `auth.test` for the bot's ids, on cold start or
 * (with that turned off) on every request; it needs them only to ignore the app's own Events API
 * events, and Greenlight listens to none. So no click ever waits for it. The team and enterprise
 * stay those of each request, as Bolt takes them when the authorization names none.
 */
function botAuthorization(botToken: string): Authorize<boolean> {
  return async ({ isEnterpriseInstall }) => ({ isEnterpriseInstall, botToken });
}

export type FunctionUrlEvent = APIGatewayProxyEventV2;
export type FunctionUrlResult = APIGatewayProxyStructuredResultV2;
export type SlackRoute = (event: FunctionUrlEvent, context: Context) => Promise<FunctionUrlResult>;

/**
 * Function URL event → Bolt. Two checks come first, because Bolt parses the body before it checks
 * the signature, and throws (a Lambda error, an alarm) on a body it cannot parse:
 * - the signature (HMAC-SHA256 over `v0:<timestamp>:<body>`, timestamp within 5 minutes either
 *   way): a forged or replayed request gets 401 and touches nothing;
 * - the body of a signed request: only what Slack sends to this Request URL (a slash command, an
 *   interaction payload) in the shape Bolt relies on; anything else gets 400, with a warning.
 * Bolt's receiver checks the signature again, as it always does.
 */
export function slackRoute(deps: SlackDeps): SlackRoute {
  const receiver = new AwsLambdaReceiver({
    signingSecret: deps.signingSecret,
    logger: deps.boltLogger,
    invalidRequestSignatureHandler: ({ ts }) => {
      deps.log.warn('Refused a Slack request with a bad or stale signature', { requestTimestamp: ts });
    },
  });
  createSlackApp(deps, receiver);
  const handle = receiver.toHandler();
  return async (event, context) => {
    if (!signedBySlack(event, deps.signingSecret, Date.now())) {
      deps.log.warn('Refused a Slack request with a bad or stale signature', {
        requestTimestamp: header(event, 'x-slack-request-timestamp'),
        path: event.rawPath,
      });
      // Counted: many at once mean Greenlight's secret is not the app's, and every click fails.
      deps.metrics?.count('SlackRequestRefused');
      return { statusCode: 401, body: '' };
    }
    const problem = unreadable(event);
    if (problem) {
      // Only the signing secret's holder (Slack, or someone who has it) can get here: worth a
      // warning, not an alarm. What was sent is not logged: it may hold personal data.
      deps.log.warn('Refused a signed Slack request that Greenlight cannot read', {
        path: event.rawPath,
        contentType: header(event, 'content-type'),
        problem,
      });
      return { statusCode: 400, body: '' };
    }
    const response = await handle(event as Parameters<typeof handle>[0], context);
    return response as FunctionUrlResult;
  };
}

/** Slack's replay window: a request stamped further from now than this, either way, is refused. */
export const SIGNATURE_WINDOW_S = 5 * 60;

const header = (event: FunctionUrlEvent, name: string) =>
  Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

/**
 * Slack's signature check, done as Slack describes it: the timestamp header exactly as sent (only
 * a plain decimal integer of seconds: `123.0`, `0x7b` or ` 123` would be the same number to
 * `Number()`, and so the same signature to a check that reads it as one), within the window either
 * way (a request stamped in the future could otherwise be replayed until then), and the HMAC over
 * the raw body, compared in constant time.
 */
export function signedBySlack(event: FunctionUrlEvent, signingSecret: string, nowMs: number): boolean {
  const signature = header(event, 'x-slack-signature');
  const timestamp = header(event, 'x-slack-request-timestamp');
  if (!signature || !timestamp || !/^[0-9]{1,12}$/.test(timestamp)) return false;
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > SIGNATURE_WINDOW_S) return false;
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/*
 * What Slack sends to this Request URL (interactivity and `/release`; Greenlight takes no Events
 * API events), down to the fields Bolt reads before any listener runs. Bolt answers a signed body
 * it cannot parse by throwing, and one that parses to the wrong shape (a `null` payload, a view
 * submission without a view, actions that are no list, a `null` channel) with a 500: both would
 * page someone for a request that can never succeed.
 */
/**
 * A Slack id (`T0…`, `E0…`, `U0…`, `C0…`): upper-case letters and digits. Bolt keys its clients by
 * team and org id in a plain object, so an id like `__proto__` would crash it (a 500).
 */
const id = z.string().regex(/^[A-Z0-9]{1,40}$/);
const where = z.object({ id }).loose();
/** Keys that would make Bolt read the body as another kind of request than it is. */
const notOtherKinds = { event: z.never().optional(), command: z.never().optional() };
const interactionBase = {
  ...notOtherKinds,
  user: z.object({ id, team_id: id.optional() }).loose(),
  team: z.object({ id, enterprise_id: id.optional() }).loose().nullable().optional(),
  enterprise: where.nullable().optional(),
  channel: where.optional(),
};
const interactionSchema = z.union([
  z
    .object({
      ...interactionBase,
      type: z.literal('block_actions'),
      actions: z.array(z.object({ action_id: z.string() }).loose()).min(1),
    })
    .loose(),
  z
    .object({
      ...interactionBase,
      type: z.enum(['view_submission', 'view_closed']),
      view: z.object({ id, callback_id: z.string(), app_installed_team_id: id.optional() }).loose(),
      // Bolt reads `actions` of any payload that has one as a list.
      actions: z.array(z.unknown()).optional(),
    })
    .loose(),
]);
/** A slash command is a plain form; a repeated field would arrive as a list, which no command has. */
const slashCommandSchema = z
  .object({
    event: z.never().optional(),
    payload: z.never().optional(),
    command: z.string().min(1),
    text: z.string(),
    user_id: id,
    team_id: id,
    enterprise_id: id.optional(),
    channel_id: id,
    trigger_id: z.string(),
    response_url: z.string(),
  })
  .loose();

/**
 * Why Bolt could not take this body as a request Greenlight handles; undefined when it can. The
 * body is read as Bolt's AwsLambdaReceiver reads it (its base64 decoding, and a content type it
 * compares literally), so that what is checked here is what Bolt gets.
 */
function unreadable(event: FunctionUrlEvent): string | undefined {
  const contentType = header(event, 'content-type');
  // Slack sends every interaction and command as this form; any other content type Bolt parses as JSON.
  if (contentType !== 'application/x-www-form-urlencoded') return 'not a form';
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('ascii') : (event.body ?? '');
  const form = parseForm(raw);
  // Slack's certificate check (no payload, no command): Bolt answers it itself.
  if ('ssl_check' in form && form.payload === undefined && form.command === undefined) return undefined;
  if (form.payload === undefined) {
    const command = slashCommandSchema.safeParse(form);
    return command.success ? undefined : `not a slash command: bad or missing ${fieldsOf(command.error)}`;
  }
  if (typeof form.payload !== 'string') return 'more than one payload';
  const payload = parseJson(interactionSchema, form.payload);
  return payload.ok ? undefined : `payload ${payload.problem}`;
}

const fieldsOf = (error: z.ZodError) =>
  [...new Set(error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
