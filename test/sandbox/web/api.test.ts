import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../../app/views/ids.ts';
import type { OpenView, SlackMessage } from '../../../sandbox/slack/index.ts';
import type { ActResult, BoardView, CommitResult } from '../../../sandbox/web/control.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { approvalFor, eventually, jsonApi, textOf } from './helpers.ts';

/**
 * The scripting API without a browser: everything the page does, a script can do with HTTP and JSON.
 * One sandbox for the file (the handlers read their settings once per process); each story uses
 * its own pipeline so the stories do not depend on one another.
 */

let sandbox: Sandbox;
let api: ReturnType<typeof jsonApi>;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  sandbox = await startSandbox({ port: 0, actionDelayMs: 0 });
  api = jsonApi(`http://127.0.0.1:${sandbox.web.port}`);
});

afterAll(async () => {
  await sandbox?.close();
});

type Messages = { channel: string; messages: SlackMessage[]; ephemerals?: Array<{ text: string; user: string }> };

async function approvalMessage(pipelineName: string, stageName = 'StagingDEV'): Promise<SlackMessage> {
  await api.post('/api/settle');
  const { json } = await api.get<Messages>('/api/channels/approvals/messages');
  const message = approvalFor(json.messages, pipelineName, stageName);
  if (!message) throw new Error(`No approval message for ${pipelineName} › ${stageName}`);
  return message;
}

function stateOf(board: BoardView, pipelineName: string, stageName: string) {
  const row = board.products.flatMap((p) => p.pipelines).find((p) => p.pipelineName === pipelineName);
  return row?.stages.find((s) => s.stageName === stageName);
}

