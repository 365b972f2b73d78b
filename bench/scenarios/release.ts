/**
 * Product releases against a CodePipeline that answers every call after 50 ms and allows 10 (or 5)
 * calls per second per operation (a token bucket with a burst of the same size, ThrottlingException
 * beyond it). Products of 100 and 500 pipelines, one change waiting in each: the plan (every
 * pipeline read) and the fan-out (every approval given) are timed against the floor the rate limit
 * sets.
 *
 * The release code runs as it does in the worker (real SDK clients over HTTP to the emulator, the
 * embedded DynamoDB, the Slack simulator) with its default settings: the request limiter starts at
 * its default rate and learns the service's limit from its throttling, from scratch in each row (a
 * new worker's limiter). A last row runs 100 pipelines through Slack (`/release`, then Confirm).
 * Each scenario runs in a process of its own: a process holds one world.
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
/**
 * Products released directly, and the service's limit for each: `size@limit`, comma-separated;
 * RELEASE_BENCH_RUNS picks some (an empty value: only the release through Slack).
 */
const RUNS = (process.env.RELEASE_BENCH_RUNS ?? '100@10,500@10,100@5')
  .split(',')
  .filter(Boolean)
  .map((run) => {
    const [size, limit] = run.split('@').map(Number);
    return { size: size ?? 100, limit: limit ?? LIMIT };
  });
const SLACK_SIZE = 100;

function floorMs(calls: number, limit: number = LIMIT): number {
  // A full bucket lets `limit` calls through at once; every further call waits 1/limit s.
  return (Math.max(0, calls - limit) / limit) * 1000 + LATENCY_MS;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function measure(): Promise<BenchRow[]> {
  // PIPELINE_EVENTS=1 also delivers CodePipeline's events to their handler, in this same process.
  const world = await startWorld({ pipelineEvents: process.env.PIPELINE_EVENTS === '1' });
  try {
    const rows: BenchRow[] = [];
    const done = (more: BenchRow[]) => {
      // Progress on stderr: the whole scenario takes minutes.
      for (const row of more) process.stderr.write(`release: ${row.name}: ${row.measured}\n`);
      rows.push(...more);
    };
    for (const { size, limit } of RUNS) done(await direct(world, size, limit));
    done(await throughSlack(world, SLACK_SIZE));
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

/** The worker's code, called directly, with its default limiter (which knows nothing of `limit`). */
async function direct(world: World, size: number, limit: number): Promise<BenchRow[]> {
  const name = `r${size}at${limit}`;
  await product(world, name, size);
  const deps = await workerDeps(loadConfig(process.env));
  world.emulator.configure({ latencyMs: LATENCY_MS, rateLimitPerSecond: limit });
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
  const goal = limit >= 10 ? '≤ 1.1' : '≤ 1.2';
  return [
    {
      name: `${size} pipelines, service allows ${limit}/s: plan (read every pipeline)`,
      measured: seconds(planMs),
      floor: `${seconds(floorMs(size, limit))} (${size} GetPipelineState at ${limit}/s)`,
      ratio: planMs / floorMs(size, limit),
      goal,
      notes: `${planCalls.total} calls: ${planCalls.byOperation}; ${planCalls.throttled} throttled`,
    },
    {
      name: `${size} pipelines, service allows ${limit}/s: fan-out (approve every pipeline)`,
      measured: seconds(fanOutMs),
      floor: `${seconds(floorMs(size, limit))} (${size} PutApprovalResult at ${limit}/s)`,
      ratio: fanOutMs / floorMs(size, limit),
      goal,
      notes:
        `${counts.byKind.approved}/${counts.total} approved, ${seen} not approved (seen by the user; goal 0); ` +
        `${fanOutCalls.total} calls: ${fanOutCalls.byOperation}; ${fanOutCalls.throttled} throttled`,
    },
  ];
}

/** The progress message of the release of `product`, once it says the release is over (within 2 minutes). */
async function releasedMessage(world: World, product: string): Promise<string> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const text =
      world.slack
        .messages(SANDBOX_CHANNELS.approvals)
        .filter((message) => message.metadata?.event_type === ids.releaseMetadataEvent)
        .at(-1)?.text ?? '';
    if (text.includes(`Released ${product} to`)) return text;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`The release of ${product} did not finish within 2 minutes`);
}

/** The whole path as a person takes it, with the default limiter. */
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
  // Done when the person is told so: the progress message says the product was released. What
  // the approvals set off downstream (the next stage's approvals, the journey's thread posts) goes
  // on after that, and is settled before the next row, unmeasured.
  const progress = await releasedMessage(world, name);
  const fanOutMs = performance.now() - confirmed;
  const calls = callsSince(world);
  await world.settle();
  world.emulator.configure({ latencyMs: 0, rateLimitPerSecond: undefined });
  return [
    {
      name: `${size} pipelines through Slack, service allows ${LIMIT}/s: plan`,
      measured: `${seconds(planMs)} (command answered in ${Math.round(command.elapsedMs)} ms)`,
      floor: `${seconds(floorMs(size))} (${size} GetPipelineState at ${LIMIT}/s)`,
      ratio: planMs / floorMs(size),
      goal: '≤ 1.1',
      notes: `${planCalls.total} calls, ${planCalls.throttled} throttled`,
    },
    {
      name: `${size} pipelines through Slack, service allows ${LIMIT}/s: fan-out`,
      measured: seconds(fanOutMs),
      floor: `${seconds(floorMs(size))} (${size} PutApprovalResult at ${LIMIT}/s)`,
      ratio: fanOutMs / floorMs(size),
      goal: '≤ 1.1',
      notes: `"${progress}"; ${calls.total} calls, ${calls.throttled} throttled`,
    },
  ];
}

const scenario: BenchScenario = {
  title: 'Product release fan-out (50 ms per call, 10 or 5 calls/s per operation, default limiter)',
  run: inChildProcess(import.meta.url, 'release', measure),
};
export default scenario;
