/*
 * Fuzz: Function URL events → handlers/slack-events.ts (app/inbound/slack.ts → Bolt → app/listeners).
 *
 * Its contract (docs/architecture.md, "Contracts" and "Security model"): a request without Slack's
 * valid signature gets 401 and touches nothing. A signed one is answered (never a 5xx), and input
 * Greenlight did not make — button values, modal private_metadata and state, `/release` text — is
 * refused: it decides nothing and posts no message; whoever sent it is told in plain words.
 *
 * Most signed requests keep the shape Slack gives its payloads (a block_actions payload has a user,
 * a team, a channel and a list of actions; a slash command its form fields) and make everything
 * Greenlight reads inside them arbitrary; the last property signs bodies of any shape at all.
 *
 * Runs: FUZZ_RUNS cases per property (default 40); `npm run fuzz` runs 10000.
 * Replay a failure: the report prints its seed and path, e.g.
 *   FUZZ_SEED=123 FUZZ_PATH=4:1:0 npx vitest run test/fuzz/slack-events.test.ts -t "<test name>"
 * Each case stands alone (counts are taken around the case and modals are closed after it), so a
 * replayed case behaves as it did in the run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionUrlEvent } from '../../app/inbound/slack.ts';
import { ids } from '../../app/views/ids.ts';
import { lambdaContext } from '../../sandbox/app/function-url-server.ts';
import { signSlackRequest } from '../../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { productWaitsAt } from '../support/release-world.ts';
import { unattributedAuditSince } from '../support/world-helpers.ts';
import {
  anyJson,
  anyString,
  anyValue,
  asDelivered,
  type CapturedLogs,
  captureLogs,
  fuzz,
  isObject,
  type LogLine,
  mutated,
  notPlainWords,
  timeoutFor,
} from './fuzz-support.ts';

const FILE = 'test/fuzz/slack-events.test.ts';

let world: World;
let logs: CapturedLogs;
let signingSecret: string;

beforeAll(async () => {
  logs = captureLogs();
  world = await startWorld();
  signingSecret = process.env.SLACK_SIGNING_SECRET ?? '';
  // A product with approvals waiting, so that /release has something real to look at.
  await productWaitsAt(world, 'fuzz', ['api', 'web'], 'StagingDEV');
});

afterAll(async () => {
  await world?.close();
  logs?.restore();
});

// What a request may leave behind

/** Everything a request could change, to compare before and after it. */
function footprint() {
  return {
    decisions: world.emulator.calls('PutApprovalResult').length,
    slackCalls: world.slack.calls().length,
    log: logs.mark(),
  };
}

/** What Bolt or our error middleware log when a request ends in an exception nobody handled. */
const UNHANDLED = /^(Unhandled error in a Slack listener|An unhandled error occurred while Bolt processed an event)/;
const unhandled = (lines: LogLine[]) => lines.filter((line) => UNHANDLED.test(line.message)).map((l) => l.json);

/** Slack Web API methods that only read. */
const READS =
  /^(auth\.test|users\.(info|list)|team\.info|chat\.getPermalink|conversations\.(history|replies|info|members|list))$/;

/**
 * Slack calls that change what people see: anything but a read, a plain-words ephemeral or DM, an
 * answer through the request's own response_url that only its sender sees, and with `modals`, a
 * modal (`/release <product> <env>` opens one for any names before it reads anything).
 */
function unwantedSlackCalls(since: number, { modals = false } = {}) {
  return world.slack
    .calls()
    .slice(since)
    .filter((call) => {
      if (READS.test(call.method)) return false;
      if (modals && /^views\.(open|update)$/.test(call.method)) return false;
      if (call.method === 'response_url')
        return call.args.response_type === 'in_channel' || notPlainWords(call.args.text) !== undefined;
      if (call.method === 'chat.postEphemeral') return notPlainWords(call.args.text) !== undefined;
      // A refusal without a channel goes to the person's DM as plain text.
      if (call.method === 'chat.postMessage')
        return call.args.blocks !== undefined || call.args.metadata !== undefined || !!notPlainWords(call.args.text);
      return true;
    })
    .map((call) => ({ method: call.method, args: call.args }));
}

