import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodePipelineError } from './errors.ts';
import type { Input, Operation } from './operations.ts';
import type { Log } from './scheduler.ts';

const TARGET_PREFIX = 'CodePipeline_20150709.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface CallRecord {
  readonly operation: string;
  readonly input: Input;
  /** Emulator-clock time the call arrived. */
  readonly at: Date;
  readonly ok: boolean;
  /** The error type returned (`__type`), when not ok. */
  readonly error?: string;
  /** The access key id the call was signed with: which role called, in another account. */
  readonly accessKeyId?: string;
}

/** Per-operation limits; a number applies to every operation. */
export type RateLimit = number | Readonly<Record<string, number>>;

/** Per-operation delays in milliseconds; a number applies to every operation. */
export type Latency = number | Readonly<Record<string, number>>;

export interface ServerFaults {
  latencyMs: Latency;
  rateLimitPerSecond: RateLimit | undefined;
}

export interface ProtocolServerOptions {
  readonly port: number;
  readonly operations: Readonly<Record<string, Operation>>;
  readonly accountId: string;
  readonly now: () => Date;
  readonly log: Log;
  /** Read on every call, so a test or benchmark can change them while running. */
  readonly faults: ServerFaults;
  /** Runs before each operation (the world expires due approvals, so no timer must race the call). */
  readonly beforeCall: () => void;
}

/**
 * CodePipeline's awsJson1_1 wire protocol on loopback: `POST /` with `X-Amz-Target`, JSON bodies,
 * timestamps as epoch seconds, errors as HTTP 400 `{"__type", "message"}`. It also injects
 * latency, throttling and failures, and records every call.
 */
export class ProtocolServer {
  readonly #server: Server;
  readonly #calls: CallRecord[] = [];
  readonly #injected = new Map<string, Array<{ type: string; message: string }>>();
  /** Calls per operation still to be applied with their answer lost. */
  readonly #losing = new Map<string, number>();
  readonly #buckets = new Map<string, { tokens: number; refilledAt: number }>();

  private constructor(
    private readonly options: ProtocolServerOptions,
    readonly url: string,
    server: Server,
  ) {
    this.#server = server;
  }

  static async start(options: ProtocolServerOptions): Promise<ProtocolServer> {
    let instance: ProtocolServer | undefined;
    const server = createServer((request, response) => {
      instance?.handle(request, response).catch((error: unknown) => {
        options.log('codepipeline emulator: request failed', { error });
        if (!response.headersSent) send(response, 500, { __type: 'InternalFailure', message: String(error) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    instance = new ProtocolServer(options, `http://127.0.0.1:${port}`, server);
    return instance;
  }

  calls(operation?: string): CallRecord[] {
    return this.#calls.filter((call) => operation === undefined || call.operation === operation);
  }

  clearCalls(): void {
    this.#calls.length = 0;
  }

  /** The next `times` calls of `operation` fail with `type` before reaching the world. */
  failNextCall(operation: string, type: string, times = 1, message = `Injected ${type}`): void {
    const queue = this.#injected.get(operation) ?? [];
    for (let i = 0; i < times; i += 1) queue.push({ type, message });
    this.#injected.set(operation, queue);
  }

  /**
   * The next `times` calls of `operation` reach the world and take effect, then their connection
   * drops before the answer: the caller cannot tell whether the call landed (the SDK retries it).
   */
  loseNextAnswer(operation: string, times = 1): void {
    this.#losing.set(operation, (this.#losing.get(operation) ?? 0) + times);
  }

  /** Drops every injected fault not yet used (failNextCall, loseNextAnswer). */
  clearInjectedFaults(): void {
    this.#injected.clear();
    this.#losing.clear();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      send(response, 400, { __type: 'UnknownOperationException', message: `Unknown operation ${String(target)}` });
      return;
    }
    const operationName = target.slice(TARGET_PREFIX.length);
    const at = this.options.now();
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? 'anonymous';
    let input: Input;
    try {
      input = body.length === 0 ? {} : (JSON.parse(body) as Input);
    } catch {
      this.#record({
        operation: operationName,
        input: {},
        at,
        ok: false,
        error: 'SerializationException',
        accessKeyId,
      });
      send(response, 400, { __type: 'SerializationException', message: 'Request body is not valid JSON' });
      return;
    }
    const { latencyMs } = this.options.faults;
    const delay = typeof latencyMs === 'number' ? latencyMs : (latencyMs[operationName] ?? 0);
    if (delay > 0) await sleep(delay);
    try {
      const output = this.#invoke(operationName, input, callerOf(request, this.options.accountId));
      this.#record({ operation: operationName, input, at, ok: true, accessKeyId });
      const losing = this.#losing.get(operationName) ?? 0;
      if (losing > 0) {
        this.#losing.set(operationName, losing - 1);
        response.destroy();
        return;
      }
      send(response, 200, output ?? {});
    } catch (error) {
      if (!(error instanceof CodePipelineError)) throw error;
      this.#record({ operation: operationName, input, at, ok: false, error: error.type, accessKeyId });
      send(response, statusOf(error.type), { __type: error.type, message: error.message });
    }
  }

  #invoke(operationName: string, input: Input, caller: string): unknown {
    const operation = this.options.operations[operationName];
    if (!operation)
      throw new CodePipelineError('UnknownOperationException', `The emulator does not implement ${operationName}`);
    if (!this.#takeToken(operationName)) throw new CodePipelineError('ThrottlingException', 'Rate exceeded');
    const injected = this.#injected.get(operationName)?.shift();
    if (injected) throw new CodePipelineError(injected.type, injected.message);
    this.options.beforeCall();
    return operation(input, { caller });
  }

  /** A token bucket per operation, on real time: a burst of `limit` calls, refilled at `limit` per second. */
  #takeToken(operationName: string): boolean {
    const configured = this.options.faults.rateLimitPerSecond;
    const limit = typeof configured === 'number' ? configured : configured?.[operationName];
    if (limit === undefined) return true;
    const nowMs = performance.now();
    const bucket = this.#buckets.get(operationName) ?? { tokens: limit, refilledAt: nowMs };
    bucket.tokens = Math.min(limit, bucket.tokens + ((nowMs - bucket.refilledAt) / 1000) * limit);
    bucket.refilledAt = nowMs;
    this.#buckets.set(operationName, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #record(call: CallRecord): void {
    this.#calls.push(call);
  }
}

/**
 * The HTTP status of an error answer. CodePipeline's own exceptions are 400s; of the errors common
 * to all AWS APIs (https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html)
 * `InternalFailure` is a 500 and `ServiceUnavailable` a 503, which the SDK retries as server errors.
 */
function statusOf(type: string): number {
  if (type === 'InternalFailure') return 500;
  if (type === 'ServiceUnavailable') return 503;
  return 400;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The SDK reads awsJson timestamps as epoch seconds; fractions keep millisecond precision. */
function toWire(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body, toWire);
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(payload);
}

/** CodePipeline records the caller's identity; the emulator derives one from the SigV4 access key id. */
function callerOf(request: IncomingMessage, accountId: string): string {
  const authorization = request.headers.authorization ?? '';
  const accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization)?.[1] ?? 'anonymous';
  return `arn:aws:iam::${accountId}:user/${accessKeyId}`;
}
