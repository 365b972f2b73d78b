import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { StoredFile } from '../slack/index.ts';
import { type SandboxControl, SandboxRequestError } from './control.ts';
import { EventStream } from './events.ts';

export interface WebServerOptions {
  control: SandboxControl;
  /** 0: any free port. */
  port: number;
  host: string;
  /** One line per thing a person did through the page or the API. */
  log?: (line: string) => void;
}

export interface WebServer {
  /** `http://localhost:<port>` (or the host given, when it is not a loopback address). */
  readonly url: string;
  readonly port: number;
  readonly events: EventStream;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type Reply = { status?: number; json: unknown };
type Route = {
  method: 'GET' | 'POST';
  path: RegExp;
  run: (params: string[], body: Json, url: URL) => Reply | Promise<Reply>;
  help: string;
};

const PUBLIC = new URL('./public/', import.meta.url);
/** The endpoints served before the JSON routes (a stream, and files), listed by GET /api with them. */
const STREAM_AND_FILE_HELP = [
  'GET /api/events  (Server-Sent Events: snapshot, then slack, board and activity)',
  "GET /api/files/:id  (a file the app shared, as Slack's url_private serves it)",
];

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/style.css': 'style.css',
  '/app.js': 'app.js',
  '/blocks.js': 'blocks.js',
  '/board.js': 'board.js',
  '/mrkdwn.js': 'mrkdwn.js',
  '/favicon.svg': 'favicon.svg',
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const MAX_BODY_BYTES = 1_000_000;

/** The page, its JSON scripting API and the live event stream, on one port. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { control } = options;
  const log = options.log ?? (() => {});
  const events = new EventStream(control);
  const routes = apiRoutes(control, events, log);

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.end();
      const known = error instanceof SandboxRequestError;
      if (!known) log(`web: ${request.method} ${request.url} failed: ${String(error)}`);
      sendJson(response, known ? error.status : 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const file = STATIC_FILES[url.pathname];
    if (request.method === 'GET' && file) return sendFile(response, file);
    if (request.method === 'GET' && url.pathname === '/api/events') return events.open(response);
    const fileId = request.method === 'GET' ? /^\/api\/files\/(F[0-9A-Z]+)$/.exec(url.pathname)?.[1] : undefined;
    if (fileId) return sendStoredFile(response, control.world.slack.file(fileId));
    if (request.method === 'GET' && (url.pathname === '/api' || url.pathname === '/api/')) {
      return sendJson(response, 200, { endpoints: [...routes.map((r) => r.help), ...STREAM_AND_FILE_HELP] });
    }
    for (const route of routes) {
      const match = route.path.exec(url.pathname);
      if (!match) continue;
      if (route.method !== request.method) continue;
      const body = request.method === 'POST' ? await readJson(request) : {};
      const params = match.slice(1).map((part) => decodeURIComponent(part));
      const reply = await route.run(params, body, url);
      return sendJson(response, reply.status ?? 200, reply.json);
    }
    const known = routes.some((route) => route.path.test(url.pathname));
    sendJson(response, known ? 405 : 404, {
      error: known ? `${request.method} is not allowed here` : `Nothing at ${url.pathname}: see GET /api`,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const loopback = ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(options.host);
  return {
    url: `http://${loopback ? 'localhost' : options.host}:${port}`,
    port,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        events.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function apiRoutes(control: SandboxControl, events: EventStream, log: (line: string) => void): Route[] {
  const { world } = control;
  const who = (user: unknown) => control.person(user).name;
  return [
    { method: 'GET', path: /^\/api\/state$/, help: 'GET /api/state', run: () => ({ json: control.snapshot() }) },
    {
      method: 'GET',
      path: /^\/api\/people$/,
      help: 'GET /api/people',
      run: () => ({ json: { people: world.slack.users() } }),
    },
    {
      method: 'GET',
      path: /^\/api\/channels$/,
      help: 'GET /api/channels',
      run: () => ({ json: { channels: world.slack.channels() } }),
    },
    {
      method: 'GET',
      path: /^\/api\/channels\/([^/]+)\/messages$/,
      help: 'GET /api/channels/:channel/messages[?user=alice]  (with user: also the ephemerals only they see)',
      run: ([channel = ''], _body, url) => {
        const id = control.channelId(channel);
        const user = url.searchParams.get('user');
        const ephemerals = user ? { ephemerals: world.slack.ephemerals(id, control.person(user).id) } : {};
        return { json: { channel: id, messages: world.slack.messages(id), ...ephemerals } };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/views$/,
      help: 'GET /api/views?user=alice  (the modals on their screen, bottom first)',
      run: (_params, _body, url) => ({
        json: { views: world.slack.openViews(control.person(url.searchParams.get('user')).id) },
      }),
    },
    {
      method: 'POST',
      path: /^\/api\/act\/click$/,
      help: 'POST /api/act/click {user, channel, ts, actionId, value?}',
      run: async (_params, body) => {
        log(`${who(body.user)} clicks ${control.describeClick(body)}`);
        return { json: await control.click(body as Parameters<SandboxControl['click']>[0]) };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/act\/submit$/,
      help: 'POST /api/act/submit {user, viewId, values: {blockIdOrActionId: "text"}}',
      run: async (_params, body) => {
        log(`${who(body.user)} submits ${control.describeView(body.user, body.viewId)}`);
        return { json: await control.submit(body as Parameters<SandboxControl['submit']>[0]) };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/act\/close$/,
      help: 'POST /api/act/close {user, viewId}',
      run: async (_params, body) => ({
        json: await control.closeView(body as Parameters<SandboxControl['closeView']>[0]),
      }),
    },
    {
      method: 'POST',
      path: /^\/api\/act\/command$/,
      help: 'POST /api/act/command {user, channel, command: "/release", text: "shop prod"}',
      run: async (_params, body) => {
        log(`${who(body.user)} types ${String(body.command)} ${String(body.text ?? '')}`.trimEnd());
        return { json: await control.command(body as Parameters<SandboxControl['command']>[0]) };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/act\/message$/,
      help: 'POST /api/act/message {user, channel, text, threadTs?}',
      run: (_params, body) => ({ json: { message: control.say(body as Parameters<SandboxControl['say']>[0]) } }),
    },
    {
      method: 'POST',
      path: /^\/api\/act\/dismiss$/,
      help: 'POST /api/act/dismiss {ts}  (an ephemeral message)',
      run: (_params, body) => {
        control.dismissEphemeral(body.ts);
        return { json: { ok: true } };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/commands$/,
      help: 'GET /api/commands  (the slash commands of manifest.yml)',
      run: async () => ({ json: { commands: await slashCommands() } }),
    },
    { method: 'GET', path: /^\/api\/board$/, help: 'GET /api/board', run: () => ({ json: control.board() }) },
    {
      method: 'GET',
      path: /^\/api\/approvals$/,
      help: 'GET /api/approvals  (pending in the CodePipeline emulators; `account` and `region` for other accounts)',
      run: () => ({ json: { approvals: control.pendingApprovals() } }),
    },
    {
      method: 'POST',
      path: /^\/api\/pipelines\/([^/]+)\/commit$/,
      help: 'POST /api/pipelines/:pipeline/commit {revision?, summary?, replacement?}  (revisions c1, c2… unless given; replacement: its change set replaces a table)',
      run: ([name = ''], body) => {
        const result = control.commit(name, body.revision, body.summary, body.replacement);
        log(`commit ${result.revisionId} to ${result.pipelineName}`);
        return { status: 201, json: result };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/products\/([^/]+)\/commit$/,
      help: 'POST /api/products/:product/commit  (one commit to each of its pipelines)',
      run: ([product = '']) => {
        const commits = control.commitProduct(product);
        log(`commit to ${commits.map((c) => `${c.pipelineName} (${c.revisionId})`).join(', ')}`);
        return { status: 201, json: { commits } };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/pipelines\/([^/]+)\/fail-next$/,
      help: 'POST /api/pipelines/:pipeline/fail-next {stage: "StagingDEV", action: "Deploy"|"Test", times?}',
      run: ([name = ''], body) => {
        const result = control.failNext(name, body);
        log(`the next ${result.action} in ${name} › ${result.stage} will fail`);
        return { json: result };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/pipelines\/([^/]+)\/console$/,
      help: 'POST /api/pipelines/:pipeline/console {stage, status: "Approved"|"Rejected", summary?}  (as in the AWS console)',
      run: ([name = ''], body) => {
        const result = control.answerInConsole(name, body);
        log(`${name} › ${result.stage} ${result.status.toLowerCase()} in the AWS console`);
        return { json: result };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/pipelines\/([^/]+)\/stop$/,
      help: 'POST /api/pipelines/:pipeline/stop {stage | executionId, abandon?: true, reason?}  (StopPipelineExecution)',
      run: ([name = ''], body) => {
        const result = control.stopExecution(name, body);
        log(
          `${name}: execution ${result.executionId.slice(0, 8)} ${result.abandon ? 'stopped and abandoned' : 'stopping'}`,
        );
        return { json: result };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/clock$/,
      help: 'POST /api/clock {days?, hours?, ms?}  (advance the pipelines clock; approvals expire after 7 days)',
      run: (_params, body) => {
        const clock = control.advanceClock(body);
        events.boardChanged();
        log(
          `pipelines clock is now ${CLOCK_FORMAT.format(new Date(clock.now))} UTC (${aheadText(clock.clockOffsetMs)})`,
        );
        return { json: clock };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/reminders$/,
      help: 'POST /api/reminders  (runs the reminder schedule now, on the pipelines clock; one reminder per approval; answers what it did)',
      run: async () => ({ json: (await control.remindNow()) ?? {} }),
    },
    {
      method: 'POST',
      path: /^\/api\/digest$/,
      help: 'POST /api/digest  (runs the daily digest now, as the schedule would; once per day)',
      run: async () => {
        log('the daily digest schedule fires');
        return { json: { result: await control.postDigest() } };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/settle$/,
      help: 'POST /api/settle  (waits until running actions and notifications are done)',
      run: async () => {
        await world.settle();
        return { json: { ok: true } };
      },
    },
  ];
}

const MANIFEST = new URL('../../manifest.yml', import.meta.url);

/** The composer suggests what the Slack app manifest declares, as Slack does. */
async function slashCommands(): Promise<Array<{ command: string; description?: string; usage_hint?: string }>> {
  try {
    const manifest = parseYaml(await readFile(MANIFEST, 'utf8')) as {
      features?: { slash_commands?: Array<{ command: string; description?: string; usage_hint?: string }> };
    };
    return (manifest.features?.slash_commands ?? []).map(({ command, description, usage_hint }) => ({
      command,
      ...(description ? { description } : {}),
      ...(usage_hint ? { usage_hint } : {}),
    }));
  } catch {
    return [];
  }
}

async function sendFile(response: ServerResponse, file: string): Promise<void> {
  const body = await readFile(new URL(file, PUBLIC));
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new SandboxRequestError('Body too large', 413);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8').trim();
  if (!raw) return {};
  // Only JSON: a page on another site cannot send that to this loopback API without a CORS preflight, which fails.
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    throw new SandboxRequestError('Send the body as JSON (Content-Type: application/json)', 415);
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // Answered below.
  }
  throw new SandboxRequestError('The body must be a JSON object');
}

/** The pipelines' clock in the activity list and the terminal, as people read a date (the page shows no ISO). */
const CLOCK_FORMAT = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});

function aheadText(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  if (hours < 1) return 'real time';
  const days = Math.floor(hours / 24);
  const parts = [days ? `${days} day${days === 1 ? '' : 's'}` : '', hours % 24 ? `${hours % 24} h` : ''];
  return `${parts.filter(Boolean).join(' ')} ahead`;
}

/** A file shared in the workspace (the digest's chart), for the page's <img>: Slack's url_private needs the token. */
function sendStoredFile(response: ServerResponse, stored: StoredFile | undefined): void {
  if (!stored) {
    response.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify({ error: 'No such file' }));
    return;
  }
  response.writeHead(200, {
    'Content-Type': stored.file.mimetype,
    'Content-Length': stored.bytes.byteLength,
    'Cache-Control': 'private, max-age=3600',
  });
  response.end(stored.bytes);
}