/** Texts a person sees in an answer Greenlight gave Slack directly (a command's ack, a modal's response_action). */
function textsIn(answer: string): unknown[] {
  if (answer.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(answer);
  } catch {
    return [answer];
  }
  if (!isObject(json)) return [answer];
  const texts: unknown[] = [];
  if ('text' in json) texts.push(json.text);
  if (isObject(json.errors)) texts.push(...Object.values(json.errors));
  if (isObject(json.view)) texts.push(...sectionTexts(json.view.blocks));
  return texts;
}

const sectionTexts = (blocks: unknown): unknown[] =>
  (Array.isArray(blocks) ? blocks : []).flatMap((block: unknown) =>
    isObject(block) && block.type === 'section' && isObject(block.text) ? [block.text.text] : [],
  );

// Requests

const now = () => Math.floor(Date.now() / 1000);

/** POSTs a body signed as Slack signs it to the app's Request URL (the Function URL, on loopback). */
async function signed(body: string): Promise<{ status: number; body: string }> {
  const timestamp = now();
  const response = await fetch(world.appUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(signingSecret, timestamp, body),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

const interaction = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

// Inputs

const PEOPLE = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'] as const;
const CHANNELS = Object.values(SANDBOX_CHANNELS);
const TEAM = 'T0GREENLT';

/*
 * Who acts, and where. A click or a modal comes from a person of the workspace, in a channel the
 * app is in (its buttons live only on its own messages): Slack sends nothing else. Their team and
 * org may be any (Slack Connect, Enterprise Grid), with ids as Slack makes them (`T…`, `E…`). A
 * command may come from anyone, anywhere.
 */
const person = fc.constantFrom(...PEOPLE);
const anyUserId = fc.oneof({ weight: 4, arbitrary: person }, { weight: 1, arbitrary: anyString });
const teamId = fc.oneof(
  { weight: 4, arbitrary: fc.constant(TEAM) },
  { weight: 1, arbitrary: fc.stringMatching(/^T[A-Z0-9]{2,10}$/) },
);
const enterpriseId = fc.stringMatching(/^E[A-Z0-9]{2,10}$/);
const appChannel = fc.constantFrom(...CHANNELS);
const anyChannelId = fc.oneof({ weight: 4, arbitrary: appChannel }, { weight: 1, arbitrary: anyString });
const user = fc.record({ id: person, username: anyString, name: anyString, team_id: teamId }, { requiredKeys: ['id'] });
const team = fc.record({ id: teamId, domain: anyString });
const enterprise = fc.oneof(fc.constant(null), fc.record({ id: enterpriseId, name: anyString }));

/** Where Slack would take a response_url answer: the simulator, at a URL it never issued. */
const responseUrl = () => `${world.slack.apiUrl.replace(/\/api\/$/, '')}/actions/T0GREENLT/0/fuzz`;

/** Something like an approval id, or any string. */
const idLike = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{10,64}$/), anyString);

/** A JSON text, a JSON text that looks like what Greenlight writes, or any string. */
const jsonText = (looksLike: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 2, arbitrary: looksLike.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: anyJson.map((value) => JSON.stringify(value) ?? '') },
    { weight: 1, arbitrary: anyString },
  );

const buttonValue = jsonText(
  fc.record({ approvalId: fc.oneof(idLike, anyJson), extra: anyJson }, { requiredKeys: ['approvalId'] }),
);

const action = fc.record(
  {
    action_id: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(ids.approve, ids.reject) },
      { weight: 1, arbitrary: anyString },
    ),
    block_id: anyString,
    value: buttonValue,
    type: fc.constant('button'),
    action_ts: fc.constant('1700000000.000100'),
  },
  { requiredKeys: ['action_id', 'type'] },
);

/** A button click as Slack sends it, with everything in it arbitrary. */
const blockActions = fc
  .record(
    {
      user,
      team,
      enterprise,
      channel: fc.record({ id: appChannel, name: anyString }),
      container: fc.record({ type: fc.constant('message'), message_ts: anyString, channel_id: appChannel }),
      trigger_id: anyString,
      actions: fc.array(action, { minLength: 1, maxLength: 2 }),
    },
    // Slack always says which team a click happens in, and (Greenlight's buttons live on messages) which channel.
    { requiredKeys: ['user', 'team', 'channel', 'container', 'actions'] },
  )
  .map((payload) => ({
    type: 'block_actions',
    api_app_id: 'A0GREENLT',
    token: 'sim-verification-token',
    response_url: responseUrl(),
    ...payload,
  }));

