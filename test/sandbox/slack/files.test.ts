import { afterEach, describe, expect, it } from 'vitest';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, signingSecret, webClient } from './helpers.ts';

/**
 * Slack's external upload flow as the simulator serves it
 * (https://docs.slack.dev/reference/methods/files.getUploadURLExternal/,
 * https://docs.slack.dev/reference/methods/files.completeUploadExternal/).
 */

let sim: SlackSimulator | undefined;
afterEach(() => sim?.close());

const CHANNEL = 'C0DIGEST';
const BYTES = Buffer.from('not really a png, but bytes all the same');

async function start() {
  sim = await startSlackSimulator({ botToken, signingSecret });
  return { sim, client: webClient(sim) };
}

describe('files.getUploadURLExternal → upload URL → files.completeUploadExternal', () => {
  it('shares the uploaded bytes as a reply in the thread, with the title and the image description', async () => {
    // Prepare
    const { sim, client } = await start();
    const parent = await client.chat.postMessage({ channel: CHANNEL, text: 'Daily digest' });

    // Act
    const ticket = await client.files.getUploadURLExternal({
      filename: 'chart.png',
      length: BYTES.byteLength,
      alt_txt: 'Deployments went up',
    } as Parameters<typeof client.files.getUploadURLExternal>[0]);
    const upload = await fetch(ticket.upload_url ?? '', { method: 'POST', body: BYTES });
    const done = await client.files.completeUploadExternal({
      files: [{ id: ticket.file_id ?? '', title: 'Delivery' }],
      channel_id: CHANNEL,
      thread_ts: parent.ts ?? '',
    });

    // Assess: the upload URL is on loopback and answers 200; the file is shared in the thread
    expect(ticket.upload_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/upload\/v1\/[0-9a-f]+$/);
    expect(ticket.file_id).toMatch(/^F[0-9A-Z]+$/);
    expect(upload.status).toBe(200);
    expect(done.files).toEqual([{ id: ticket.file_id, title: 'Delivery' }]);
    const reply = sim.messages(CHANNEL).at(-1);
    expect(reply?.thread_ts).toBe(parent.ts);
    expect(reply?.upload).toBe(true);
    expect(reply?.files?.[0]).toMatchObject({
      id: ticket.file_id,
      name: 'chart.png',
      title: 'Delivery',
      mimetype: 'image/png',
      filetype: 'png',
      size: BYTES.byteLength,
      alt_txt: 'Deployments went up',
    });
    expect(sim.file(ticket.file_id ?? '')?.bytes.equals(BYTES)).toBe(true);
    expect(sim.messages(CHANNEL).find((m) => m.ts === parent.ts)?.reply_count).toBe(1);
  });

  it('takes the bytes as a multipart form too, and serves url_private only to the token', async () => {
    // Prepare
    const { sim, client } = await start();
    const ticket = await client.files.getUploadURLExternal({ filename: 'chart.png', length: BYTES.byteLength });
    const form = new FormData();
    form.append('filename', new Blob([BYTES]), 'chart.png');

    // Act
    const upload = await fetch(ticket.upload_url ?? '', { method: 'POST', body: form });
    await client.files.completeUploadExternal({ files: [{ id: ticket.file_id ?? '' }], channel_id: CHANNEL });
    const url = sim.messages(CHANNEL).at(-1)?.files?.[0]?.url_private ?? '';
    const anonymous = await fetch(url);
    const withToken = await fetch(url, { headers: { Authorization: `Bearer ${botToken}` } });

    // Assess
    expect(upload.status).toBe(200);
    expect(anonymous.status).toBe(404);
    expect(withToken.status).toBe(200);
    expect(Buffer.from(await withToken.arrayBuffer()).equals(BYTES)).toBe(true);
    expect(sim.messages(CHANNEL).at(-1)?.files?.[0]?.title).toBe('chart.png');
  });

  it('refuses what Slack refuses: an empty file, and completing an upload whose bytes never came', async () => {
    // Prepare
    const { sim, client } = await start();
    const ticket = await client.files.getUploadURLExternal({ filename: 'chart.png', length: 10 });

    // Act
    const empty = await client.files.getUploadURLExternal({ filename: 'chart.png', length: 0 }).catch((e) => e);
    const unsent = await client.files
      .completeUploadExternal({ files: [{ id: ticket.file_id ?? '' }], channel_id: CHANNEL })
      .catch((e) => e);
    const unknownUpload = await fetch(`${new URL(ticket.upload_url ?? '').origin}/upload/v1/nope`, {
      method: 'POST',
      body: BYTES,
    });

    // Assess
    expect(empty).toMatchObject({ data: { error: 'missing_argument' } });
    expect(unsent).toMatchObject({ data: { error: 'file_not_found' } });
    expect(unknownUpload.status).toBe(404);
    expect(sim.messages(CHANNEL)).toEqual([]);
  });

  it('keeps a file private when no channel is named', async () => {
    // Prepare
    const { sim, client } = await start();
    const ticket = await client.files.getUploadURLExternal({ filename: 'notes.txt', length: BYTES.byteLength });
    await fetch(ticket.upload_url ?? '', { method: 'POST', body: BYTES });

    // Act
    await client.files.completeUploadExternal({ files: [{ id: ticket.file_id ?? '' }] });

    // Assess
    expect(sim.file(ticket.file_id ?? '')?.file.mimetype).toBe('text/plain');
    expect(sim.channels().flatMap((channel) => sim.messages(channel.id))).toEqual([]);
  });
});
