import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../app/config.ts';
import { ReleaseClients, TIMEOUTS } from '../../app/deps.ts';
import { memoryLog } from '../support/fakes.ts';

/** An endpoint that takes every request and never answers, counting them. */
async function hangingEndpoint(): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const server = createServer(() => {
    requests += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, server };
}

let hanging: Server | undefined;
afterEach(() => {
  hanging?.closeAllConnections();
  hanging?.close();
  vi.unstubAllEnvs();
});

describe("the click's release queue", () => {
  it('gives up on a hung SQS within its budget, so the click still answers within 3 s', async () => {
    // Prepare: the release queue's URL on an SQS that never answers
    const sqs = await hangingEndpoint();
    hanging = sqs.server;
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
      APPROVALS_CHANNEL: 'C0APPROVALS',
      AWS_REGION: 'eu-central-1',
      RELEASE_QUEUE_URL: `${sqs.url}/123456789012/greenlight-release`,
    });
    const clients = new ReleaseClients(config, 'slack-events', { log: memoryLog() });
    // Act: an approval's settle job, as a click whose redraw failed sends it
    const started = performance.now();
    const failed = await clients.settleLater('a1', 60).then(
      () => undefined,
      (error: unknown) => error,
    );
    const elapsedMs = performance.now() - started;
    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(sqs.requests()).toBe(TIMEOUTS.click.queue.maxAttempts);
    expect(elapsedMs).toBeLessThan(2_500);
  });
});
