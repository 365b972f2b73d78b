import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackSimulator, startSlackSimulator, type WorkspaceEvent } from '../../../sandbox/slack/index.ts';
import { botToken, signingSecret, silentLogger, webClient } from './helpers.ts';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

let sim: SlackSimulator;
let client: webApi.WebClient;

beforeEach(async () => {
  sim = await startSlackSimulator({ botToken, signingSecret });
  client = webClient(sim);
});

afterEach(() => sim.close());

describe('identity', () => {
  it('answers auth.test as the Greenlight bot of the Acme workspace', async () => {
    // Act
    const identity = await client.auth.test();
    // Assess
    expect(identity).toMatchObject({
      ok: true,
      url: 'https://acme.slack.com/',
      team: 'Acme',
      team_id: 'T0GREENLT',
      user_id: 'U0GREENBOT',
      bot_id: 'B0GREENBOT',
    });
    expect(sim.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it('refuses a wrong token and a missing one', async () => {
    // Prepare
    const options = { slackApiUrl: sim.apiUrl, retryConfig: { retries: 0 }, logger: silentLogger };
    const wrong = new webApi.WebClient('xoxb-wrong', options);
    const anonymous = new webApi.WebClient(undefined, options);
    // Act & Assess
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
  });
});

describe('chat.postMessage', () => {
  it('posts a message with blocks and metadata, giving blocks without an id a generated block_id', async () => {
    // Prepare
    const blocks = [section('*shop-cart* › StagingDEV'), { ...section('Revision abc123'), block_id: 'revision' }];
    const metadata = { event_type: 'approval_requested', event_payload: { approval_id: 'shop-cart/StagingDEV/1' } };
    // Act
    const first = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'Approval needed', blocks, metadata });
    const second = await client.chat.postMessage({ channel: '#approvals', text: 'Another' });
    // Assess
    expect(first).toMatchObject({ ok: true, channel: 'C0APPROVALS', ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    expect(first.message).toMatchObject({
      type: 'message',
      user: 'U0GREENBOT',
      bot_id: 'B0GREENBOT',
      text: 'Approval needed',
    });
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    const [stored] = sim.messages('C0APPROVALS');
    expect(stored?.metadata).toEqual(metadata);
    expect(stored?.blocks?.[0]?.block_id).toEqual(expect.any(String));
    expect(stored?.blocks?.[1]?.block_id).toBe('revision');
  });

  it('files replies under their thread and keeps them out of the channel history', async () => {
    // Prepare
    const parent = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'Approval needed' });
    if (!parent.ts) throw new Error('The parent message has no ts');
    // Act
    const reply = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'Approved by alice',
      thread_ts: parent.ts,
    });
    // Assess
    expect(reply.message?.thread_ts).toBe(parent.ts);
    const history = await client.conversations.history({ channel: 'C0APPROVALS' });
    expect(history.messages?.map((message) => message.text)).toEqual(['Approval needed']);
    expect(history.messages?.[0]).toMatchObject({ reply_count: 1, latest_reply: reply.ts });
    const thread = await client.conversations.replies({ channel: 'C0APPROVALS', ts: String(parent.ts) });
    expect(thread.messages?.map((message) => message.text)).toEqual(['Approval needed', 'Approved by alice']);
  });

  it.each([
    ['channel_not_found', { channel: 'C0NOWHERE', text: 'hi' }],
    ['not_in_channel', { channel: 'C0QUIET', text: 'hi' }],
    ['channel_not_found', { channel: 'C0SECRET', text: 'hi' }],
    ['no_text', { channel: 'C0APPROVALS', text: '' }],
    ['invalid_blocks', { channel: 'C0APPROVALS', text: 'hi', blocks: Array.from({ length: 51 }, () => section('x')) }],
    ['invalid_blocks', { channel: 'C0APPROVALS', text: 'hi', blocks: [section('x'.repeat(3001))] }],
    ['invalid_metadata_format', { channel: 'C0APPROVALS', text: 'hi', metadata: { event_payload: {} } }],
  ])('answers %s', async (error, args) => {
    // Prepare
    sim.workspace.addChannel({ id: 'C0QUIET', name: 'quiet', botMember: false });
    sim.workspace.addChannel({ id: 'C0SECRET', name: 'secret', botMember: false, isPrivate: true });
    // Act
    const posting = client.chat.postMessage(args as Parameters<typeof client.chat.postMessage>[0]);
    // Assess
    await expect(posting).rejects.toMatchObject({ code: 'slack_webapi_platform_error', data: { ok: false, error } });
    expect(sim.messages('C0APPROVALS')).toEqual([]);
  });

  it('says where a block breaks a limit, as Slack does', async () => {
    // Act
    const posting = client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'hi',
      blocks: [section('x'.repeat(3001))],
    });
    // Assess
    await expect(posting).rejects.toMatchObject({
      data: {
        response_metadata: {
          messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
        },
      },
    });
  });

  it('accepts JSON bodies as well as the WebClient form bodies', async () => {
    // Act
    const response = await fetch(`${sim.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${botToken}`, 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0RELEASES', text: 'Released', blocks: [section('shop → prod')] }),
    });
    // Assess
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C0RELEASES' });
    expect(sim.messages('C0RELEASES')[0]?.blocks?.[0]).toMatchObject(section('shop → prod'));
  });

  it('records each call with its JSON arguments decoded and tells listeners what changed', async () => {
    // Prepare
    const events: WorkspaceEvent[] = [];
    sim.onChange((event) => events.push(event));
    // Act
    await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'hi', blocks: [section('hello')] });
    // Assess
    expect(sim.calls('chat.postMessage')).toEqual([
      expect.objectContaining({
        args: expect.objectContaining({ channel: 'C0APPROVALS', blocks: [section('hello')] }),
        status: 200,
      }),
    ]);
    expect(sim.calls('chat.postMessage')[0]?.args).not.toHaveProperty('token');
    expect(events.map((event) => event.type)).toEqual(['message_posted', 'api_called']);
  });
});

