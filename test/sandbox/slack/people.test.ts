import { createHmac } from 'node:crypto';
import { isValidSlackRequest } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { type SlackSimulator, signSlackRequest, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { approvalMessage, botToken, manualClock, recordingApp, signingSecret, webClient } from './helpers.ts';

let sim: SlackSimulator | undefined;

afterEach(() => sim?.close());

async function world(options: { answer?: Parameters<typeof recordingApp>[0]; clock?: () => Date } = {}) {
  const app = recordingApp(options.answer);
  sim = await startSlackSimulator({
    botToken,
    signingSecret,
    verificationToken: 'legacy-token',
    deliver: app.deliver,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const client = webClient(sim);
  const posted = await client.chat.postMessage(approvalMessage());
  return { sim, app, client, ts: String(posted.ts) };
}

const respond = (url: string, body: Record<string, unknown>) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('signSlackRequest', () => {
  it('computes Slack v0 signatures', () => {
    // Prepare
    const body = 'payload=%7B%7D';
    // Act
    const signature = signSlackRequest('secret', 1732230000, body);
    // Assess
    const expected = createHmac('sha256', 'secret').update(`v0:1732230000:${body}`).digest('hex');
    expect(signature).toBe(`v0=${expected}`);
  });
});

describe('click', () => {
  it('sends a signed, form-encoded block_actions request as Slack does', async () => {
    // Prepare
    const time = manualClock(Date.parse('2025-11-21T09:00:00Z'));
    const { sim, app, ts } = await world({ clock: time.clock });
    // Act
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    // Assess
    const [request] = app.requests;
    expect(request?.path).toBe('/slack/events');
    expect(request?.headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': '1763715600',
      'x-slack-signature': expect.stringMatching(/^v0=[0-9a-f]{64}$/),
    });
    const expected = createHmac('sha256', signingSecret).update(`v0:1763715600:${request?.body}`).digest('hex');
    expect(request?.headers['x-slack-signature']).toBe(`v0=${expected}`);
    expect(request?.body.startsWith('payload=')).toBe(true);
  });

  it('passes Bolt’s own signature check', async () => {
    // Prepare
    const { sim, app, ts } = await world();
    // Act
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    // Assess
    const request = app.requests[0];
    expect(
      isValidSlackRequest({
        signingSecret,
        body: request?.body ?? '',
        headers: {
          'x-slack-signature': request?.headers['x-slack-signature'] ?? '',
          'x-slack-request-timestamp': Number(request?.headers['x-slack-request-timestamp']),
        },
      }),
    ).toBe(true);
  });

  it('describes the click the way Slack’s block_actions payload does', async () => {
    // Prepare
    const { sim, app, ts } = await world();
    // Act
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'reject');
    // Assess
    expect(app.lastPayload()).toEqual({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0GREENLT' },
      api_app_id: 'A0GREENLT',
      token: 'legacy-token',
      container: { type: 'message', message_ts: ts, channel_id: 'C0APPROVALS', is_ephemeral: false },
      trigger_id: expect.stringMatching(/^\d+\.\d+\.[0-9a-f]+$/),
      team: { id: 'T0GREENLT', domain: 'acme' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: 'C0APPROVALS', name: 'approvals' },
      message: expect.objectContaining({
        type: 'message',
        ts,
        user: 'U0GREENBOT',
        bot_id: 'B0GREENBOT',
        text: approvalMessage().text,
        blocks: approvalMessage().blocks,
      }),
      state: { values: {} },
      response_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/actions\/T0GREENLT\/\d+\/[0-9a-f]+$/),
      actions: [
        {
          action_id: 'reject',
          block_id: 'decision',
          text: { type: 'plain_text', text: 'Reject' },
          value: 'shop-cart/StagingDEV/1',
          style: 'danger',
          type: 'button',
          action_ts: expect.stringMatching(/^\d+\.\d{6}$/),
        },
      ],
    });
  });

  it('sends a tampered value when told to, and refuses buttons that are not there', async () => {
    // Prepare
    const { sim, app, ts } = await world();
    // Act
    await sim.click('U0BOB', 'C0APPROVALS', ts, 'approve', { value: 'shop-cart/StagingQA/9' });
    // Assess
    expect(app.lastPayload()).toMatchObject({ actions: [{ action_id: 'approve', value: 'shop-cart/StagingQA/9' }] });
    await expect(sim.click('U0BOB', 'C0APPROVALS', ts, 'escalate')).rejects.toThrow(/no button escalate/);
  });

  it('reports a failing app as Slack would show it', async () => {
    // Prepare
    const { sim, ts } = await world({ answer: () => ({ status: 401, body: '' }) });
    // Act
    const result = await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    // Assess
    expect(result).toMatchObject({ sent: true, status: 401, displayError: 'The app answered HTTP 401.' });
  });

  it('clicks buttons on ephemeral messages, which Slack sends without the message', async () => {
    // Prepare
    const { sim, app, client } = await world();
    const { message_ts: ephemeralTs } = await client.chat.postEphemeral({ ...approvalMessage(), user: 'U0CAROL' });
    // Act
    await sim.click('U0CAROL', 'C0APPROVALS', String(ephemeralTs), 'approve');
    // Assess
    const payload = app.lastPayload();
    expect(payload.container).toEqual({
      type: 'message',
      message_ts: ephemeralTs,
      channel_id: 'C0APPROVALS',
      is_ephemeral: true,
    });
    expect(payload).not.toHaveProperty('message');
  });
});

