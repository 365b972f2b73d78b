/**
 * A burst of approvals: 200 CodePipeline approval notifications published within one second (a
 * product's services reaching a stage together, several products at once), each delivered to the
 * real approval-notification handler as its own Lambda invocation, with every DynamoDB answer
 * 20 ms late. Reported: the time from the first publish to the last message in Slack, against the
 * floor of the last arrival plus the sequential round trips before its post (save, audit, lease,
 * read: 4 × 20 ms). Runs in a process of its own: a process holds one world.
 */
import { startEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import { ids } from '../../app/views/ids.ts';
import { SANDBOX_CHANNELS, startWorld } from '../../sandbox/world.ts';
import { startSlowProxy } from '../../test/support/slow-proxy.ts';
import { burstOfApprovals } from '../../test/support/world-helpers.ts';
import { inChildProcess } from '../child.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const BURST = 200;
const SPREAD_MS = 1_000;
const DYNAMO_LATENCY_MS = 20;
const ROUND_TRIPS_BEFORE_POST = 4;

async function measure(): Promise<BenchRow[]> {
  const dynamo = await startEmbeddedDynamo();
  const proxy = await startSlowProxy(dynamo.endpoint, () => DYNAMO_LATENCY_MS);
  const world = await startWorld({
    env: { APPROVALS_TABLE: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint },
  });
  try {
    const burst = burstOfApprovals(world, BURST, new Date());
    let lastPost = 0;
    const off = world.slack.onChange((event) => {
      if (event.type === 'api_called' && event.call.method === 'chat.postMessage') lastPost = performance.now();
    });
    const started = performance.now();
    let failed = 0;
    await Promise.all(
      burst.map(async ({ event }, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i * SPREAD_MS) / BURST));
        await world.handlers.approvalNotification(event).catch(() => {
          failed += 1;
        });
      }),
    );
    off();
    const posted = world.slack
      .messages(SANDBOX_CHANNELS.approvals)
      .filter((message) => message.metadata?.event_type === ids.metadataEvent).length;
    const measured = lastPost - started;
    const floor = SPREAD_MS + ROUND_TRIPS_BEFORE_POST * DYNAMO_LATENCY_MS;
    return [
      {
        name: `${BURST} approvals within ${SPREAD_MS / 1000} s, DynamoDB ${DYNAMO_LATENCY_MS} ms per call: first publish to last message`,
        measured: `${(measured / 1000).toFixed(2)} s`,
        floor: `${(floor / 1000).toFixed(2)} s (last arrival + ${ROUND_TRIPS_BEFORE_POST} round trips)`,
        ratio: measured / floor,
        notes: `${posted}/${BURST} posted, ${failed} deliveries failed (Lambda would retry them)`,
      },
    ];
  } finally {
    await world.close();
    await proxy.close();
    await dynamo.close();
  }
}

const scenario: BenchScenario = {
  title: `Approval burst (${BURST} notifications within ${SPREAD_MS / 1000} s)`,
  run: inChildProcess(import.meta.url, 'approval-burst', measure),
};
export default scenario;
