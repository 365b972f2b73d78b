import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FetchFunction,
  WebAPIHTTPError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { slackTransport } from '../../../app/adapters/slack-transport.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, signingSecret, silentLogger, webClient } from '../../sandbox/slack/helpers.ts';

let sim: SlackSimulator | undefined;
let server: Server | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server?.closeAllConnections();
  server = undefined;
});

/** A bare HTTP server on loopback, for what the Slack simulator never does (redirects, cut answers). */
async function bareServer(answer: Parameters<typeof createServer>[1]): Promise<string> {
  const listening = createServer(answer);
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api/`;
}

const clientOf = (slackApiUrl: string) =>
  new WebClient(botToken, { slackApiUrl, fetch: slackTransport(), logger: silentLogger, retryConfig: { retries: 0 } });

describe('slackTransport: the WebClient over Node’s HTTP client', () => {
  it('carries a message with blocks and non-ASCII text to Slack and Slack’s answer back', async () => {
    // Prepare
    sim = await startSlackSimulator({ botToken, signingSecret });
    const client = webClient(sim, { fetch: slackTransport() });
    const text = 'Déploiement approuvé ✅ — shop › prod';
    // Act
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
    });
    // Assess: the body's byte length counted the multi-byte characters, and the answer parsed
    expect(posted.ok).toBe(true);
    const [message] = sim.messages('C0APPROVALS');
    expect(message?.text).toBe(text);
    expect(message?.blocks).toMatchObject([{ type: 'section', text: { type: 'mrkdwn', text } }]);
    expect(posted.ts).toBe(message?.ts);
  });

  it('hands Slack’s rate limit and server errors to the WebClient as answers, with their headers', async () => {
    // Prepare
    sim = await startSlackSimulator({ botToken, signingSecret });
    const client = webClient(sim, { fetch: slackTransport(), rejectRateLimitedCalls: true });
    sim.faults.rateLimitCalls('chat.postMessage', 7, 1);
    sim.faults.failCalls('chat.update', 503, 1);
    // Act
    const limited = client.chat.postMessage({ channel: 'C0APPROVALS', text: 'one' });
    const failed = client.chat.update({ channel: 'C0APPROVALS', ts: '1.000', text: 'two' });
    // Assess: Retry-After read from the headers; the status kept
    await expect(limited).rejects.toBeInstanceOf(WebAPIRateLimitedError);
    await expect(limited).rejects.toMatchObject({ retryAfter: 7 });
    await expect(failed).rejects.toBeInstanceOf(WebAPIHTTPError);
    await expect(failed).rejects.toMatchObject({ statusCode: 503 });
  });

  it('gives up on a call past its timeout, and the next call goes through', async () => {
    // Prepare: Slack holds one answer for 2 s; the client waits 200 ms
    sim = await startSlackSimulator({ botToken, signingSecret });
    const client = webClient(sim, { fetch: slackTransport(), timeout: 200 });
    sim.faults.holdAnswers('chat.postMessage', 2_000, 1);
    // Act
    const started = Date.now();
    const late = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'late' }).catch((error) => error);
    const waited = Date.now() - started;
    const next = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'next' });
    // Assess: a request error whose cause is the timeout, not a hang
    expect(late).toBeInstanceOf(WebAPIRequestError);
    expect((late as WebAPIRequestError).original.name).toBe('TimeoutError');
    expect(waited).toBeLessThan(1_500);
    expect(next.ok).toBe(true);
  });

  it('keeps one connection alive across calls', async () => {
    // Prepare
    let connections = 0;
    const url = await bareServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    server?.on('connection', () => {
      connections += 1;
    });
    const client = clientOf(url);
    // Act
    for (let i = 0; i < 3; i++) await client.auth.test();
    // Assess
    expect(connections).toBe(1);
  });

  it('refuses a redirect rather than sending the token elsewhere', async () => {
    // Prepare
    const url = await bareServer((request, response) => {
      request.resume();
      response.writeHead(302, { location: 'https://elsewhere.example/api/auth.test' }).end();
    });
    const client = clientOf(url);
    // Act
    const answer = client.auth.test();
    // Assess
    await expect(answer).rejects.toBeInstanceOf(WebAPIRequestError);
    await expect(answer).rejects.toMatchObject({ original: { message: expect.stringContaining('redirect') } });
  });

  it('fails a call whose answer is cut off, instead of reading half of it', async () => {
    // Prepare: the server promises 100 bytes, sends 10 and hangs up
    const url = await bareServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"ok":true');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const client = clientOf(url);
    // Act
    const answer = client.auth.test();
    // Assess
    await expect(answer).rejects.toBeInstanceOf(WebAPIRequestError);
  });

  it('leaves file uploads (a FormData body) to fetch', async () => {
    // Prepare
    const seen: unknown[] = [];
    const fallback: FetchFunction = async (_url, init) => {
      seen.push(init?.body);
      return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
    };
    const form = new FormData();
    form.set('file', new Blob(['png']), 'chart.png');
    // Act
    const answer = await slackTransport(fallback)('https://files.slack.com/upload/v1/abc', {
      method: 'POST',
      body: form,
      redirect: 'follow',
    });
    // Assess
    expect(seen).toEqual([form]);
    expect(await answer.json()).toEqual({ ok: true });
  });
});