describe('response_url', () => {
  it('replaces the clicked message, answers privately by default and publicly when asked', async () => {
    // Prepare
    const { sim, app, ts } = await world();
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    const url = String(app.lastPayload().response_url);
    // Act
    const replaced = await respond(url, { replace_original: true, text: 'Approved by alice' });
    await respond(url, { text: 'You approved it' });
    await respond(url, { response_type: 'in_channel', text: 'shop-cart is on its way' });
    // Assess
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual({ ok: true });
    expect(sim.messages('C0APPROVALS').map((message) => [message.ts === ts, message.text, message.blocks])).toEqual([
      [true, 'Approved by alice', undefined],
      [false, 'shop-cart is on its way', undefined],
    ]);
    expect(sim.ephemerals('C0APPROVALS', 'U0ALICE')).toEqual([
      expect.objectContaining({ text: 'You approved it', source: 'response_url' }),
    ]);
    expect(sim.calls('response_url')).toHaveLength(3);
  });

  it('replaces an ephemeral message the button was on', async () => {
    // Prepare
    const { sim, app, client } = await world();
    const { message_ts: ephemeralTs } = await client.chat.postEphemeral({ ...approvalMessage(), user: 'U0CAROL' });
    await sim.click('U0CAROL', 'C0APPROVALS', String(ephemeralTs), 'approve');
    // Act
    await respond(String(app.lastPayload().response_url), { replace_original: true, text: 'Done' });
    // Assess
    expect(sim.ephemerals('C0APPROVALS', 'U0CAROL')).toEqual([
      expect.objectContaining({ ts: ephemeralTs, text: 'Done', source: 'chat.postEphemeral' }),
    ]);
    expect(sim.ephemerals('C0APPROVALS', 'U0CAROL')[0]).not.toHaveProperty('blocks');
  });

  it('deletes the clicked message', async () => {
    // Prepare
    const { sim, app, ts } = await world();
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    // Act
    await respond(String(app.lastPayload().response_url), { delete_original: true });
    // Assess
    expect(sim.messages('C0APPROVALS')).toEqual([]);
  });

  it('answers five times, then used_url; after 30 minutes, expired_url', async () => {
    // Prepare
    const time = manualClock();
    const { sim, app, ts } = await world({ clock: time.clock });
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    const worn = String(app.lastPayload().response_url);
    await sim.click('U0ALICE', 'C0APPROVALS', ts, 'approve');
    const old = String(app.lastPayload().response_url);
    // Act
    const uses = [];
    for (let use = 0; use < 6; use++) uses.push(await respond(worn, { text: `answer ${use}` }));
    time.advance(30 * 60_000 + 1);
    const late = await respond(old, { text: 'too late' });
    // Assess
    expect(uses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 404]);
    expect(await uses[5]?.json()).toEqual({ ok: false, error: 'used_url' });
    expect(late.status).toBe(404);
    expect(await late.json()).toEqual({ ok: false, error: 'expired_url' });
  });
});

describe('slashCommand', () => {
  it('sends the form fields Slack sends for a command', async () => {
    // Prepare
    const { sim, app } = await world();
    // Act
    await sim.slashCommand('U0DAVE', 'C0RELEASES', '/release', 'shop prod');
    // Assess
    const form = new URLSearchParams(app.requests[0]?.body);
    expect([...form.keys()]).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(Object.fromEntries(form)).toMatchObject({
      token: 'legacy-token',
      team_id: 'T0GREENLT',
      team_domain: 'acme',
      channel_id: 'C0RELEASES',
      channel_name: 'releases',
      user_id: 'U0DAVE',
      user_name: 'dave',
      command: '/release',
      text: 'shop prod',
      api_app_id: 'A0GREENLT',
      is_enterprise_install: 'false',
    });
    expect(app.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('shows an immediate text answer to the person only', async () => {
    // Prepare
    const { sim } = await world({ answer: () => ({ status: 200, body: 'Usage: /release <product> <env>' }) });
    // Act
    const result = await sim.slashCommand('U0DAVE', 'C0RELEASES', '/release', '');
    // Assess
    expect(result.ephemerals).toEqual([
      expect.objectContaining({
        channel: 'C0RELEASES',
        user: 'U0DAVE',
        text: 'Usage: /release <product> <env>',
        source: 'command_response',
      }),
    ]);
    expect(sim.messages('C0RELEASES')).toEqual([]);
  });

  it('shows an in_channel JSON answer to everyone, with the command that asked for it', async () => {
    // Prepare
    const answer = { response_type: 'in_channel', text: 'Releasing shop to prod' };
    const { sim } = await world({
      answer: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) }),
    });
    // Act
    await sim.slashCommand('U0DAVE', 'C0RELEASES', '/release', 'shop prod');
    // Assess
    expect(sim.messages('C0RELEASES').map((message) => [message.user, message.text])).toEqual([
      ['U0DAVE', '/release shop prod'],
      ['U0GREENBOT', 'Releasing shop to prod'],
    ]);
  });

  it('shows nothing for an empty acknowledgement', async () => {
    // Prepare
    const { sim } = await world();
    // Act
    const result = await sim.slashCommand('U0DAVE', 'C0RELEASES', '/release', 'shop qa');
    // Assess
    expect(result).toMatchObject({ sent: true, status: 200, ephemerals: [] });
    expect(result.displayError).toBeUndefined();
  });
});
