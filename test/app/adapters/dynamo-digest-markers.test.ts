import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDigestMarkers } from '../../../app/adapters/dynamo-digest-markers.ts';
import type { DigestMarkers } from '../../../app/core/digest-posting.ts';
import { MemoryMarkers } from '../../support/digest-fakes.ts';
import { useLocalDynamo } from '../../support/local-dynamo.ts';

const local = useLocalDynamo();
let days = 0;

/** A day no other case has used: the markers of one table are shared. */
const freshDay = () => new Date(Date.UTC(2025, 2, 1) + days++ * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);

const t0 = new Date('2025-03-10T07:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const window = (day: string) => ({ day, since: new Date('2025-03-07T07:00:00Z'), until: t0 });
const message = { channel: 'C0DIGEST', ts: '1741590001.000100' };

/** A day's marker through its life: leased, read, posted twice (the first record stands), read, leased again. */
async function story(markers: DigestMarkers) {
  const day = freshDay();
  await markers.lease(day, 'run-1', later(150_000), t0);
  const whileLeased = await markers.posted(day);
  await markers.recordPosted(day, message, later(20_000), window(day));
  await markers.recordPosted(day, { ...message, ts: '1741590002.000100' }, later(30_000), {
    ...window(day),
    until: later(60_000),
  });
  const posted = await markers.posted(day);
  const leaseAfterPost = await markers.lease(day, 'run-2', later(400_000), later(250_000));
  const neverRun = await markers.posted(freshDay());
  return { whileLeased, posted, leaseAfterPost, neverRun };
}

describe('the digest markers', () => {
  it('remember the window a posted digest covered, for the next one to start from, on dynalite as in the fake', async () => {
    // Prepare
    const dynamo = new DynamoDigestMarkers(DynamoDBDocumentClient.from(local.client), local.dynamo.tableName);
    const memory = new MemoryMarkers();

    // Act
    const onDynamo = await story(dynamo);
    const inMemory = await story(memory);

    // Assess: a lease is no digest; the first record stands, and ends the day as before
    expect(onDynamo).toEqual({
      whileLeased: undefined,
      posted: { postedAt: later(20_000), coversUntil: t0 },
      leaseAfterPost: 'posted',
      neverRun: undefined,
    });
    expect(inMemory).toEqual(onDynamo);
  });
});

describe('DynamoDigestMarkers', () => {
  it('reads a marker recorded before windows were by the time of its post', async () => {
    // Prepare: the item as the adapter wrote it before it recorded windows
    const db = DynamoDBDocumentClient.from(local.client);
    const day = freshDay();
    await db.send(
      new PutCommand({
        TableName: local.dynamo.tableName,
        Item: { pk: `DIGEST#${day}`, sk: 'DIGEST', message, postedAt: later(20_000).toISOString() },
      }),
    );

    // Act
    const posted = await new DynamoDigestMarkers(db, local.dynamo.tableName).posted(day);

    // Assess
    expect(posted).toEqual({ postedAt: later(20_000) });
  });
});
