import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { type CapturedLogs, captureLogs } from '../fuzz/fuzz-support.ts';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../support/dynamo-fault-proxy.ts';
import { productWaitsAt, release, shownIn } from '../support/release-world.ts';

/**
 * `/release digest` reads within the slash command's short budget when the installation is small.
 * When DynamoDB answers later than that budget (found by the long fuzz run, under load), the preview
 * is not lost and nothing is logged as an error: the release worker reads it on its patient budget
 * and shows it through the command's response_url.
 */

const { approvals: APPROVALS } = SANDBOX_CHANNELS;
let world: World;
let proxy: DynamoFaultProxy;
let logs: CapturedLogs;

beforeAll(async () => {
  logs = captureLogs();
  const dynamo = await sharedEmbeddedDynamo();
  // Later than the command can wait for its digest preview, within the worker's budget per call.
  proxy = await startDynamoFaultProxy(dynamo.endpoint, 2_500);
  world = await startWorld({
    env: {
      APPROVALS_TABLE: dynamo.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    },
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
  await proxy?.close();
  logs?.restore();
});

describe('/release digest when DynamoDB is slow', () => {
  it('hands the preview to the worker instead of failing, and logs no error', async () => {
    // Prepare: a small installation, read within the command; DynamoDB's queries answer late
    await productWaitsAt(world, 'calm', ['api'], 'StagingDEV');
    const before = world.slack.ephemerals(APPROVALS, 'U0ALICE').length;
    const mark = logs.mark();
    proxy.arm(Array.from({ length: 10 }, (_, nth) => ({ operation: 'Query' as const, nth, kind: 'slow' as const })));

    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'digest');
    proxy.disarm();

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(3000);
    expect(proxy.injected.slow).toBeGreaterThan(0);
    const shown = world.slack.ephemerals(APPROVALS, 'U0ALICE').slice(before);
    expect(shown.map((ephemeral) => shownIn(ephemeral)).join('\n')).toContain('A preview only you can see');
    expect(shown.map((ephemeral) => ephemeral.text).join('\n')).not.toContain('went wrong');
    const lines = logs.since(mark);
    expect(lines.filter((line) => line.level === 'ERROR').map((line) => line.message)).toEqual([]);
    expect(lines.map((line) => line.message)).toContain(
      'Could not build the digest preview within the command; the worker builds it',
    );
  });
});
