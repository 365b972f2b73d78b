import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiMethod, SlackApiError, stringArg } from './api-args.ts';
import type { FileStore } from './api-files.ts';
import { isObject } from './block-kit.ts';
import type { FaultPlan } from './faults.ts';
import type { ResponseUrlRegistry } from './interaction-tokens.ts';
import { applyResponse } from './responses.ts';
import type { ApiCall, JsonObject } from './types.ts';
import type { Workspace } from './workspace.ts';

export interface ApiServerOptions {
  workspace: Workspace;
  botToken: string;
  methods: Record<string, ApiMethod>;
  responseUrls: ResponseUrlRegistry;
  faults?: FaultPlan;
  /** Where upload URLs (files.getUploadURLExternal) put their bytes, and url_private reads them. */
  files?: FileStore;
}

/** Arguments the Web API takes as JSON-encoded strings; decoded in recorded calls so tests read objects. */
const jsonFields = ['attachments', 'blocks', 'metadata', 'view'];

/**
 * Slack's HTTP surface on loopback: `POST /api/<method>` (the Web API, as `@slack/web-api` calls it) and
 * `POST /actions/<id>` (response_urls). Every call is recorded.
 */
export class ApiServer {
  readonly #options: ApiServerOptions;
  readonly #server: Server;
  readonly #calls: ApiCall[] = [];
  #baseUrl = '';

  private constructor(options: ApiServerOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        // A bug in the simulator, not a Slack answer: make it loud rather than a plausible Slack error.
        send(response, 500, { ok: false, error: 'simulator_error', detail: String(error) });
      });
    });
  }

  static async start(options: ApiServerOptions, port = 0): Promise<ApiServer> {
    const server = new ApiServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.#server.address() as AddressInfo;
    server.#baseUrl = `http://127.0.0.1:${address.port}`;
    return server;
  }

  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  calls(method?: string): ApiCall[] {
    return this.#calls.filter((call) => method === undefined || call.method === method);
  }

  async close(): Promise<void> {
    // The WebClient keeps connections alive; without this close() would wait for them to time out.
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const bytes = await readBody(request);
    const files = this.#options.files;
    if (files && request.method === 'POST' && url.pathname.startsWith('/upload/v1/')) {
      const taken = files.receive(url.pathname.slice('/upload/v1/'.length), request.headers['content-type'], bytes);
      this.#record('upload_url', { bytes: bytes.byteLength }, taken ? 200 : 404, { ok: taken });
      response.writeHead(taken ? 200 : 404, { 'Content-Type': 'text/plain' });
      response.end(taken ? `OK - ${bytes.byteLength}` : 'Not Found');
      return;
    }
    if (files && request.method === 'GET' && url.pathname.startsWith('/files-pri/')) {
      // As in Slack, url_private answers only to the token.
      const stored = bearer(request.headers.authorization) === this.#options.botToken && files.private(url.pathname);
      if (!stored) return send(response, 404, { ok: false, error: 'file_not_found' });
      response.writeHead(200, { 'Content-Type': stored.file.mimetype, 'Content-Length': stored.bytes.byteLength });
      response.end(stored.bytes);
      return;
    }
    const raw = bytes.toString('utf8');
    if (url.pathname.startsWith('/api/')) {
      return this.#api(decodeURIComponent(url.pathname.slice('/api/'.length)), request, url, raw, response);
    }
    if (request.method === 'POST' && url.pathname.startsWith('/actions/')) {
      return this.#responseUrl(url.pathname.slice('/actions/'.length), request, raw, response);
    }
    send(response, 404, { ok: false, error: 'not_found' });
  }

  async #api(method: string, request: IncomingMessage, url: URL, raw: string, response: ServerResponse): Promise<void> {
    const fault = this.#options.faults?.take(method) ?? {};
    if (fault.retryAfter) {
      const body = { ok: false, error: 'ratelimited' };
      this.#record(method, {}, 429, body);
      send(response, 429, body, { 'Retry-After': String(fault.retryAfter) });
      return;
    }
    if (fault.failStatus) {
      this.#record(method, {}, fault.failStatus, { ok: false, error: 'simulated_fault' });
      response.writeHead(fault.failStatus, { 'Content-Type': 'text/html' });
      response.end('<html><body>Slack is having trouble</body></html>');
      return;
    }
    let args: JsonObject = {};
    let token: string | undefined;
    let outcome: { status: number; body: JsonObject; headers?: Record<string, string> };
    try {
      args = { ...Object.fromEntries(url.searchParams), ...parseBody(request.headers['content-type'], raw) };
      token = bearer(request.headers.authorization) ?? stringArg(args, 'token');
      delete args.token;
      if (!token) throw new SlackApiError('not_authed');
      if (token !== this.#options.botToken) throw new SlackApiError('invalid_auth');
      const run = this.#options.methods[method];
      if (!run) throw new SlackApiError('unknown_method');
      outcome = { status: 200, body: { ok: true, ...run(args) } };
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      outcome = { status: error.status, body: failure(error), headers: { ...error.headers } };
    }
    this.#record(method, args, outcome.status, outcome.body);
    // The call took effect; its answer comes late (the client may have given up by then).
    if (fault.holdMs) await new Promise((resolve) => setTimeout(resolve, fault.holdMs));
    send(response, outcome.status, outcome.body, outcome.headers);
  }

  #responseUrl(id: string, request: IncomingMessage, raw: string, response: ServerResponse): void {
    let body: JsonObject = {};
    let outcome: { status: number; body: JsonObject };
    try {
      body = parseBody(request.headers['content-type'], raw, { json: true });
      const used = this.#options.responseUrls.use(id);
      if (!used.ok) throw new SlackApiError(used.error, { status: 404 });
      applyResponse(this.#options.workspace, used.value, body);
      outcome = { status: 200, body: { ok: true } };
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      outcome = { status: error.status === 200 ? 400 : error.status, body: failure(error) };
    }
    this.#record('response_url', body, outcome.status, outcome.body);
    send(response, outcome.status, outcome.body);
  }

  #record(method: string, args: JsonObject, status: number, response: JsonObject): void {
    const call: ApiCall = { method, args: decodeJsonFields(args), at: this.#options.workspace.now(), status, response };
    this.#calls.push(call);
    this.#options.workspace.emit({ type: 'api_called', call });
  }
}

