import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowProxy {
  /** `http://127.0.0.1:<port>`: give it to a client instead of the target's endpoint. */
  endpoint: string;
  /** Requests forwarded so far. */
  readonly forwarded: number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy on loopback that forwards every request to `target` and holds each answer for
 * `delayMs()` before passing it on: a dependency that has become slow, as DynamoDB under a burst
 * (throttled partitions, SDK retries) looks from the client.
 */
export async function startSlowProxy(target: string, delayMs: () => number): Promise<SlowProxy> {
  const to = new URL(target);
  let forwarded = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      forwarded += 1;
      const upstream = httpRequest(
        { host: to.hostname, port: to.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            setTimeout(() => {
              if (outgoing.destroyed) return; // the client gave up waiting
              outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
              outgoing.end(Buffer.concat(body));
            }, delayMs());
          });
        },
      );
      upstream.on('error', () => {
        if (!outgoing.destroyed) outgoing.destroy();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
