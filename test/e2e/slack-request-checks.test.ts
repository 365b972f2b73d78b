import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { FunctionUrlEvent } from '../../app/inbound/slack.ts';
import { ids } from '../../app/views/ids.ts';
import { signSlackRequest } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  auditCount,
  clickBody,
  currentMessage,
  pipelineWaitsForApproval,
  type WaitingApproval,
} from '../support/world-helpers.ts';

// Warnings are what these tests read; debug chatter would only bury them.
process.env.POWERTOOLS_LOG_LEVEL = 'WARN';

const FORM = 'application/x-www-form-urlencoded';
const DAY_S = 24 * 60 * 60;

let world: World;
let stdout: MockInstance<typeof process.stdout.write>;
let stderr: MockInstance<typeof process.stderr.write>;
let approval: WaitingApproval;
const written: string[] = [];

/** Powertools writes one JSON line per log call to stdout or stderr: both are kept, off the test output. */
function capture(chunk: unknown): boolean {
  written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
  return true;
}

beforeAll(async () => {
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  world = await startWorld();
  approval = await pipelineWaitsForApproval(world, 'checks-target');
});

afterAll(async () => {
  await world?.close();
  stdout?.mockRestore();
  stderr?.mockRestore();
});

const secret = () => process.env.SLACK_SIGNING_SECRET ?? '';
const nowS = () => Math.floor(Date.now() / 1000);

