import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { type EmbeddedDynamo, localCredentials, startEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';

export interface LocalDynamo {
  /** The dynalite server with the approvals table (valid inside tests). */
  readonly dynamo: EmbeddedDynamo;
  /** A client for it (valid inside tests). */
  readonly client: DynamoDBClient;
}

/** A dynalite DynamoDB with the approvals table for the tests of one file, started once and closed after. */
export function useLocalDynamo(): LocalDynamo {
  let dynamo: EmbeddedDynamo | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: localCredentials });
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error('The local DynamoDB starts in beforeAll: use it inside tests');
    return value;
  };
  return {
    get dynamo() {
      return started(dynamo);
    },
    get client() {
      return started(client);
    },
  };
}