describe('sandbox JSON API', () => {
  it('lists the people, channels and the demo products', async () => {
    // Act
    const channels = await api.get<{ channels: Array<{ id: string; name: string }> }>('/api/channels');
    const people = await api.get<{ people: Array<{ name: string }> }>('/api/people');
    const board = await api.get<BoardView>('/api/board');

    // Assess
    expect(channels.json.channels.map((c) => c.name)).toEqual(['approvals', 'releases', 'delivery-digest']);
    expect(people.json.people.map((p) => p.name)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(board.json.stageNames).toEqual(['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD']);
    expect(board.json.products.map((p) => [p.product, p.pipelines.map((row) => row.service)])).toEqual([
      ['shop', ['cart', 'catalog', 'payments']],
      ['blog', ['api', 'web']],
      ['orders', ['api']],
      ['data', ['ingest', 'reports']],
    ]);
    // data lives in the sandbox's second AWS account (sandbox/demo-policy.ts), and the board says where.
    expect(board.json.products.find((p) => p.product === 'data')).toMatchObject({
      account: '444455556666',
      region: 'eu-west-1',
    });
    expect(board.json.products.find((p) => p.product === 'shop')?.account).toBeUndefined();
  });

  it('commits, shows the approval in #approvals, and approves it as a person', async () => {
    // Prepare
    const commit = await api.post<CommitResult>('/api/pipelines/shop-cart/commit');
    const message = await approvalMessage('shop-cart');

    // Act
    const click = await api.post<ActResult>('/api/act/click', {
      user: 'alice',
      channel: 'approvals',
      ts: message.ts,
      actionId: ids.approve,
    });
    await api.post('/api/settle');
    const board = await api.get<BoardView>('/api/board');

    // Assess
    expect(commit).toMatchObject({ status: 201, json: { pipelineName: 'shop-cart', revisionId: 'c1' } });
    expect(click.status).toBe(200);
    expect(click.json).toMatchObject({ sent: true, status: 200 });
    expect(textOf(click.json.message)).toContain('Approved');
    expect(textOf(click.json.message)).toContain('<@U0ALICE>');
    expect(stateOf(board.json, 'shop-cart', 'StagingDEV')).toMatchObject({ revisionId: 'c1', state: 'succeeded' });
    expect(stateOf(board.json, 'shop-cart', 'StagingQA')).toMatchObject({
      revisionId: 'c1',
      state: 'awaiting-approval',
    });
    expect(stateOf(board.json, 'shop-cart', 'StagingQA')?.approvalExpiresAt).toMatch(/^\d{4}-/);
  });

  it('rejects with a reason through the modal, after the required field and the app refuse empty ones', async () => {
    // Prepare
    await api.post('/api/pipelines/shop-catalog/commit', { revision: 'abc1234' });
    const message = await approvalMessage('shop-catalog');
    const opened = await api.post<ActResult>('/api/act/click', {
      user: 'U0BOB',
      channel: 'C0APPROVALS',
      ts: message.ts,
      actionId: ids.reject,
    });
    const viewId = opened.json.views.at(-1)?.view.id;

    // Act
    const empty = await api.post<ActResult>('/api/act/submit', { user: 'bob', viewId, values: {} });
    const blank = await api.post<ActResult>('/api/act/submit', { user: 'bob', viewId, values: { reason: '   ' } });
    const reasoned = await api.post<ActResult>('/api/act/submit', {
      user: 'bob',
      viewId,
      values: { reason: 'Checkout fails on DEV' },
    });
    const after = await api.get<Messages>('/api/channels/approvals/messages');
    const views = await api.get<{ views: OpenView[] }>('/api/views?user=bob');

    // Assess
    expect(viewId).toMatch(/^V/);
    expect(empty.json.sent).toBe(false);
    expect(empty.json.views.at(-1)?.errors).toEqual({ reason: 'Please complete this required field.' });
    expect(blank.json.sent).toBe(true);
    expect(blank.json.views.at(-1)?.errors.reason).toMatch(/say why/i);
    expect(reasoned.json).toMatchObject({ sent: true, status: 200, views: [] });
    expect(views.json.views).toEqual([]);
    const decided = after.json.messages.find((m) => m.ts === message.ts);
    expect(textOf(decided)).toContain('Rejected');
    expect(textOf(decided)).toContain('Checkout fails on DEV');
  });

  it('tells only the person whose decision came too late', async () => {
    // Prepare: Carol opens the reject modal; meanwhile Dave approves.
    await api.post('/api/pipelines/blog-web/commit');
    const message = await approvalMessage('blog-web');
    const opened = await api.post<ActResult>('/api/act/click', {
      user: 'carol',
      channel: 'approvals',
      ts: message.ts,
      actionId: ids.reject,
    });
    await api.post('/api/act/click', { user: 'dave', channel: 'approvals', ts: message.ts, actionId: ids.approve });

    // Act
    const late = await api.post<ActResult>('/api/act/submit', {
      user: 'carol',
      viewId: opened.json.views.at(-1)?.view.id,
      values: { reason: 'Not yet' },
    });
    const forCarol = await api.get<Messages>('/api/channels/approvals/messages?user=carol');
    const forDave = await api.get<Messages>('/api/channels/approvals/messages?user=dave');

    // Assess
    expect(late.json.ephemerals.map((e) => e.text).join('\n')).toMatch(/already approved by <@U0DAVE>/);
    expect(forCarol.json.ephemerals?.some((e) => /already approved/.test(e.text))).toBe(true);
    expect(forDave.json.ephemerals?.some((e) => /already approved/.test(e.text))).toBe(false);
    expect(textOf(forCarol.json.messages.find((m) => m.ts === message.ts))).toContain('Approved');
  });

  it('runs a slash command as a person', async () => {
    // Act
    const answer = await api.post<ActResult>('/api/act/command', {
      user: 'alice',
      channel: 'releases',
      command: '/release',
      text: 'help',
    });

    // Assess
    expect(answer.json).toMatchObject({ sent: true, status: 200 });
    expect(answer.json.ephemerals.length + answer.json.views.length).toBeGreaterThan(0);
  });

  it('lets pipeline time pass until a waiting approval expires', async () => {
    // Prepare
    await api.post('/api/pipelines/blog-api/commit');
    await approvalMessage('blog-api');

    // Act
    const clock = await api.post<{ now: string; clockOffsetMs: number }>('/api/clock', { days: 8 });
    const board = await api.get<BoardView>('/api/board');
    const pending = await api.get<{ approvals: Array<{ pipelineName: string; token?: string }> }>('/api/approvals');

    // Assess
    expect(clock.json.clockOffsetMs).toBeGreaterThanOrEqual(8 * 24 * 3600 * 1000 - 1000);
    expect(stateOf(board.json, 'blog-api', 'StagingDEV')?.state).toBe('failed');
    expect(pending.json.approvals.some((a) => a.pipelineName === 'blog-api')).toBe(false);
    expect(pending.json.approvals.every((a) => a.token === undefined)).toBe(true);
  });

  it('runs the reminder schedule on request and says what it did', async () => {
    // Act
    const run = await api.post<{
      due: number;
      reminded: number;
      alreadyReminded: number;
      staleClaims: { stale: number; queued: number };
      unposted: { unposted: number; queued: number };
      reconciled: { checked: number; closed: number };
    }>('/api/reminders');
    // Assess: the handler's own answer, not an empty object; what was due was reminded now or before
    expect(run.status).toBe(200);
    expect(run.json).toEqual({
      due: expect.any(Number),
      reminded: expect.any(Number),
      alreadyReminded: expect.any(Number),
      staleClaims: { stale: 0, queued: 0 },
      unposted: { unposted: 0, queued: 0 },
      reconciled: { checked: expect.any(Number), closed: 0 },
    });
    expect(run.json.reminded + run.json.alreadyReminded).toBe(run.json.due);
  });

  it('makes the next deploy fail on request', async () => {
    // Prepare
    const fault = await api.post('/api/pipelines/shop-payments/fail-next', { stage: 'StagingDEV', action: 'Deploy' });

    // Act
    await api.post('/api/pipelines/shop-payments/commit');
    await api.post('/api/settle');
    const board = await api.get<BoardView>('/api/board');

    // Assess
    expect(fault.status).toBe(200);
    expect(stateOf(board.json, 'shop-payments', 'StagingDEV')).toMatchObject({ revisionId: 'c1', state: 'failed' });
  });

  it('streams a snapshot, then Slack and board changes, as server-sent events', async () => {
    // Prepare
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${sandbox.web.port}/api/events`, { signal: abort.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    const seen = (event: string) =>
      eventually(
        async () => {
          if (received.includes(`event: ${event}\n`)) return true;
          const { value } = await reader.read();
          received += decoder.decode(value, { stream: true });
          return received.includes(`event: ${event}\n`) || undefined;
        },
        { what: `a "${event}" event`, intervalMs: 0 },
      );

    // Act
    await seen('snapshot');
    await api.post('/api/act/message', { user: 'dave', channel: 'releases', text: 'shipping today?' });
    await seen('slack');
    await api.post('/api/clock', { hours: 1 });
    await seen('board');
    abort.abort();

    // Assess
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(received).toMatch(/event: snapshot\ndata: \{"team"/);
    expect(received).toContain('"type":"message_posted"');
    expect(received).toContain('shipping today?');
  });

  it('answers mistakes with 4xx and a message that says what is wrong', async () => {
    // Act
    const nobody = await api.post('/api/act/click', { user: 'mallory', channel: 'approvals', ts: '1', actionId: 'x' });
    const noPipeline = await api.post('/api/pipelines/nope/commit');
    const notJson = await api.post('/api/act/message', 'not json');
    const notTyped = await fetch(`http://127.0.0.1:${sandbox.web.port}/api/clock`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ days: 1 }),
    });
    const noButton = await api.post('/api/act/click', {
      user: 'alice',
      channel: 'approvals',
      ts: '1.0',
      actionId: 'x',
    });
    const nowhere = await api.get('/api/nothing');

    // Assess
    expect(nobody).toMatchObject({ status: 400, json: { error: expect.stringContaining('mallory') } });
    expect(noPipeline).toMatchObject({ status: 404, json: { error: expect.stringContaining('nope') } });
    expect(notJson).toMatchObject({ status: 400, json: { error: expect.stringContaining('JSON') } });
    expect(notTyped.status).toBe(415);
    expect(noButton.status).toBe(409);
    expect(nowhere.status).toBe(404);
  });

  it('lists every endpoint at GET /api, the event stream and shared files included', async () => {
    // Act
    const { json } = await api.get<{ endpoints: string[] }>('/api');
    // Assess: each endpoint docs/sandbox.md names is listed by its method and path
    const listed = json.endpoints.map((help) => help.split(/\s+/).slice(0, 2).join(' '));
    for (const endpoint of ['GET /api/state', 'GET /api/events', 'GET /api/files/:id', 'POST /api/act/click'])
      expect(listed).toContain(endpoint);
    expect(json.endpoints.find((help) => help.startsWith('POST /api/pipelines/:pipeline/commit'))).toContain(
      'replacement?',
    );
  });

  it('serves the page and its scripts', async () => {
    // Act
    const page = await fetch(`http://127.0.0.1:${sandbox.web.port}/`);
    const script = await fetch(`http://127.0.0.1:${sandbox.web.port}/app.js`);

    // Assess
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>Greenlight sandbox</title>');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});
