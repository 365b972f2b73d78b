import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** DynamoDB operations, as `X-Amz-Target: DynamoDB_20120810.<Operation>` names them. */
export type DynamoOperation = 'GetItem' | 'PutItem' | 'UpdateItem' | 'Query';

/**
 * - `throughput` / `throttling`: DynamoDB refuses the call before applying it, with
 *   `ProvisionedThroughputExceededException` / `ThrottlingException` (both retried by the SDK);
 * - `slow`: the call is applied, its answer comes `slowMs` late (past the click path's timeout);
 * - `lost-answer`: the call is applied and its connection drops before the answer (a write
 *   applied whose caller never hears so; the SDK retries it).
 */
export type DynamoFaultKind = 'throughput' | 'throttling' | 'slow' | 'lost-answer';

/** The `nth` call (from 0) of `operation` after the faults are armed goes wrong as `kind`. */
export interface DynamoFault {
  operation: DynamoOperation;
  nth: number;
  kind: DynamoFaultKind;
}

export interface DynamoFaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the application as its DynamoDB endpoint. */
  readonly endpoint: string;
  /** Replaces the armed faults; calls are counted per operation from now on. */
  arm(faults: readonly DynamoFault[]): void;
  /** No more faults: every call is forwarded as it is. */
  disarm(): void;
  /** Faults injected so far, by kind. */
  readonly injected: Readonly<Record<DynamoFaultKind, number>>;
  close(): Promise<void>;
}

/**
 * DynamoDB's JSON error shape, per "Error handling with DynamoDB"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors):
 * HTTP 400, `Content-Type: application/x-amz-json-1.0`, a body of `__type` (the service's
 * namespace, `#`, the exception's name) and `message`. The messages are the ones that page gives.
 */
const REFUSALS: Record<'throughput' | 'throttling', { type: string; message: string }> = {
  throughput: {
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  throttling: {
    type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  },
};

/**
 * An HTTP proxy on loopback in front of a DynamoDB endpoint (dynalite) that forwards every call,
 * except those an armed fault names: those it refuses as DynamoDB does when throttled, answers
 * late, or applies and then drops the connection without answering.
 */
export async function startDynamoFaultProxy(target: string, slowMs = 450): Promise<DynamoFaultProxy> {
  const to = new URL(target);
  let armed: DynamoFault[] = [];
  let seen = new Map<string, number>();
  const injected: Record<DynamoFaultKind, number> = { throughput: 0, throttling: 0, slow: 0, 'lost-answer': 0 };

  const faultFor = (operation: string): DynamoFaultKind | undefined => {
    const nth = seen.get(operation) ?? 0;
    seen.set(operation, nth + 1);
    const fault = armed.find((f) => f.operation === operation && f.nth === nth);
    if (fault) injected[fault.kind] += 1;
    return fault?.kind;
  };

  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const operation = String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      const fault = faultFor(operation);
      if (fault === 'throughput' || fault === 'throttling') return refuse(outgoing, REFUSALS[fault]);
      const upstream = httpRequest(
        { host: to.hostname, port: to.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            if (fault === 'lost-answer') return void outgoing.destroy();
            const pass = () => {
              if (outgoing.destroyed) return; // the client gave up waiting
              outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
              outgoing.end(Buffer.concat(body));
            };
            if (fault === 'slow') setTimeout(pass, slowMs);
            else pass();
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
    arm(faults) {
      armed = [...faults];
      seen = new Map();
    },
    disarm() {
      armed = [];
    },
    injected,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(outgoing: ServerResponse, { type, message }: { type: string; message: string }): void {
  const body = JSON.stringify({ __type: type, message });
  outgoing.writeHead(400, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': `fault-${Date.now().toString(36)}`,
  });
  outgoing.end(body);
}
