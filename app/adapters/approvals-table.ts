import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * The approvals table, one table for everything (single-table design):
 * - `APPROVAL#<id>` / `APPROVAL`          the approval record
 * - `APPROVAL#<id>` / `EVENT#<eventId>`  its audit events (one item per event id: appends are idempotent)
 * - `AUDIT#unattributed` / `EVENT#<eventId>`  refused input that names no approval we know
 * - `RELEASE#<id>` / `RUN`, `PLAN#…`, `ITEM#<pipeline>`  a release run (dynamo-release-store.ts)
 * - `DIGEST#<yyyy-mm-dd>` / `DIGEST`     the day's digest marker (dynamo-digest-markers.ts)
 * Attribute `ttl` (epoch seconds) lets DynamoDB delete items that expire (release plans).
 * GSI `byDay`   (`dayPk` = `DAY#<yyyy-mm-dd>`, `daySk` = `<at>#<eventId>`): the audit trail per day;
 *               a closed approval record is in it too, as its own `outcome` event
 * GSI `pending` (`pendingPk` = `OPEN`, `pendingSk` = `<receivedAt>#<id>`): open approvals, oldest first;
 *               sparse: an approval leaves it when it closes.
 * The CDK stack declares the same keys (infra/); this definition creates the embedded and test tables.
 */
export const TABLE_KEYS = {
  partition: 'pk',
  sort: 'sk',
  byDay: { name: 'byDay', partition: 'dayPk', sort: 'daySk' },
  pending: { name: 'pending', partition: 'pendingPk', sort: 'pendingSk' },
} as const;

export async function createApprovalsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const s = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  const index = (i: { name: string; partition: string; sort: string }) => ({
    IndexName: i.name,
    KeySchema: [
      { AttributeName: i.partition, KeyType: 'HASH' as const },
      { AttributeName: i.sort, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          s(TABLE_KEYS.partition),
          s(TABLE_KEYS.sort),
          s(TABLE_KEYS.byDay.partition),
          s(TABLE_KEYS.byDay.sort),
          s(TABLE_KEYS.pending.partition),
          s(TABLE_KEYS.pending.sort),
        ],
        KeySchema: [
          { AttributeName: TABLE_KEYS.partition, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sort, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [index(TABLE_KEYS.byDay), index(TABLE_KEYS.pending)],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
}