/** `state.values` as Slack sends it (block → action → element state), text inputs holding any text. */
const stateValues = fc.oneof(
  fc.record({
    [ids.reasonBlock]: fc.record({
      [ids.reasonInput]: fc.record({ type: fc.constant('plain_text_input'), value: fc.option(anyString) }),
    }),
  }),
  fc.dictionary(
    anyString,
    fc.dictionary(anyString, fc.record({ type: fc.constant('plain_text_input'), value: fc.option(anyString) }), {
      maxKeys: 2,
    }),
    { maxKeys: 2 },
  ),
);

/*
 * The reject modal's memory names the approval and the channel it was opened from, which Greenlight
 * answers in. Metadata in that shape that names another channel cannot come from Slack (only
 * Greenlight writes it, and Slack returns it as written), so it is left out: with it, the answer
 * would go to a channel that may not exist. Anything else goes, the release modal's too.
 */
const APPROVAL_ID = /^[A-Za-z0-9_-]{10,64}$/;
const namesAnotherChannel = (text: string): boolean => {
  try {
    const value = JSON.parse(text) as unknown;
    return (
      isObject(value) &&
      typeof value.approvalId === 'string' &&
      APPROVAL_ID.test(value.approvalId) &&
      (value.channel === undefined || typeof value.channel === 'string') &&
      !CHANNELS.includes(value.channel as (typeof CHANNELS)[number])
    );
  } catch {
    return false;
  }
};
const privateMetadata = fc
  .oneof(
    jsonText(fc.record({ approvalId: idLike, channel: appChannel })),
    jsonText(fc.record({ approvalId: fc.oneof(idLike, anyJson), channel: anyJson }, { requiredKeys: [] })),
    jsonText(
      fc.record({ releaseId: fc.oneof(idLike, anyJson), plan: fc.oneof(anyString, anyJson) }, { requiredKeys: [] }),
    ),
  )
  .filter((text) => !namesAnotherChannel(text));

/** A modal submission as Slack sends it, with everything in it arbitrary. */
const viewSubmission = fc
  .record(
    {
      user,
      team,
      enterprise,
      trigger_id: anyString,
      view: fc.record({
        id: fc.stringMatching(/^V[A-Z0-9]{1,12}$/),
        callback_id: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(ids.rejectModal, ids.releaseModal) },
          { weight: 1, arbitrary: anyString },
        ),
        private_metadata: privateMetadata,
        state: fc.record({ values: stateValues }),
        hash: anyString,
      }),
    },
    { requiredKeys: ['user', 'team', 'view'] },
  )
  .map((payload) => ({
    type: 'view_submission',
    api_app_id: 'A0GREENLT',
    token: 'sim-verification-token',
    ...payload,
    view: { type: 'modal', team_id: TEAM, ...payload.view },
  }));

/** Words people type after /release, and anything else. */
const commandText = fc.oneof(
  anyString,
  fc
    .array(
      fc.oneof(
        fc.constantFrom('help', 'digest', 'status', 'fuzz', 'shop', 'qa', 'prod', 'QA', 'Prod', 'FUZZ', '-'),
        anyString,
      ),
      { maxLength: 4 },
    )
    .map((words) => words.join(' ')),
);

/** `/release` as Slack posts it (a form), every field arbitrary text. */
const releaseCommand = fc
  .record(
    {
      team_id: teamId,
      team_domain: anyString,
      channel_id: anyChannelId,
      channel_name: anyString,
      user_id: anyUserId,
      user_name: anyString,
      text: commandText,
      trigger_id: anyString,
      enterprise_id: enterpriseId,
    },
    { requiredKeys: ['team_id', 'channel_id', 'user_id', 'user_name', 'text', 'trigger_id'] },
  )
  .map((form) =>
    new URLSearchParams({
      token: 'sim-verification-token',
      command: '/release',
      api_app_id: 'A0GREENLT',
      is_enterprise_install: 'false',
      response_url: responseUrl(),
      ...form,
    }).toString(),
  );

/*
 * Signed bodies of any shape: payload JSON that is anything at all, a click or a submission with
 * parts missing or of the wrong type (ids such as `toString` included: Bolt keys its clients by
 * team id), a form with any fields, any text.
 */
