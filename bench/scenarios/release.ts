/**
 * Product releases against a CodePipeline that answers every call after 50 ms and allows 10 calls
 * per second per operation (a token bucket with a burst of 10, ThrottlingException beyond it).
 * Products of 100 and 500 pipelines, one change waiting in each: the plan (every pipeline read)
 * and the fan-out (every approval given) are timed against the floor the rate limit sets.
 *
 * The release code runs as it does in the worker (real SDK clients over HTTP to the emulator, the
 * embedded DynamoDB, the Slack simulator), with its request limiter set to the emulator's known
 * rate; a third row runs 100 pipelines through Slack (`/release`, then Confirm) with the default
 * limiter of 8 calls/s. Each scenario runs in a process of its own: a process holds one world.
 */
import { loadConfig } from '../../app/config.ts';
import { newReleaseId, releaseCounts } from '../../app/core/release.ts';
import { planReleaseFor } from '../../app/core/release-plan.ts';
import { runRelease } from '../../app/core/release-run.ts';
import { findTarget } from '../../app/core/release-target.ts';
import { workerDeps } from '../../app/inbound/release-jobs.ts';
import { ids } from '../../app/views/ids.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { inChildProcess } from '../child.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const LATENCY_MS = 50;
const LIMIT = 10;
const SIZES = [100, 500] as const;
const DEFAULT_RATE_SIZE = 100;

