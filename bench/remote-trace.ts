import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Remote calls as the network sees them: a proxy in front of each remote (DynamoDB, CodePipeline,
 * Slack) adds that remote's latency and records every call (which operation, when it started and
 * ended), so a benchmark can tell how many round trips a request waited for one after the other.
 */

export type Service = 'DynamoDB' | 'CodePipeline' | 'Slack';

export interface RemoteCall {
  service: Service;
  operation: string;
  /** Milliseconds on the machine's monotonic clock (`monotonicMs`), comparable between processes. */
  start: number;
  end: number;
  /** How long the simulator behind the proxy took to answer (the call took the longer of this and the latency). */
  remoteMs: number;
  status: number;
}

/**
 * `process.hrtime` reads CLOCK_MONOTONIC, one clock for every process on the machine: times taken
 * in the app's process and in the proxies' can be compared.
 */
export const monotonicMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

/** Every call through the proxies, in the order they ended. */
export class Trace {
  readonly calls: RemoteCall[] = [];
  #inFlight = 0;
  #lastActivity = monotonicMs();

  started() {
    this.#inFlight += 1;
    this.#lastActivity = monotonicMs();
  }

  ended(call: RemoteCall) {
    this.#inFlight -= 1;
    this.#lastActivity = monotonicMs();
    this.calls.push(call);
  }

  /** Resolves once no call is in flight and none has started or ended for `ms`: the app has gone quiet. */
  async quiet(ms: number): Promise<void> {
    for (;;) {
      const idleFor = monotonicMs() - this.#lastActivity;
      if (this.#inFlight === 0 && idleFor >= ms) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, ms - idleFor)));
    }
  }
}

export interface TracingProxy {
  /** `http://127.0.0.1:<port>`: give it to the client instead of the remote's endpoint. */
  endpoint: string;
  /** How long each call takes, seen from the client (unless the remote behind takes longer). */
  latencyMs: number;
  close(): Promise<void>;
}

/**
 * The operation of a call, read as the remote reads it:
 * - AWS JSON protocols (DynamoDB is awsJson1_0, CodePipeline awsJson1_1) name it in the
 *   `X-Amz-Target` header as `<service>_<version>.<Operation>`
 *   (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html, "Protocol behaviors");
 * - the Slack Web API names it in the path, `https://slack.com/api/<method>`
 *   (https://api.slack.com/web, "Basics").
 */
function operationOf(service: Service, url: string, target: string | string[] | undefined): string {
  if (service === 'Slack') return decodeURIComponent(new URL(url, 'http://slack').pathname.replace(/^\/api\//, ''));
  const header = Array.isArray(target) ? target[0] : target;
  return header?.split('.').at(-1) ?? 'unknown';
}

/**
 * A proxy on loopback that makes `target` a remote whose every call takes `latencyMs`: the answer
 * is held until that long after the call arrived (longer only if the simulator behind took
 * longer, which `remoteMs` shows). Held rather than added: the simulator's own work then costs the
 * client nothing, as a real remote's work is part of its latency.
 */
export async function startTracingProxy(
  service: Service,
  target: string,
  trace: Trace,
  latencyMs = 0,
): Promise<TracingProxy> {
  const to = new URL(target);
  // The remote's side of the proxy keeps its connections, as the clients' side does.
  const agent = new Agent({ keepAlive: true });
  // Timers may fire up to a millisecond early (libuv rounds the loop's clock): wait until the
  // monotonic clock says the time has come, so that no call is faster than its latency.
  const waitUntil = async (until: number) => {
    for (let left = until - monotonicMs(); left > 0; left = until - monotonicMs()) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
    }
  };
  const proxy: TracingProxy = {
    endpoint: '',
    latencyMs,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((incoming, outgoing) => {
    const start = monotonicMs();
    const answerAt = start + proxy.latencyMs;
    trace.started();
    const operation = operationOf(service, incoming.url ?? '/', incoming.headers['x-amz-target']);
    let remoteMs = 0;
    const finish = (status: number) => trace.ended({ service, operation, start, end: monotonicMs(), remoteMs, status });
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const upstream = httpRequest(
        {
          host: to.hostname,
          port: to.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
          agent,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', async () => {
            remoteMs = monotonicMs() - start;
            await waitUntil(answerAt);
            const status = answer.statusCode ?? 502;
            finish(status);
            if (outgoing.destroyed) return; // the client gave up waiting
            outgoing.writeHead(status, answer.headers);
            outgoing.end(Buffer.concat(body));
          });
        },
      );
      upstream.on('error', () => {
        finish(502);
        if (!outgoing.destroyed) outgoing.destroy();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/**
 * The calls of one request as steps taken one after the other: a call's step is one more than the
 * latest step among the calls that had ended before it started (1 when none had). Calls in one step
 * overlapped (ran in parallel); the number of steps is the number of sequential round trips.
 */
export function stepsOf(calls: readonly RemoteCall[]): RemoteCall[][] {
  const byStart = [...calls].sort((a, b) => a.start - b.start);
  const stepOf = new Map<RemoteCall, number>();
  const steps: RemoteCall[][] = [];
  for (const call of byStart) {
    let step = 0;
    for (const [before, its] of stepOf) if (before.end <= call.start) step = Math.max(step, its + 1);
    stepOf.set(call, step);
    const calls = steps[step] ?? [];
    calls.push(call);
    steps[step] = calls;
  }
  return steps;
}

/** "DynamoDB UpdateItem → CodePipeline PutApprovalResult → {DynamoDB UpdateItem ∥ Slack chat.update}" */
export function describeSteps(steps: readonly RemoteCall[][]): string {
  const name = (call: RemoteCall) => `${call.service} ${call.operation}`;
  return steps
    .map((step) => (step.length === 1 ? name(step[0] as RemoteCall) : `{${step.map(name).sort().join(' ∥ ')}}`))
    .join(' → ');
}

/** The least time these steps can take: each waits for its slowest remote. */
export function floorOf(steps: readonly RemoteCall[][], latencyMs: Readonly<Record<Service, number>>): number {
  return steps.reduce((sum, step) => sum + Math.max(...step.map((call) => latencyMs[call.service])), 0);
}

/** How much of [start, end] passed with no call in flight: the time the caller spent on its own. */
export function timeWithoutCalls(calls: readonly RemoteCall[], start: number, end: number): number {
  let covered = 0;
  let reached = start;
  for (const call of [...calls].sort((a, b) => a.start - b.start)) {
    const from = Math.max(call.start, reached);
    const to = Math.min(call.end, end);
    if (to > from) covered += to - from;
    reached = Math.max(reached, to);
  }
  return end - start - covered;
}