const SHAPE_FIELDS = [
  ['type'],
  ['user'],
  ['user', 'id'],
  ['user', 'team_id'],
  ['team'],
  ['team', 'id'],
  ['enterprise'],
  ['channel'],
  ['channel', 'id'],
  ['container'],
  ['actions'],
  ['actions', '0'],
  ['actions', '0', 'action_id'],
  ['actions', '0', 'value'],
  ['view'],
  ['view', 'id'],
  ['view', 'callback_id'],
  ['view', 'state'],
  ['view', 'state', 'values'],
  ['view', 'private_metadata'],
  ['trigger_id'],
  ['response_url'],
  ['event'],
  ['command'],
] as const;

const anyShapeBody = fc.oneof(
  anyJson.map(interaction),
  mutated(blockActions as fc.Arbitrary<unknown>, SHAPE_FIELDS).map(interaction),
  mutated(viewSubmission as fc.Arbitrary<unknown>, SHAPE_FIELDS).map(interaction),
  fc
    .record(
      {
        command: fc.oneof(fc.constant('/release'), anyString),
        text: commandText,
        user_id: anyUserId,
        team_id: fc.oneof(teamId, anyString),
        enterprise_id: anyString,
        channel_id: anyChannelId,
        trigger_id: anyString,
        response_url: fc.oneof(fc.constant(''), anyString),
        payload: anyString,
        ssl_check: fc.constant('1'),
      },
      { requiredKeys: [] },
    )
    .chain((form) =>
      fc
        .dictionary(anyString, anyString, { maxKeys: 2 })
        .map((extra) => new URLSearchParams({ ...extra, ...form }).toString()),
    ),
  anyString,
);

/** A Function URL event without Slack's valid signature: none, a forged one, a stale one, another secret's. */
const unsignedRequest = fc.record({
  body: fc.oneof(anyString, blockActions.map(interaction), releaseCommand),
  signature: fc.oneof(
    fc.constant(undefined),
    anyString,
    fc.stringMatching(/^v0=[0-9a-f]{64}$/),
    fc.constant('forge'),
    fc.constant('stale'),
    fc.constant('other-secret'),
  ),
  timestamp: fc.oneof(fc.constant(undefined), anyString, fc.integer(), fc.constant('now')),
  contentType: fc.oneof(
    fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
    anyString,
    fc.constant(undefined),
  ),
  isBase64Encoded: fc.oneof(fc.boolean(), anyValue),
  extra: fc.dictionary(anyString, anyValue, { maxKeys: 3 }),
});

type UnsignedInput = typeof unsignedRequest extends fc.Arbitrary<infer T> ? T : never;

/** The event Lambda would build for such a request (headers as fuzzed, lower-cased names as Lambda gives them). */
function unsignedEvent(input: UnsignedInput): FunctionUrlEvent {
  // Signed with the right secret six minutes ago (a replay), or now with another secret; else as fuzzed.
  const stale = now() - 6 * 60;
  const timestamp =
    input.signature === 'stale'
      ? stale
      : input.signature === 'other-secret' || input.timestamp === 'now'
        ? now()
        : input.timestamp;
  const signature =
    input.signature === 'stale'
      ? signSlackRequest(signingSecret, stale, input.body)
      : input.signature === 'other-secret'
        ? signSlackRequest('not-the-signing-secret', now(), input.body)
        : input.signature === 'forge'
          ? `v0=${'0'.repeat(64)}`
          : input.signature;
  const headers: Record<string, unknown> = { ...input.extra };
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  if (timestamp !== undefined) headers['x-slack-request-timestamp'] = String(timestamp);
  if (signature !== undefined) headers['x-slack-signature'] = signature;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers,
    body: input.body,
    isBase64Encoded: input.isBase64Encoded,
  } as unknown as FunctionUrlEvent;
}

// Properties

