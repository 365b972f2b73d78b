import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small AWS Secrets Manager on loopback that speaks its protocol, so the real
 * `@aws-sdk/client-secrets-manager` path runs against it: awsJson1_1, `POST /` with
 * `X-Amz-Target: secretsmanager.GetSecretValue` and `{"SecretId": <ARN or name>}`, answered with
 * `ARN`, `Name`, `VersionId`, `SecretString`, `VersionStages` (`AWSCURRENT`) and `CreatedDate` (epoch
 * seconds, as awsJson sends timestamps); an unknown secret is `ResourceNotFoundException` (HTTP 400).
 * Fields and errors as the Secrets Manager API reference (GetSecretValue) and the SDK's model name
 * them. It serves GetSecretValue only: `put` stands for `aws secretsmanager put-secret-value`.
 */

export interface SecretsManagerEmulator {
  /** `http://127.0.0.1:<port>`: `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  readonly url: string;
  /** A new current version of the secret (put-secret-value). */
  put(arn: string, secretString: string): void;
  /** How many GetSecretValue calls it answered for `arn`. */
  reads(arn: string): number;
  close(): Promise<void>;
}

interface Version {
  versionId: string;
  secretString: string;
  createdAt: Date;
}

export async function startSecretsManagerEmulator(
  secrets: Readonly<Record<string, string>> = {},
): Promise<SecretsManagerEmulator> {
  const current = new Map<string, Version>();
  const reads = new Map<string, number>();
  const put = (arn: string, secretString: string) =>
    current.set(arn, { versionId: randomUUID(), secretString, createdAt: new Date() });
  for (const [arn, value] of Object.entries(secrets)) put(arn, value);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (request.method !== 'POST' || target !== 'secretsmanager.GetSecretValue')
      return send(response, 400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
    let secretId = '';
    try {
      secretId = String((JSON.parse(body) as { SecretId?: unknown }).SecretId ?? '');
    } catch {
      return send(response, 400, { __type: 'SerializationException', message: 'The request body is not JSON' });
    }
    const arn = [...current.keys()].find((key) => key === secretId || nameOf(key) === secretId);
    const version = arn ? current.get(arn) : undefined;
    if (!arn || !version)
      return send(response, 400, {
        __type: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      });
    reads.set(arn, (reads.get(arn) ?? 0) + 1);
    send(response, 200, {
      ARN: arn,
      Name: nameOf(arn),
      VersionId: version.versionId,
      SecretString: version.secretString,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: version.createdAt.getTime() / 1000,
    });
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { __type: 'InternalServiceError', message: String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    put,
    reads: (arn) => reads.get(arn) ?? 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A secret's name from its ARN: `…:secret:<name>-<6 random characters>`. */
const nameOf = (arn: string): string => (arn.split(':secret:')[1] ?? arn).replace(/-[A-Za-z0-9]{6}$/, '');

function send(response: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  response.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
