import { type ChildProcess, spawn } from 'node:child_process';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDynamo, localCredentials, startEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { type SlowProxy, startSlowProxy } from '../support/slow-proxy.ts';
import { APPROVALS_CHANNEL, burstOfApprovals, messageApprovalId } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const BURST = 200;

let dynamo: EmbeddedDynamo;
let proxy: SlowProxy;
let world: World;
let hog: ChildProcess | undefined;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  // Every DynamoDB answer comes 50–450 ms late: past the click path's 400 ms budget, well inside ingest's.
  proxy = await startSlowProxy(dynamo.endpoint, () => 50 + Math.random() * 400);
  world = await startWorld({
    env: { APPROVALS_TABLE: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint },
  });
});

afterAll(async () => {
  hog?.kill();
  await world?.close();
  await proxy?.close();
  await dynamo?.close();
});

/** Another process keeps a core busy, as a loaded CI machine does. */
function busyCore(seconds: number): ChildProcess {
  return spawn(process.execPath, ['-e', `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`], {
    stdio: 'ignore',
  });
}

/** What Lambda does with an asynchronous (SNS) invocation: the first try and two retries, then the DLQ. */
async function deliverLikeLambda(handler: (event: SNSEvent) => Promise<void>, event: SNSEvent): Promise<true | string> {
  let failure = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await handler(event);
      return true;
    } catch (error) {
      failure = `${(error as Error).name}: ${(error as Error).message}`;
      // Lambda waits about one minute, then two; the test waits 3 s, then 6 s.
      await new Promise((resolve) => setTimeout(resolve, 3_000 * attempt));
    }
  }
  return failure;
}

describe('a burst of approvals', () => {
  it(`posts ${BURST} approvals arriving within a second, on a busy machine with a slow DynamoDB: one message each, none lost, no lease left`, async () => {
    // Prepare
    const burst = burstOfApprovals(world, BURST, new Date());
    hog = busyCore(60);

    // Act: all within one second, each as its own Lambda invocation
    const delivered = await Promise.all(
      burst.map(async ({ event }, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * 1000) / BURST));
        return deliverLikeLambda(world.handlers.approvalNotification, event);
      }),
    );
    hog.kill();

    // Assess
    expect(delivered.filter((ok) => ok !== true)).toEqual([]);
    const shown = world.slack.messages(APPROVALS_CHANNEL).map(messageApprovalId);
    expect(new Set(shown).size).toBe(BURST);
    expect(shown).toHaveLength(BURST);
    expect(new Set(burst.map((b) => b.approvalId))).toEqual(new Set(shown));
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: localCredentials });
    const { Items = [] } = await client.send(
      new ScanCommand({
        TableName: dynamo.tableName,
        FilterExpression: 'sk = :approval',
        ExpressionAttributeValues: { ':approval': { S: 'APPROVAL' } },
      }),
    );
    client.destroy();
    expect(Items).toHaveLength(BURST);
    expect(Items.filter((item) => item.message === undefined)).toHaveLength(0);
    expect(Items.filter((item) => item.postLease !== undefined)).toHaveLength(0);
  }, 120_000);
});