describe('requests Slack did not sign, fuzzed', () => {
  const test = 'answers 401 to every request without a valid signature and touches nothing';
  it(
    test,
    async () => {
      await fuzz(
        { file: FILE, test },
        fc.asyncProperty(unsignedRequest, fc.boolean(), async (input, overHttp) => {
          // Prepare
          const before = footprint();
          const since = new Date();
          const event = unsignedEvent(input);

          // Act: as Lambda hands the event over, or over HTTP through the Function URL adapter
          let status: number | undefined;
          if (overHttp) {
            const response = await fetch(world.appUrl, {
              method: 'POST',
              headers: Object.fromEntries(
                Object.entries(event.headers ?? {}).filter(([k, v]) => validHeader(k, v)) as [string, string][],
              ),
              body: input.body,
            });
            await response.text();
            status = response.status;
          } else {
            const answer = await world.handlers.slackEvents(asDelivered(event), lambdaContext()).then(
              (result) => result,
              (error: unknown) => ({ statusCode: -1, body: String(error) }),
            );
            status = answer.statusCode;
          }
          await world.settle();

          // Assess
          expect(status).toBe(401);
          expect(world.slack.calls().length).toBe(before.slackCalls);
          expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
          expect(await unattributedAuditSince(since)).toEqual([]);
          expect(unhandled(logs.since(before.log))).toEqual([]);
        }),
      );
    },
    timeoutFor(100),
  );
});

/** Headers fetch can send: a token name and a value without control characters. */
const validHeader = (name: string, value: unknown): boolean =>
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) &&
  typeof value === 'string' &&
  /^[\t\x20-\x7e\x80-\xff]*$/.test(value) &&
  value === value.trim();

describe('signed requests with content Greenlight did not make, fuzzed', () => {
  /** What every signed request with input Greenlight did not make must leave behind. */
  function expectRefusedWithoutSideEffects(
    answer: { status: number; body: string },
    before: ReturnType<typeof footprint>,
    options: { modals?: boolean } = {},
  ) {
    // Answered: a 4xx at most (a 404 is Bolt's answer when no listener matches an id we never use) …
    expect(answer.status).toBeLessThan(500);
    // … what the person is told is plain words …
    for (const text of textsIn(answer.body)) expect(notPlainWords(text), String(text)).toBeUndefined();
    // … nothing decided, no message posted or changed, no exception left unhandled.
    expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
    expect(unwantedSlackCalls(before.slackCalls, options)).toEqual([]);
    expect(unhandled(logs.since(before.log))).toEqual([]);
  }

  const clicks = 'refuses button clicks with any action id and value: no 5xx, no decision, no message';
  it(
    clicks,
    async () => {
      await fuzz(
        { file: FILE, test: clicks },
        fc.asyncProperty(blockActions, async (payload) => {
          // Prepare
          const before = footprint();
          // Act
          const answer = await signed(interaction(payload));
          await world.settle();
          // Assess
          expectRefusedWithoutSideEffects(answer, before);
        }),
      );
    },
    timeoutFor(150),
  );

  const submissions = 'refuses modal submissions with any private_metadata and state: no 5xx, no decision, no message';
  it(
    submissions,
    async () => {
      await fuzz(
        { file: FILE, test: submissions },
        fc.asyncProperty(viewSubmission, async (payload) => {
          // Prepare
          const before = footprint();
          // Act
          const answer = await signed(interaction(payload));
          await world.settle();
          // Assess
          expectRefusedWithoutSideEffects(answer, before);
        }),
      );
    },
    timeoutFor(150),
  );

  const commands = 'answers /release with any text and any form fields in plain words: no 5xx, no decision, no message';
  it(
    commands,
    async () => {
      await fuzz(
        { file: FILE, test: commands },
        fc.asyncProperty(releaseCommand, async (form) => {
          // Prepare
          const before = footprint();
          // Act
          const answer = await signed(form);
          await world.settle();
          // Assess
          expectRefusedWithoutSideEffects(answer, before, { modals: true });
        }),
      );
    },
    timeoutFor(200),
  );
});