/** POSTs `body` to the app's Request URL, signed with the right secret over `signedTimestamp`. */
async function post(
  body: string,
  options: { contentType?: string; timestamp?: string; signedTimestamp?: string } = {},
): Promise<{ status: number; body: string }> {
  const timestamp = options.timestamp ?? String(nowS());
  const response = await fetch(world.appUrl, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? FORM,
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signSlackRequest(secret(), options.signedTimestamp ?? timestamp, body),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

/** Everything a request that is refused must leave as it was. */
async function footprint(since: Date) {
  return {
    codePipelineCalls: world.emulator.calls().length,
    audit: await auditCount([approval.approvalId], since),
    message: currentMessage(world, approval),
    slackCalls: world.slack.calls().length,
  };
}

/** Log lines (one JSON object per write) written since `from`. */
const logLines = (from: number) =>
  written.slice(from).flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('request timestamps', () => {
  it('refuses a correctly signed request stamped a day in the future, and changes nothing', async () => {
    // Prepare
    const since = new Date();
    const before = await footprint(since);
    const body = clickBody(world, 'U0ALICE', approval.message, ids.approve);
    // Act
    const future = await post(body, { timestamp: String(nowS() + DAY_S) });
    const justOver = await post(body, { timestamp: String(nowS() + 6 * 60) });
    // Assess
    expect([future.status, justOver.status]).toEqual([401, 401]);
    expect(await footprint(since)).toEqual(before);
  });

  it.each([
    ['with a decimal point', (s: number) => `${s}.0`],
    ['in exponent notation', (s: number) => `${s}e0`],
    ['in hexadecimal', (s: number) => `0x${s.toString(16)}`],
    ['with a plus sign', (s: number) => `+${s}`],
  ])('refuses a timestamp %s, however it was signed', async (_, write) => {
    // Prepare
    const since = new Date();
    const before = await footprint(since);
    const body = clickBody(world, 'U0ALICE', approval.message, ids.approve);
    const timestamp = write(nowS());
    // Act: signed over the header as sent, and over the number it stands for
    const asSent = await post(body, { timestamp });
    const asNumber = await post(body, { timestamp, signedTimestamp: String(Number(timestamp)) });
    // Assess
    expect([asSent.status, asNumber.status]).toEqual([401, 401]);
    expect(await footprint(since)).toEqual(before);
  });

  it('refuses a timestamp with a leading space, which only a Function URL event can carry (HTTP trims it)', async () => {
    // Prepare
    const body = clickBody(world, 'U0ALICE', approval.message, ids.approve);
    const seconds = nowS();
    const event = {
      version: '2.0',
      rawPath: '/slack/events',
      headers: {
        'content-type': FORM,
        'x-slack-request-timestamp': ` ${seconds}`,
        'x-slack-signature': signSlackRequest(secret(), seconds, body),
      },
      body,
      isBase64Encoded: false,
    } as unknown as FunctionUrlEvent;
    // Act
    const answer = await world.handlers.slackEvents(event, {} as Context);
    // Assess
    expect(answer.statusCode).toBe(401);
  });

  it('takes a request stamped a minute ahead, as from a clock that runs fast', async () => {
    // Prepare
    const target = await pipelineWaitsForApproval(world, 'checks-fast-clock');
    const body = clickBody(world, 'U0ALICE', target.message, ids.approve);
    // Act
    const answer = await post(body, { timestamp: String(nowS() + 60) });
    await world.settle();
    // Assess
    expect(answer.status).toBe(200);
    expect(
      world.emulator.calls('PutApprovalResult').filter((c) => c.input.pipelineName === 'checks-fast-clock'),
    ).toEqual([expect.objectContaining({ ok: true })]);
  });
});

describe('signed bodies that are not a Slack request Greenlight takes', () => {
  const payload = (value: unknown) => `payload=${encodeURIComponent(JSON.stringify(value))}`;
  const cases = [
    { what: 'a form whose payload is not JSON', body: 'payload=%7Bnot%20json', contentType: FORM },
    { what: 'JSON that does not parse', body: '{not json', contentType: 'application/json' },
    { what: 'text that is not JSON', body: 'approve everything', contentType: 'text/plain' },
    { what: 'an empty JSON body', body: '', contentType: 'application/json' },
    { what: 'a payload of null', body: payload(null), contentType: FORM },
    { what: 'a payload that is a list', body: payload([]), contentType: FORM },
    {
      what: 'a view submission without a view or a user',
      body: payload({ type: 'view_submission' }),
      contentType: FORM,
    },
    {
      what: 'a button click whose actions are not a list',
      body: payload({ type: 'block_actions', user: { id: 'U0ALICE' }, actions: 5 }),
      contentType: FORM,
    },
    {
      what: 'a button click with a null channel',
      body: payload({ type: 'block_actions', user: { id: 'U0ALICE' }, channel: null, actions: [{ action_id: 'x' }] }),
      contentType: FORM,
    },
    {
      what: 'a button click from a team whose id is no Slack id',
      body: payload({
        type: 'block_actions',
        user: { id: 'U0ALICE' },
        team: { id: '__proto__' },
        actions: [{ action_id: ids.approve }],
      }),
      contentType: FORM,
    },
    { what: 'a slash command without its text', body: 'command=%2Frelease&user_id=U0ALICE', contentType: FORM },
    {
      what: 'a slash command from a team whose id is no Slack id',
      body: new URLSearchParams({
        command: '/release',
        text: 'help',
        user_id: 'U0ALICE',
        team_id: '__proto__',
        channel_id: 'C0APPROVALS',
        trigger_id: '1.2',
        response_url: 'https://hooks.slack.com/commands/T0GREENLT/1/x',
      }).toString(),
      contentType: FORM,
    },
    { what: 'an empty form', body: '', contentType: FORM },
    {
      what: 'a click sent with a content type the receiver does not read as a form',
      body: 'payload=%7B%7D',
      contentType: `${FORM}; charset=utf-8`,
    },
  ];

  it.each(cases)('answers $what with 400 and a warning, and changes nothing', async ({ body, contentType }) => {
    // Prepare
    const since = new Date();
    const before = await footprint(since);
    const from = written.length;
    // Act
    const answer = await post(body, { contentType });
    // Assess: a quiet 400, never a Lambda error (which would alarm) …
    expect(answer).toEqual({ status: 400, body: '' });
    expect(await footprint(since)).toEqual(before);
    // … one structured warning that says where and why, and never what was sent
    const lines = logLines(from);
    expect(lines.filter((line) => line.level === 'ERROR')).toEqual([]);
    const warnings = lines.filter((line) => line.level === 'WARN');
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'Refused a signed Slack request that Greenlight cannot read',
        path: '/slack/events',
        contentType,
        problem: expect.any(String),
      }),
    ]);
    if (body.length > 3) expect(JSON.stringify(warnings)).not.toContain(body);
  });
});
