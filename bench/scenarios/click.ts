/**
 * The approve click, measured honestly: 200 clicks on 200 approval messages, one after the other,
 * through the real slack-events handler (signed request → Bolt → claim → PutApprovalResult → outcome
 * → chat.update), with latency on every remote: DynamoDB 5 ms, CodePipeline 50 ms, Slack 50 ms.
 *
 * - Greenlight runs alone in this process, as the stack deploys it (the esbuild bundle);
 *   DynamoDB, CodePipeline and Slack are simulated in another (bench/click-world.ts). The CPU time
 *   this process spends inside the handler is the app's own: Bolt, the SDK clients, Node's HTTP
 *   client and our code, none of the simulators; on Linux, the main thread's part is shown apart
 *   from V8's compiler and GC threads. Its floor is what the click's calls cost as bare HTTP
 *   requests with the same waits on this machine (measured after the clicks). `BENCH_NODE=<node>`
 *   runs it on another Node.js, Lambda's nodejs24.x say.
 * - Each call to a remote takes that remote's latency: a proxy holds the answer until then
 *   (bench/remote-trace.ts), so a simulator's own work costs the click nothing unless it takes
 *   longer (counted). The proxies also trace the calls: those waited for one after the other are
 *   the click's sequential round trips; a call that ends after the handler answered is background
 *   work, shown apart; the click's time with no call in flight is the app's own (or its wait for
 *   a CPU on a busy machine).
 * - The pipelines have one approval, so approving it starts no next approval whose notification
 *   would run in the measured click.
 *
 * Floor: the design's 3 sequential round trips, claim (DynamoDB) → PutApprovalResult (CodePipeline)
 * → outcome (DynamoDB) ∥ chat.update (Slack): 5 + 50 + 50 = 105 ms.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SNSEvent } from 'aws-lambda';
import { type FunctionUrlServer, serveFunctionUrl } from '../../sandbox/app/function-url-server.ts';
import { bundleAsDeployed } from '../bundle.ts';
import { inChildProcess } from '../child.ts';
import type { ClickOutcome } from '../click-world.ts';
import { connect } from '../ipc.ts';
import type { BenchRow, BenchScenario } from '../main.ts';
import {
  describeSteps,
  floorOf,
  monotonicMs,
  type RemoteCall,
  type Service,
  stepsOf,
  timeWithoutCalls,
} from '../remote-trace.ts';

/** BENCH_CLICKS=<n> measures more clicks (the JIT settles over the first few hundred). */
const CLICKS = Number(process.env.BENCH_CLICKS ?? 200);
/** The first click builds the handler's clients and Bolt: reported apart, not in the percentiles. */
const COLD_CLICKS = 1;
const LATENCY_MS: Record<Service, number> = { DynamoDB: 5, CodePipeline: 50, Slack: 50 };
const FLOOR_ROUND_TRIPS = 3;
const FLOOR_MS = LATENCY_MS.DynamoDB + LATENCY_MS.CodePipeline + Math.max(LATENCY_MS.DynamoDB, LATENCY_MS.Slack);

interface HandlerRun {
  start: number;
  end: number;
  cpuMs: number;
  /** The main thread's part of cpuMs, and its time waiting for a CPU (Linux only). */
  thread?: ThreadTimes;
}

interface ThreadTimes {
  cpuMs: number;
  waitMs: number;
}

/**
 * The calling thread's CPU time and time spent runnable but waiting for a CPU, where Linux tells
 * them (/proc/thread-self/schedstat, in nanoseconds); undefined elsewhere.
 */
function threadTimes(): ThreadTimes | undefined {
  try {
    const [cpuNs = Number.NaN, waitNs = Number.NaN] = readFileSync('/proc/thread-self/schedstat', 'utf8')
      .split(' ')
      .map(Number);
    return { cpuMs: cpuNs / 1e6, waitMs: waitNs / 1e6 };
  } catch {
    return undefined;
  }
}

