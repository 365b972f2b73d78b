import type { ServerResponse } from 'node:http';
import type { WorkspaceEvent } from '../slack/index.ts';
import type { SandboxControl } from './control.ts';

/** Pipelines change in bursts (one commit moves several actions): the board is sent once per burst. */
const BOARD_DEBOUNCE_MS = 40;
/** Keeps proxies and the browser from dropping a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Live updates for the page and scripts, as Server-Sent Events: first a `snapshot` of everything,
 * then every Slack workspace change (`slack`, the simulator's own event), the board after every
 * pipeline change (`board`) and a line for each notable thing that happened (`activity`). A reconnecting EventSource gets a fresh snapshot, so nothing is missed.
 */
export class EventStream {
  readonly #control: SandboxControl;
  readonly #clients = new Set<ServerResponse>();
  readonly #stops: Array<() => void> = [];
  #boardTimer: NodeJS.Timeout | undefined;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(control: SandboxControl) {
    this.#control = control;
    this.#stops.push(
      control.world.slack.onChange((event) => this.#onSlack(event)),
      control.world.emulator.onChange(() => this.boardChanged()),
      // The other accounts' pipelines are on the board too (docs/architecture.md, "Many accounts and regions").
      ...[...(control.world.accounts?.emulators.values() ?? [])].map((emulator) =>
        emulator.onChange(() => this.boardChanged()),
      ),
      control.onActivity((activity) => this.#write(frame('activity', activity))),
    );
    this.#heartbeat = setInterval(() => this.#write(': heartbeat\n\n'), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  open(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Retry quickly after a restart of `npm start`.
    response.write('retry: 1000\n\n');
    response.write(frame('snapshot', this.#control.snapshot()));
    this.#clients.add(response);
    response.on('close', () => this.#clients.delete(response));
  }

  /** Sends the board soon; called for pipeline changes and for the clock, which the emulator does not announce. */
  boardChanged(): void {
    if (this.#boardTimer) return;
    this.#boardTimer = setTimeout(() => {
      this.#boardTimer = undefined;
      if (this.#clients.size > 0) this.#write(frame('board', this.#control.board()));
    }, BOARD_DEBOUNCE_MS);
  }

  close(): void {
    for (const stop of this.#stops) stop();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#boardTimer);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #onSlack(event: WorkspaceEvent): void {
    // Web API calls are the app's business, not what people see; they stay in the simulator's record.
    if (event.type === 'api_called') return;
    this.#write(frame('slack', event));
  }

  #write(chunk: string): void {
    for (const client of this.#clients) client.write(chunk);
  }
}

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