describe('/release typed in Slack, fuzzed', () => {
  const typed = 'answers any /release a person types in plain words, and never decides or posts by itself';
  it(
    typed,
    async () => {
      await fuzz(
        { file: FILE, test: typed },
        fc.asyncProperty(
          fc.constantFrom(...PEOPLE),
          fc.constantFrom(...CHANNELS),
          commandText,
          async (person, channel, text) => {
            // Prepare
            const before = footprint();
            const ephemeralsBefore = world.slack.ephemerals(channel, person).length;
            // Act
            const answer = await world.slack.slashCommand(person, channel, '/release', text);
            await world.settle();
            // Assess (the modal is closed first, so that the next case starts without one): Slack
            // took the answer and showed it …
            const views = world.slack.openViews(person);
            world.slack.workspace.clearViews(person);
            expect(answer.status).toBe(200);
            expect(answer.displayError).toBeUndefined();
            // … in plain words, privately (at once or later, through the response_url) or in a modal …
            const shown = [
              ...world.slack
                .ephemerals(channel, person)
                .slice(ephemeralsBefore)
                .map((e) => e.text),
              ...views.flatMap((open) => sectionTexts(open.view.blocks)),
            ];
            expect(shown.length).toBeGreaterThan(0);
            for (const text of shown) expect(notPlainWords(text), String(text)).toBeUndefined();
            // … and nothing was decided or posted to a channel, and no error was logged.
            expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
            const posts = world.slack
              .calls()
              .slice(before.slackCalls)
              .filter((c) => /^chat\.(postMessage|update|delete)$/.test(c.method));
            expect(posts).toEqual([]);
            expect(
              logs
                .since(before.log)
                .filter((l) => l.level === 'ERROR')
                .map((l) => l.json),
            ).toEqual([]);
          },
        ),
      );
    },
    timeoutFor(300),
  );

  const envs = 'refuses /release to an env the product does not have, in plain words, before opening anything';
  it(
    envs,
    async () => {
      // JS prototype keys among them: `constructor` and `__proto__` were once taken for envs (a modal, then an error).
      const env = fc
        .oneof(
          fc.constantFrom('constructor', '__proto__', 'staging', 'dev', 'live', 'qa1', 'prod-eu'),
          fc.stringMatching(/^[a-z0-9.@_-]{1,20}$/),
        )
        .filter((e) => e !== 'qa' && e !== 'prod' && e !== 'status');
      const product = fc.oneof(
        fc.constant('fuzz'),
        fc.stringMatching(/^[a-z0-9]{1,12}$/).filter((p) => p !== 'digest' && p !== 'help'),
      );
      await fuzz(
        { file: FILE, test: envs },
        fc.asyncProperty(product, env, async (name, wanted) => {
          // Prepare
          const before = footprint();
          // Act
          const answer = await world.slack.slashCommand(
            'U0ALICE',
            SANDBOX_CHANNELS.releases,
            '/release',
            `${name} ${wanted}`,
          );
          await world.settle();
          // Assess
          const opened = world.slack.openViews('U0ALICE');
          world.slack.workspace.clearViews('U0ALICE');
          expect(answer.status).toBe(200);
          expect(opened).toEqual([]);
          // `fuzz` has pipelines and names the env it lacks; another name may be no product at all.
          const refusal =
            name === 'fuzz'
              ? expect.stringContaining(`has no env \`${wanted}\``)
              : expect.stringMatching(/has no env|There is no product/);
          expect(answer.ephemerals.map((e) => e.text)).toEqual([refusal]);
          expect(
            world.slack
              .calls()
              .slice(before.slackCalls)
              .map((c) => c.method),
          ).not.toContain('views.open');
          expect(
            logs
              .since(before.log)
              .filter((l) => l.level === 'ERROR')
              .map((l) => l.json),
          ).toEqual([]);
        }),
      );
    },
    timeoutFor(150),
  );
});

// Last: Bolt logs a late "not acknowledged" error 3 s after a request it failed, which a later case would see.
describe('signed bodies of any shape, fuzzed', () => {
  const shapes = 'answers signed bodies of any shape without a 5xx, a decision or a message';
  it(
    shapes,
    async () => {
      await fuzz(
        { file: FILE, test: shapes },
        fc.asyncProperty(anyShapeBody, async (body) => {
          // Prepare
          const before = footprint();
          // Act
          const answer = await signed(body);
          await world.settle();
          // Assess: answered (a 4xx for what Slack never sends) …
          expect(answer.status).toBeLessThan(500);
          // … and nothing decided, no message posted or changed.
          expect(world.emulator.calls('PutApprovalResult').length).toBe(before.decisions);
          expect(unwantedSlackCalls(before.slackCalls, { modals: true })).toEqual([]);
        }),
      );
    },
    timeoutFor(150),
  );
});
