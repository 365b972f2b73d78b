import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createApprovalsTable } from './approvals-table.ts';

export interface EmbeddedDynamo {
  endpoint: string;
  tableName: string;
  close(): Promise<void>;
}

export const EMBEDDED_TABLE = 'greenlight-approvals';

/**
 * A DynamoDB on loopback (dynalite) with the approvals table created, for running with no AWS
 * account. In memory unless `dataDir` is given.
 */
export async function startEmbeddedDynamo(options: { dataDir?: string; port?: number } = {}): Promise<EmbeddedDynamo> {
  // Imported here, not at the top: the Lambda bundles leave dynalite (and its native LevelDB) out.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: localCredentials });
  await createApprovalsTable(client, EMBEDDED_TABLE);
  client.destroy();
  return {
    endpoint,
    tableName: EMBEDDED_TABLE,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** dynalite accepts any credentials; these keep the SDK from looking for real ones. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let shared: Promise<EmbeddedDynamo> | undefined;

/** One embedded DynamoDB per process, shared by every handler in it (docs/architecture.md). */
export function sharedEmbeddedDynamo(): Promise<EmbeddedDynamo> {
  shared ??= startEmbeddedDynamo();
  return shared;
}
