import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FetchFunction } from '@slack/web-api';

type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/**
 * The WebClient's transport (its documented `fetch` option) for Web API calls: a form POST over
 * Node's own HTTP client on kept-alive connections. Node's fetch streams every body through web
 * streams; on the click path that cost about a millisecond of CPU per Slack call, a tenth of the
 * click (npm run bench click). A body that is not a string (FormData: file uploads) and any call
 * that may follow a redirect go to `fallback`, Node's fetch.
 *
 * Like fetch: an HTTP status is an answer, not an error (the WebClient reads 429 and 5xx itself);
 * a redirect is an error when `redirect: 'error'` (the WebClient's calls); the signal aborts the
 * request and the body, rejecting with the signal's reason (a TimeoutError for AbortSignal.timeout).
 */
export function slackTransport(fallback: FetchFunction = fetch): FetchFunction {
  return (url, init = {}) =>
    typeof init.body === 'string' && init.redirect === 'error'
      ? post(new URL(url), init, init.body)
      : fallback(url, init);
}

// One pool per process and protocol, so a container's calls reuse their connections. An idle
// connection is closed after 4 s, as Node's fetch does, before the server drops it under a request.
const pool = { keepAlive: true, timeout: 4_000 };
const agents = { 'http:': new HttpAgent(pool), 'https:': new HttpsAgent(pool) };

function post(url: URL, init: FetchRequestInit, body: string): Promise<FetchResponse> {
  const { signal } = init;
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new TypeError(`Slack's Web API is HTTP(S), not ${url.protocol}`));
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<FetchResponse>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: init.method ?? 'POST',
      agent: agents[url.protocol as keyof typeof agents],
      headers: { ...init.headers, 'content-length': Buffer.byteLength(body) },
    });
    const abort = () => request.destroy(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });
    const done = () => signal?.removeEventListener('abort', abort);
    request.on('error', (error) => {
      done();
      reject(error);
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        done();
        reject(new TypeError(`Slack answered ${url.pathname} with a redirect to ${response.headers.location}`));
        return;
      }
      readBody(response).then(
        (bytes) => {
          done();
          resolve(answer(url, response, bytes));
        },
        (error: unknown) => {
          done();
          reject(signal?.aborted ? signal.reason : error);
        },
      );
    });
    request.end(body);
  });
}

function readBody(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(new Error('The connection to Slack closed before the answer ended'));
    });
  });
}

function answer(url: URL, response: IncomingMessage, bytes: Buffer): FetchResponse {
  const status = response.statusCode ?? 0;
  const text = () => bytes.toString('utf8');
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: response.statusMessage ?? '',
    url: url.href,
    headers: headersOf(response.headers),
    text: async () => text(),
    json: async () => JSON.parse(text()),
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}

/** Fetch's view of the headers: names in lower case, repeated values joined with ", ". */
function headersOf(headers: IncomingHttpHeaders): FetchResponse['headers'] {
  const entries = Object.entries(headers).flatMap(([name, value]): [string, string][] =>
    value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
  );
  const byName = new Map(entries);
  return {
    get: (name: string) => byName.get(name.toLowerCase()) ?? null,
    entries: () => entries,
  };
}