function failure(error: SlackApiError): JsonObject {
  return {
    ok: false,
    error: error.code,
    ...(error.messages.length > 0 ? { response_metadata: { messages: [...error.messages] } } : {}),
  };
}

/**
 * Form bodies (what `@slack/web-api` sends) or JSON bodies; response_urls take JSON whatever the content type says,
 * as Bolt's respond() and curl users rely on.
 */
function parseBody(contentType: string | undefined, raw: string, options: { json?: boolean } = {}): JsonObject {
  if (raw === '') return {};
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json' || (options.json && type !== 'application/x-www-form-urlencoded')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new SlackApiError('invalid_json');
    }
    if (!isObject(parsed)) throw new SlackApiError('invalid_json');
    return parsed;
  }
  if (type === 'application/x-www-form-urlencoded') {
    const form: JsonObject = Object.fromEntries(new URLSearchParams(raw));
    return options.json && typeof form.payload === 'string' ? parseBody('application/json', form.payload) : form;
  }
  throw new SlackApiError(type ? 'invalid_post_type' : 'missing_post_type');
}

function decodeJsonFields(args: JsonObject): JsonObject {
  const decoded: JsonObject = { ...args };
  for (const key of jsonFields) {
    const value = decoded[key];
    if (typeof value !== 'string') continue;
    try {
      decoded[key] = JSON.parse(value);
    } catch {
      // Kept as sent: the call failed on it, and the test wants to see what was sent.
    }
  }
  return decoded;
}

function bearer(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return match?.[1];
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: JsonObject, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
