/**
 * A burst of approvals: 200 CodePipeline approval notifications published within one second (a
 * product's services reaching a stage together, several products at once), each delivered to the
 * real approval-notification handler as its own Lambda invocation, with every DynamoDB answer
 * 20 ms late. Reported: the time from the first publish to the last message in Slack, against the
 * floor of the last arrival, the review's wait (what am I approving: 200 reviews read at the review's
 * rate outlast its 5 s budget, so the last ones post when it is up) and the sequential round trips
 * before the post (save, audit, lease, read: 4 × 20 ms). Runs in a process of its own: a process
 * holds one world.
 */
import { startEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import { REVIEW_BUDGET_MS } from '../../app/core/revision-review.ts';
import { REVIEW_READS_PER_SECOND } from '../../app/deps.ts';
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
/** Shown on a message whose review was not read in time (app/views/change-set-lines.ts). */
const UNREVIEWED = 'could not read in time what this approval changes';

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
    const messages = world.slack
      .messages(SANDBOX_CHANNELS.approvals)
      .filter((message) => message.metadata?.event_type === ids.metadataEvent);
    // The review (what am I approving) reads CodePipeline at most REVIEW_READS_PER_SECOND per
    // operation; the post waits for it up to REVIEW_BUDGET_MS, then goes without (core/revision-review.ts).
    const unreviewed = messages.filter((message) => JSON.stringify(message.blocks).includes(UNREVIEWED)).length;
    const measured = lastPost - started;
    const reviewMs = Math.min(REVIEW_BUDGET_MS, (BURST / REVIEW_READS_PER_SECOND) * 1000);
    const floor = SPREAD_MS + reviewMs + ROUND_TRIPS_BEFORE_POST * DYNAMO_LATENCY_MS;
    return [
      {
        name: `${BURST} approvals within ${SPREAD_MS / 1000} s, DynamoDB ${DYNAMO_LATENCY_MS} ms per call: first publish to last message`,
        measured: `${(measured / 1000).toFixed(2)} s`,
        floor: `${(floor / 1000).toFixed(2)} s (last arrival + the review's ${reviewMs / 1000} s + ${ROUND_TRIPS_BEFORE_POST} round trips: ${BURST} reviews at ${REVIEW_READS_PER_SECOND} reads/s outlast the review's budget)`,
        ratio: measured / floor,
        notes: `${messages.length}/${BURST} posted, ${unreviewed} of them without their review (its time was up), ${failed} deliveries failed (Lambda would retry them)`,
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