interface Click {
  wallMs: number;
  /** Wall time with no remote call in flight: Greenlight working, or waiting for a CPU. */
  ownMs: number;
  cpuMs: number;
  /** The main thread's part of cpuMs, and its time waiting for a CPU (Linux only). */
  thread?: ThreadTimes;
  /** The simulators' CPU time over the click, in their own process. */
  worldCpuMs: number;
  /** The calls waited for one after the other before the answer. */
  steps: RemoteCall[][];
  /** Calls that ended after the answer (background work). */
  after: RemoteCall[];
  /** Calls before the answer whose simulator took longer than the latency (the machine was busy). */
  slowRemotes: number;
  ok: boolean;
  /** The app's HTTP status, for a click that went wrong. */
  status: number;
}

async function measure(): Promise<BenchRow[]> {
  const worldProcess: ChildProcess = fork(fileURLToPath(new URL('../click-world.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  let notify: ((event: SNSEvent) => Promise<void>) | undefined;
  let clicking = false;
  let notifiedWhileClicking = 0;
  const world = connect(worldProcess, {
    // SNS → the approval-notification handler, here, while the world is set up (never during a click).
    notification: async (event: SNSEvent) => {
      if (!notify) throw new Error('Greenlight is still starting');
      if (clicking) notifiedWhileClicking += 1;
      await notify(event);
    },
  });
  let app: FunctionUrlServer | undefined;
  const bundleDir = mkdtempSync(join(tmpdir(), 'greenlight-bench-click-'));
  try {
    Object.assign(process.env, await world.call<Record<string, string>>('start'));
    notify = (await import('../../handlers/approval-notification.ts')).handler;
    const { handler: slackEvents } = await slackEventsHandler(bundleDir);

    const runs: HandlerRun[] = [];
    const measured: typeof slackEvents = async (event, context) => {
      const thread = threadTimes();
      const cpu = process.cpuUsage();
      const start = monotonicMs();
      try {
        return await slackEvents(event, context);
      } finally {
        const end = monotonicMs();
        const used = process.cpuUsage(cpu);
        const threadNow = threadTimes();
        runs.push({
          start,
          end,
          cpuMs: (used.user + used.system) / 1000,
          ...(thread && threadNow
            ? { thread: { cpuMs: threadNow.cpuMs - thread.cpuMs, waitMs: threadNow.waitMs - thread.waitMs } }
            : {}),
        });
      }
    };
    app = await serveFunctionUrl(measured);

    const approvals = COLD_CLICKS + CLICKS;
    const posted = await world.call<number>('setup', { appUrl: app.url, approvals });
    if (posted !== approvals) throw new Error(`Expected ${approvals} approval messages, got ${posted}`);
    await world.call('latency', LATENCY_MS);

    const clicks: Click[] = [];
    clicking = true;
    for (let i = 0; i < approvals; i++) {
      const outcome = await world.call<ClickOutcome>('click', i);
      const run = runs.at(-1);
      if (!run || runs.length !== i + 1) throw new Error(`Click ${i} did not reach the handler exactly once`);
      // The proxies stamp a call's end before the app reads the answer: an answered call ended first.
      const before = outcome.calls.filter((call) => call.end <= run.end);
      clicks.push({
        wallMs: run.end - run.start,
        ownMs: timeWithoutCalls(before, run.start, run.end),
        cpuMs: run.cpuMs,
        ...(run.thread ? { thread: run.thread } : {}),
        worldCpuMs: outcome.worldCpuMs,
        steps: stepsOf(before),
        after: outcome.calls.filter((call) => call.end > run.end),
        slowRemotes: before.filter((call) => call.remoteMs > LATENCY_MS[call.service]).length,
        ok: outcome.status === 200 && !outcome.refused,
        status: outcome.status,
      });
    }
    const { approved } = await world.call<{ approved: number }>('summary');
    const bare = await bareClickCpuMs(await world.call<string>('echo'));
    return report(clicks.slice(0, COLD_CLICKS), clicks.slice(COLD_CLICKS), approved, notifiedWhileClicking, bare);
  } finally {
    await app?.close();
    worldProcess.disconnect();
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

/**
 * The slack-events handler as Lambda runs it: bundled as the stack deploys it, so the JIT warms
 * only what a click runs, as in a container that serves Slack alone. `BENCH_SOURCE=1` measures the
 * TypeScript source instead, whose CPU profiles (`BENCH_CPU_PROF`) name functions and files.
 */
async function slackEventsHandler(dir: string): Promise<typeof import('../../handlers/slack-events.ts')> {
  if (process.env.BENCH_SOURCE) return import('../../handlers/slack-events.ts');
  const bundle = join(dir, 'slack-events.mjs');
  await bundleAsDeployed('slack-events', bundle);
  return import(pathToFileURL(bundle).href);
}

/**
 * The CPU time this process spends on a bare click: the click's calls as bare HTTP requests over
 * loopback (Node's client, kept alive, a 2 KB form body, to a server in the world's process), each
 * answered after its remote's latency, in the click's order: DynamoDB, then CodePipeline, then
 * DynamoDB beside Slack. The floor under the click's CPU before any SDK, Bolt or Greenlight code,
 * waits included (a process that waits pays again for cold caches and its wake-up). Median of 40.
 */
async function bareClickCpuMs(url: string): Promise<{ cpuMs: number; calls: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  const body = `payload=${'x'.repeat(2_000)}`;
  const call = (service: Service) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        `${url}?ms=${LATENCY_MS[service]}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const click = async () => {
    await call('DynamoDB');
    await call('CodePipeline');
    await Promise.all([call('DynamoDB'), call('Slack')]);
  };
  try {
    for (let i = 0; i < 10; i++) await click();
    const cpus: number[] = [];
    for (let i = 0; i < 40; i++) {
      const cpu = process.cpuUsage();
      await click();
      const used = process.cpuUsage(cpu);
      cpus.push((used.user + used.system) / 1000);
    }
    return { cpuMs: cpus.sort((a, b) => a - b)[20] ?? Number.NaN, calls: 4 };
  } finally {
    agent.destroy();
  }
}

function report(
  cold: Click[],
  all: Click[],
  approved: number,
  notified: number,
  bare: { cpuMs: number; calls: number },
): BenchRow[] {
  const failed = [...cold, ...all].filter((click) => !click.ok);
  const clickRow: BenchRow = {
    name: 'clicks',
    measured: `${approved}/${all.length + cold.length} approved`,
    notes: `${failed.length} answered with an error or refused${failed[0] ? ` (first: HTTP ${failed[0].status})` : ''}; ${notified} approval notifications handled while clicking`,
  };
  // A click that failed did less work than one that decided: figures cover the clicks that decided.
  const clicks = all.filter((click) => click.ok);
  if (clicks.length === 0) return [clickRow];
  const percentile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  };
  const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
  const cpu = clicks.map((click) => click.cpuMs);
  const worldCpu = clicks.map((click) => click.worldCpuMs);
  const wall = clicks.map((click) => click.wallMs);
  const own = clicks.map((click) => click.ownMs);
  const depths = new Map<number, number>();
  for (const click of clicks) depths.set(click.steps.length, (depths.get(click.steps.length) ?? 0) + 1);
  const depthText = [...depths]
    .sort(([a], [b]) => a - b)
    .map(([depth, count]) => `${depth}: ${count}`)
    .join(', ');
  // The sequences the clicks took, most frequent first; the first stands for the rest.
  const sequences = new Map<string, Click[]>();
  for (const click of clicks) {
    const key = describeSteps(click.steps);
    sequences.set(key, [...(sequences.get(key) ?? []), click]);
  }
  const [[sequence, typical] = ['—', []], ...others] = [...sequences].sort(([, a], [, b]) => b.length - a.length);
  const typicalSteps = typical[0]?.steps ?? [];
  const othersText = others.map(([text, some]) => `${some.length}× ${text}`).join('; ');
  const afterCalls = new Map<string, number>();
  for (const call of clicks.flatMap((click) => click.after)) {
    const key = `${call.service} ${call.operation}`;
    afterCalls.set(key, (afterCalls.get(key) ?? 0) + 1);
  }
  const afterText = afterCalls.size
    ? [...afterCalls].map(([name, count]) => `${name} ×${count}`).join(', ')
    : 'nothing';
  const slow = clicks.reduce((sum, click) => sum + click.slowRemotes, 0);
  const floorText = `${FLOOR_MS} ms (${FLOOR_ROUND_TRIPS} round trips: DynamoDB ${LATENCY_MS.DynamoDB} → CodePipeline ${LATENCY_MS.CodePipeline} → DynamoDB ∥ Slack ${LATENCY_MS.Slack})`;
  const threads = clicks.flatMap((click) => (click.thread ? [click.thread] : []));
  const threadText =
    threads.length === clicks.length
      ? `; the main thread p50 ${ms(
          percentile(
            threads.map((t) => t.cpuMs),
            0.5,
          ),
        )} (the rest is V8's compiler and GC threads), which waited for a CPU p50 ${ms(
          percentile(
            threads.map((t) => t.waitMs),
            0.5,
          ),
        )}`
      : '';
  const measuredWhat = `${process.env.BENCH_SOURCE ? 'the TypeScript source' : 'the deployed bundle'} on Node.js ${process.versions.node}`;
  const wallP50 = percentile(wall, 0.5);
  const wallP99 = percentile(wall, 0.99);
  return [
    {
      name: `app CPU per click (Greenlight's process only; the simulators run in another; ${measuredWhat}): p50`,
      measured: ms(percentile(cpu, 0.5)),
      floor: `${ms(bare.cpuMs)} (a bare click on this machine: its ${bare.calls} calls as bare HTTP requests, with the same waits)`,
      ratio: percentile(cpu, 0.5) / bare.cpuMs,
      goal: '≤ 5 ms',
      notes: `user + system time of the whole process${threadText}; not counted: the simulators' CPU p50 ${ms(percentile(worldCpu, 0.5))}`,
    },
    {
      name: 'app CPU per click: p99',
      measured: ms(percentile(cpu, 0.99)),
      goal: '≤ 20 ms',
      notes: `max ${ms(Math.max(...cpu))}; first (cold) click ${ms(cold[0]?.cpuMs ?? 0)}`,
    },
    {
      name: 'click end to end, latency on every remote: p50',
      measured: ms(wallP50),
      floor: floorText,
      ratio: wallP50 / FLOOR_MS,
      goal: '≤ 1.1×',
      notes: `the floor of the sequence most clicks took: ${floorOf(typicalSteps, LATENCY_MS)} ms`,
    },
    {
      name: 'click end to end: p99',
      measured: ms(wallP99),
      floor: `${FLOOR_MS} ms`,
      ratio: wallP99 / FLOOR_MS,
      goal: '≤ 1.1×',
      notes: `max ${ms(Math.max(...wall))}; first (cold) click ${ms(cold[0]?.wallMs ?? 0)}; ${slow} calls before an answer took longer than their latency (a busy simulator)`,
    },
    {
      name: 'click time with no remote call in flight (the app, or the app waiting for a CPU): p50',
      measured: ms(percentile(own, 0.5)),
      goal: `≤ ${(FLOOR_MS * 0.1).toFixed(1)} ms (what 1.1× the floor leaves)`,
      notes: `p99 ${ms(percentile(own, 0.99))}`,
    },
    {
      name: 'sequential round trips per click',
      measured: String(typicalSteps.length),
      floor: String(FLOOR_ROUND_TRIPS),
      notes: `clicks by round trips: ${depthText}; ${typical.length}/${clicks.length}: ${sequence}${othersText ? `; ${othersText}` : ''}; after the answer, over all clicks: ${afterText}`,
    },
    clickRow,
  ];
}

const scenario: BenchScenario = {
  title: `Approve click (${CLICKS} clicks; latency per call: DynamoDB ${LATENCY_MS.DynamoDB} ms, CodePipeline ${LATENCY_MS.CodePipeline} ms, Slack ${LATENCY_MS.Slack} ms)`,
  run: inChildProcess(import.meta.url, 'click', measure),
};
export default scenario;