describe('chat.update, chat.delete and chat.getPermalink', () => {
  it('replaces text and blocks, keeps what was left out and marks the message edited', async () => {
    // Prepare
    const metadata = { event_type: 'approval_requested', event_payload: { id: 'a1' } };
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'Approval needed',
      blocks: [section('waiting')],
      metadata,
    });
    // Act
    const updated = await client.chat.update({
      channel: 'C0APPROVALS',
      ts: String(posted.ts),
      text: 'Approved',
      blocks: [section('approved by alice')],
    });
    // Assess
    expect(updated).toMatchObject({ ok: true, channel: 'C0APPROVALS', ts: posted.ts, text: 'Approved' });
    const [stored] = sim.messages('C0APPROVALS');
    expect(stored).toMatchObject({ text: 'Approved', metadata, edited: { user: 'U0GREENBOT' } });
    expect(stored?.blocks?.[0]).toMatchObject(section('approved by alice'));
  });

  it('refuses to update a message that does not exist or that a person wrote', async () => {
    // Prepare
    const human = sim.workspace.post('C0APPROVALS', { user: 'U0ALICE', text: 'hello' });
    // Act & Assess
    await expect(client.chat.update({ channel: 'C0APPROVALS', ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    await expect(client.chat.update({ channel: 'C0APPROVALS', ts: human.ts, text: 'x' })).rejects.toMatchObject({
      data: { error: 'cant_update_message' },
    });
  });

  it('deletes its own message', async () => {
    // Prepare
    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'oops' });
    // Act
    await client.chat.delete({ channel: 'C0APPROVALS', ts: String(posted.ts) });
    // Assess
    expect(sim.messages('C0APPROVALS')).toEqual([]);
  });

  it('links to a message like Slack permalinks do', async () => {
    // Prepare
    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'Approval needed' });
    // Act
    const link = await client.chat.getPermalink({ channel: 'C0APPROVALS', message_ts: String(posted.ts) });
    // Assess
    expect(link.permalink).toBe(`https://acme.slack.com/archives/C0APPROVALS/p${String(posted.ts).replace('.', '')}`);
  });
});