function floorMs(calls: number): number {
  // A full bucket lets LIMIT calls through at once; every further call waits 1/LIMIT s.
  return (Math.max(0, calls - LIMIT) / LIMIT) * 1000 + LATENCY_MS;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function measure(): Promise<BenchRow[]> {
  const world = await startWorld();
  try {
    const rows: BenchRow[] = [];
    for (const size of SIZES) rows.push(...(await direct(world, size)));
    rows.push(...(await throughSlack(world, DEFAULT_RATE_SIZE)));
    return rows;
  } finally {
    await world.close();
  }
}

/** `size` pipelines of product `name`, each with a commit waiting for approval in StagingDEV. */
async function product(world: World, name: string, size: number): Promise<void> {
  const pipelines = world.emulator.createPipelines(name, size);
  // In batches, so the set-up does not load-test the notification handler.
  for (let i = 0; i < pipelines.length; i += 20) {
    for (const pipeline of pipelines.slice(i, i + 20))
      world.emulator.commit(pipeline, { revisionId: `${pipeline}-c1`, summary: 'Change' });
    await world.settle();
  }
}

function callsSince(world: World): { byOperation: string; throttled: number; total: number } {
  const calls = world.emulator.calls();
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
  return {
    byOperation: [...counts].map(([operation, n]) => `${n} ${operation}`).join(', '),
    throttled: calls.filter((call) => call.error === 'ThrottlingException').length,
    total: calls.length,
  };
}

/** The worker's code, called directly, with the limiter at the emulator's rate. */
async function direct(world: World, size: number): Promise<BenchRow[]> {
  const name = `r${size}`;
  await product(world, name, size);
  const deps = await workerDeps(loadConfig(process.env), { requestRates: { perSecond: LIMIT, burst: 1 } });
  world.emulator.configure({ latencyMs: LATENCY_MS, rateLimitPerSecond: LIMIT });
  world.emulator.clearCalls();

  const planStarted = performance.now();
  const found = await findTarget(deps.reader, deps.config.products, name, 'qa');
  if (!found.ok) throw new Error(`No product ${name}`);
  const releaseId = newReleaseId(deps.ids);
  const requestedBy = { id: 'U0ALICE', name: 'alice', via: 'slack' as const };
  await planReleaseFor(deps, found, { releaseId, requestedBy, source: 'slack' });
  const planMs = performance.now() - planStarted;
  const planCalls = callsSince(world);

  world.emulator.clearCalls();
  await deps.releases.confirm(releaseId, new Date());
  const fanOutStarted = performance.now();
  const report = await runRelease(deps, releaseId, { owner: 'bench' });
  const fanOutMs = performance.now() - fanOutStarted;
  await world.settle();
  const fanOutCalls = callsSince(world);
  world.emulator.configure({ latencyMs: 0, rateLimitPerSecond: undefined });

  const counts = releaseCounts(report.run ?? { items: [], results: {} });
  const seen = counts.total - counts.byKind.approved;
  return [
    {
      name: `${size} pipelines: plan (read every pipeline)`,
      measured: seconds(planMs),
      floor: `${seconds(floorMs(size))} (${size} GetPipelineState at ${LIMIT}/s)`,
      ratio: planMs / floorMs(size),
      goal: '≤ 1.2',
      notes: `${planCalls.total} calls: ${planCalls.byOperation}; ${planCalls.throttled} throttled`,
    },
    {
      name: `${size} pipelines: fan-out (approve every pipeline)`,
      measured: seconds(fanOutMs),
      floor: `${seconds(floorMs(size))} (${size} PutApprovalResult at ${LIMIT}/s)`,
      ratio: fanOutMs / floorMs(size),
      goal: '≤ 1.2',
      notes:
        `${counts.byKind.approved}/${counts.total} approved, ${seen} not approved (seen by the user; goal 0); ` +
        `${fanOutCalls.total} calls: ${fanOutCalls.byOperation}; ${fanOutCalls.throttled} throttled`,
    },
  ];
}

/** The whole path as a person takes it, with the default limiter (8 calls/s per operation). */
async function throughSlack(world: World, size: number): Promise<BenchRow[]> {
  const name = `slack${size}`;
  await product(world, name, size);
  world.emulator.configure({ latencyMs: LATENCY_MS, rateLimitPerSecond: LIMIT });
  world.emulator.clearCalls();

  const started = performance.now();
  const command = await world.slack.slashCommand('U0ALICE', SANDBOX_CHANNELS.approvals, '/release', `${name} qa`);
  await world.settle();
  const planMs = performance.now() - started;
  const view = world.slack.openViews('U0ALICE').at(-1)?.view;
  if (!view) throw new Error('No release modal');
  const planCalls = callsSince(world);
  world.emulator.clearCalls();
  const confirmed = performance.now();
  await world.slack.submitView('U0ALICE', view.id);
  await world.settle();
  const fanOutMs = performance.now() - confirmed;
  const calls = callsSince(world);
  world.emulator.configure({ latencyMs: 0, rateLimitPerSecond: undefined });
  const progress =
    world.slack
      .messages(SANDBOX_CHANNELS.approvals)
      .filter((message) => message.metadata?.event_type === ids.releaseMetadataEvent)
      .at(-1)?.text ?? '';
  // At 8 calls/s with a burst of 8, the floor of n calls is (n - 8) / 8 s.
  const defaultFloor = ((size - 8) / 8) * 1000 + LATENCY_MS;
  return [
    {
      name: `${size} pipelines through Slack, default limiter 8/s: plan`,
      measured: `${seconds(planMs)} (command answered in ${Math.round(command.elapsedMs)} ms)`,
      floor: `${seconds(floorMs(size))} at the service's ${LIMIT}/s; ${seconds(defaultFloor)} at 8/s`,
      ratio: planMs / floorMs(size),
      notes: `${planCalls.total} calls, ${planCalls.throttled} throttled`,
    },
    {
      name: `${size} pipelines through Slack, default limiter 8/s: fan-out`,
      measured: seconds(fanOutMs),
      floor: `${seconds(floorMs(size))} at the service's ${LIMIT}/s; ${seconds(defaultFloor)} at 8/s`,
      ratio: fanOutMs / floorMs(size),
      notes: `"${progress}"; ${calls.total} calls, ${calls.throttled} throttled`,
    },
  ];
}

const scenario: BenchScenario = {
  title: 'Product release fan-out (50 ms per call, 10 calls/s per operation)',
  run: inChildProcess(import.meta.url, 'release', measure),
};
export default scenario;
