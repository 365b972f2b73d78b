import type { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blocksTextLength, MAX_BLOCKS_TEXT } from '../../../sandbox/slack/block-kit.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, recordingApp, signingSecret, webClient } from './helpers.ts';

/**
 * Slack refuses a message whose blocks carry more than about 12,000 characters of text in all
 * (`msg_blocks_too_long`), though each block is within its own limits (slackapi/bolt-js#2509, #2867).
 */

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
/** `n` sections of 3,000 characters: each within the section limit. */
const sections = (total: number) =>
  Array.from({ length: Math.ceil(total / 3000) }, (_, i) => section('x'.repeat(Math.min(3000, total - i * 3000))));

let sim: SlackSimulator;
let client: webApi.WebClient;
const app = recordingApp();

beforeEach(async () => {
  sim = await startSlackSimulator({ botToken, signingSecret, deliver: app.deliver });
  client = webClient(sim);
});

afterEach(() => sim.close());

describe('the text of a message’s blocks in all', () => {
  it('counts every text of every block: sections, fields, context, headers, buttons, rich text', () => {
    // Prepare
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'abcde' } },
      { type: 'section', text: { type: 'mrkdwn', text: '12345' }, fields: [{ type: 'mrkdwn', text: 'fg' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'hij' }] },
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Go' }, value: 'not text', action_id: 'go' }],
      },
      { type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'klmn' }] }] },
      { type: 'divider' },
    ];
    // Act & Assess
    expect(blocksTextLength(blocks)).toBe(5 + 5 + 2 + 3 + 2 + 4);
    expect(MAX_BLOCKS_TEXT).toBe(12_000);
  });

  it('lets chat.postMessage post 12,000 characters and refuses one more with msg_blocks_too_long', async () => {
    // Act
    const fits = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'x', blocks: sections(12_000) });
    const posting = client.chat.postMessage({ channel: 'C0APPROVALS', text: 'x', blocks: sections(12_001) });
    // Assess
    expect(fits.ok).toBe(true);
    await expect(posting).rejects.toMatchObject({ data: { ok: false, error: 'msg_blocks_too_long' } });
    expect(sim.messages('C0APPROVALS')).toHaveLength(1);
  });

  it('refuses it on chat.update too, leaving the message as it was', async () => {
    // Prepare
    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'x', blocks: [section('before')] });
    // Act
    const updating = client.chat.update({
      channel: 'C0APPROVALS',
      ts: String(posted.ts),
      text: 'x',
      blocks: sections(12_001),
    });
    // Assess
    await expect(updating).rejects.toMatchObject({ data: { error: 'msg_blocks_too_long' } });
    expect(sim.messages('C0APPROVALS')[0]?.blocks?.[0]).toMatchObject(section('before'));
  });

  it('refuses it on chat.postEphemeral', async () => {
    // Act
    const posting = client.chat.postEphemeral({
      channel: 'C0APPROVALS',
      user: 'U0BOB',
      text: 'x',
      blocks: sections(12_001),
    });
    // Assess
    await expect(posting).rejects.toMatchObject({ data: { error: 'msg_blocks_too_long' } });
    expect(sim.ephemerals('C0APPROVALS', 'U0BOB')).toEqual([]);
  });

  it('refuses it through a response_url and in a slash command’s answer', async () => {
    // Prepare: the app answers the command with too much text; its response_url is kept for later
    const tooLong = JSON.stringify({ response_type: 'ephemeral', text: 'x', blocks: sections(12_001) });
    const answering = recordingApp(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: tooLong,
    }));
    sim.close();
    sim = await startSlackSimulator({ botToken, signingSecret, deliver: answering.deliver });

    // Act
    const command = await sim.slashCommand('U0BOB', 'C0APPROVALS', '/release', 'shop status');
    const responseUrl = new URLSearchParams(answering.requests[0]?.body).get('response_url') ?? '';
    const tooMuch = await fetch(responseUrl, { method: 'POST', body: tooLong });
    const enough = await fetch(responseUrl, {
      method: 'POST',
      body: JSON.stringify({ response_type: 'ephemeral', text: 'x', blocks: sections(12_000) }),
    });

    // Assess
    expect(command.displayError).toBe("Slack refused the app's answer: msg_blocks_too_long");
    expect(tooMuch.status).toBe(400);
    expect(await tooMuch.json()).toMatchObject({ ok: false, error: 'msg_blocks_too_long' });
    expect(enough.status).toBe(200);
    expect(sim.ephemerals('C0APPROVALS', 'U0BOB')).toHaveLength(1);
  });
});