describe('chat.postEphemeral', () => {
  it('shows a message to one person in a channel', async () => {
    // Act
    const answer = await client.chat.postEphemeral({
      channel: 'C0APPROVALS',
      user: 'U0BOB',
      text: 'Only bob sees this',
    });
    // Assess
    expect(answer.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(sim.ephemerals('C0APPROVALS', 'U0BOB')).toEqual([
      expect.objectContaining({ ts: answer.message_ts, text: 'Only bob sees this', source: 'chat.postEphemeral' }),
    ]);
    expect(sim.ephemerals('C0APPROVALS', 'U0ALICE')).toEqual([]);
  });

  it('refuses people who are not in the channel or do not exist', async () => {
    // Prepare
    const outsider = sim.workspace.addUser({ name: 'erin' }, { channels: [] });
    // Act & Assess
    await expect(
      client.chat.postEphemeral({ channel: 'C0APPROVALS', user: outsider.id, text: 'x' }),
    ).rejects.toMatchObject({
      data: { error: 'user_not_in_channel' },
    });
    await expect(
      client.chat.postEphemeral({ channel: 'C0APPROVALS', user: 'U0NOBODY', text: 'x' }),
    ).rejects.toMatchObject({
      data: { error: 'user_not_found' },
    });
  });
});

describe('directory', () => {
  it('describes a person as users.info does', async () => {
    // Act
    const answer = await client.users.info({ user: 'U0ALICE' });
    // Assess
    expect(answer.user).toMatchObject({
      id: 'U0ALICE',
      team_id: 'T0GREENLT',
      name: 'alice',
      real_name: 'Alice Archer',
      tz: 'Europe/Berlin',
      profile: { display_name: 'alice', real_name: 'Alice Archer' },
    });
    await expect(client.users.info({ user: 'U0NOBODY' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
  });

  it('adds numbered people for crowd tests', () => {
    // Act
    const added = Array.from({ length: 3 }, () => sim.workspace.addUser());
    // Assess
    expect(added.map((person) => person.id)).toEqual(['U0USER001', 'U0USER002', 'U0USER003']);
    expect(sim.users()).toHaveLength(7);
    expect(sim.workspace.isMember('C0APPROVALS', 'U0USER003')).toBe(true);
  });

  it('describes channels and shows metadata in history only when asked', async () => {
    // Prepare
    const metadata = { event_type: 'approval_requested', event_payload: { id: 'a1' } };
    await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'Approval needed', metadata });
    // Act
    const info = await client.conversations.info({ channel: 'C0APPROVALS' });
    const plain = await client.conversations.history({ channel: 'C0APPROVALS' });
    const withMetadata = await client.conversations.history({ channel: 'C0APPROVALS', include_all_metadata: true });
    // Assess
    expect(info.channel).toMatchObject({ id: 'C0APPROVALS', name: 'approvals', is_member: true, is_private: false });
    expect(plain.messages?.[0]).not.toHaveProperty('metadata');
    expect(withMetadata.messages?.[0]?.metadata).toEqual(metadata);
  });

  it('pages history newest first with a cursor', async () => {
    // Prepare
    for (const text of ['one', 'two', 'three']) await client.chat.postMessage({ channel: 'C0DIGEST', text });
    // Act
    const first = await client.conversations.history({ channel: 'C0DIGEST', limit: 2 });
    const cursor = first.response_metadata?.next_cursor;
    if (!cursor) throw new Error('The first page has no next cursor');
    const rest = await client.conversations.history({ channel: 'C0DIGEST', limit: 2, cursor });
    // Assess
    expect(first.messages?.map((message) => message.text)).toEqual(['three', 'two']);
    expect(first.has_more).toBe(true);
    expect(rest.messages?.map((message) => message.text)).toEqual(['one']);
    expect(rest.has_more).toBe(false);
  });
});
