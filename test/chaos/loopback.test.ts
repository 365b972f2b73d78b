/*
 * Chaos over loopback: decisions stay true when the real handlers meet faults on the wire
 * (docs/architecture.md, "One decision per approval", "Settling an approval"). decisions.test.ts
 * runs the core on fakes, thousands of schedules a second; this runs the whole app as deployed:
 * the SNS handler, slack-events with HMAC-signed clicks over HTTP, the release worker's settle
 * jobs, the real AWS SDK against dynalite and the CodePipeline emulator, the real Slack SDK
 * against the Slack simulator.
 *
 * Each case: a commit waits for approval in a fresh pipeline and Greenlight posts its message (no
 * faults yet). Then one to four steps (loopback-world.ts); each arms up to four faults (DynamoDB
 * throttled with ProvisionedThroughputExceededException or ThrottlingException, answering past
 * the client's timeout, or applying a write whose answer is lost; CodePipeline throttling,
 * answering 500 / 503, or applying PutApprovalResult without an answer; Slack answering 429 with
 * Retry-After, 503, or after the client gave up), starts one to four actions together (clicks by up
 * to four people, Approve or Reject with a reason; settle jobs; SNS delivering the notification
 * again), and moves the clock 0–90 s on (Date is faked for every part of the world; timers are
 * real). Then the system comes to rest: the faults pass, every claim runs out, the jobs the app
 * queued (settle jobs, redraws after Retry-After) run. The invariants in `assess` must hold, read
 * from the outside: CodePipeline's calls and state (the emulator), the audit trail (the table,
 * through the store) and the message (the simulator).
 *
 * Runs: CHAOS_LOOPBACK_RUNS, else CHAOS_RUNS, else 20 (about 40 s); a case takes 0.3–4 s.
 * Replay: the report prints the seed, the path and the command. The seed replays the schedule (steps,
 * actions, faults); how the concurrent calls of one step interleave on loopback is up to the
 * machine, so a race may need a few replays. A failure is not shrunk unless CHAOS_SHRINK=1 (each
 * shrinking step is a loopback run). CHAOS_KEEP_GOING=1 runs every case, counts the ones that
 * broke an invariant (by the invariant's words) and fails at the end with each one's replay.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharedEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import { ids } from '../../app/views/ids.ts';
import type { Person } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../support/dynamo-fault-proxy.ts';
import {
  APPROVALS_CHANNEL,
  approvalMessages,
  auditOf,
  auditStore,
  buttonsOf,
  currentMessage,
  messageApprovalId,
  shown,
  users,
} from '../support/world-helpers.ts';
import { Tally } from './chaos-world.ts';
import { LoopbackRun, type LoopbackStep, loopbackSchedules, PEOPLE } from './loopback-world.ts';

// CHAOS_LOG_LEVEL=WARN shows what the handlers logged, for a replay.
process.env.POWERTOOLS_LOG_LEVEL = process.env.CHAOS_LOG_LEVEL ?? 'SILENT';

const integer = (raw: string | undefined): number | undefined => {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(value) ? value : undefined;
};

const RUNS = Math.max(1, integer(process.env.CHAOS_LOOPBACK_RUNS) ?? integer(process.env.CHAOS_RUNS) ?? 20);
const SEED = integer(process.env.CHAOS_SEED) ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.CHAOS_PATH || undefined;
const SHRINK = process.env.CHAOS_SHRINK === '1';
const KEEP_GOING = process.env.CHAOS_KEEP_GOING === '1';

let world: World;
let proxy: DynamoFaultProxy;
let people: Person[];
let pipelines = 0;

beforeAll(async () => {
  // Every clock of the world (handlers, emulator, Slack, signatures) reads Date; the suite moves it.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  const dynamo = await sharedEmbeddedDynamo();
  proxy = await startDynamoFaultProxy(dynamo.endpoint);
  world = await startWorld({
    env: { APPROVALS_TABLE: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint },
  });
  people = users(world, PEOPLE, 'chaos');
}, 60_000);

afterAll(async () => {
  await world?.close();
  await proxy?.close();
  vi.useRealTimers();
});

/**
 * Who CodePipeline was told decided, read back from the summary it keeps: a person
 * (`Approved by Alice (U0…) via Slack`) or a release (`Approved by … (rel-…) via Greenlight release`).
 */
function deciderOf(summary: unknown): { id: string; via: 'slack' | 'release' } | undefined {
  const found = /\(([A-Za-z0-9_-]+)\) via (Slack|Greenlight release)/.exec(String(summary ?? ''));
  return found?.[1] ? { id: found[1], via: found[2] === 'Slack' ? 'slack' : 'release' } : undefined;
}

/** The invariants, read from outside the app: each its own expect, saying what must hold. */
async function assess(run: LoopbackRun): Promise<void> {
  const { approval } = run;
  const applied = world.emulator
    .calls('PutApprovalResult')
    .filter((call) => call.ok && call.input.token === approval.token)
    .map((call) => call.input.result as { status?: string; summary?: string });
  const waiting = world.emulator.pendingApprovals().some((pending) => pending.token === approval.token);
  const record = await (await auditStore()).get(approval.approvalId);
  const outcomes = (await auditOf(approval.approvalId))
    .filter((event) => event.type === 'outcome')
    .map((event) => ({ result: event.result, actor: event.actor?.id }));
  const message = currentMessage(world, approval);
  const posted = approvalMessages(world).filter((m) => messageApprovalId(m) === approval.approvalId);
  const [result] = applied;
  run.tally.bump(
    `ending:${result ? `${result.status} via ${deciderOf(result.summary)?.via ?? '?'}` : 'still waiting'}`,
  );

  expect(posted, 'one message per approval, however often SNS delivered the notification').toHaveLength(1);
  expect(applied.length, 'CodePipeline applied at most one result (0 decided twice)').toBeLessThanOrEqual(1);
  expect(record?.status, 'nothing is left deciding once every claim has run out and the queued jobs ran').not.toBe(
    'deciding',
  );
  if (result) {
    const kind = result.status === 'Approved' ? 'approved' : 'rejected';
    const decider = deciderOf(result.summary);
    const actor = decider?.id;
    expect(decider, 'CodePipeline keeps who decided: a person in Slack, or a release').toBeDefined();
    expect(waiting, 'a decided approval no longer waits in CodePipeline').toBe(false);
    expect(
      outcomes,
      "the audit trail has one outcome, CodePipeline's result, credited to the person whose call CodePipeline applied (0 lost, 0 misattributed)",
    ).toEqual([{ result: kind, actor }]);
    expect(
      { status: record?.status, kind: record?.outcome?.kind, actor: record?.outcome?.decision?.actor.id },
      "the approval's record says the same",
    ).toEqual({ status: 'closed', kind, actor });
    expect(buttonsOf(message), 'the message of an ended approval has no live buttons').toEqual([]);
    expect(shown(message), 'the message shows the verdict and who gave it').toContain(
      decider?.via === 'slack' ? `*${result.status}* by <@${actor}>` : `*${result.status}* by release`,
    );
  } else {
    expect(waiting, 'without a result CodePipeline still waits for one (nothing here ends it otherwise)').toBe(true);
    expect(outcomes, 'an approval CodePipeline still waits for has no outcome in the audit trail').toEqual([]);
    expect(record?.status, 'and its record is open').toBe('pending');
    expect(buttonsOf(message), 'and its message offers the buttons').toEqual([ids.approve, ids.reject]);
  }
}

/** A product of one pipeline per case, so `/release <product> qa` plans exactly this case's approval. */
function nextPipeline(): string {
  pipelines += 1;
  return `cx${String(pipelines).padStart(4, '0')}-app`;
}

/** What happened to the approval, for the report of a failing case: the schedule, the audit trail, each redraw. */
async function story(run: LoopbackRun, steps: readonly LoopbackStep[]): Promise<string> {
  const { approval } = run;
  const audit = (await auditOf(approval.approvalId)).map(
    (e) =>
      `  ${e.at.toISOString()} ${e.type} ${e.actor?.id ?? ''} ${e.verdict ?? ''} ${e.result ?? ''} ${e.detail ?? ''}`,
  );
  const state = (blocks: unknown) => JSON.stringify(blocks).match(/"text":"(:[a-z_]+:[^"]*)"/)?.[1] ?? 'buttons';
  const redraws = world.slack
    .calls('chat.update')
    .filter((call) => call.args.ts === approval.message.ts)
    .map((call) => `  ${call.at.toISOString()} ${call.status} ${String(call.args.text)} — ${state(call.args.blocks)}`);
  const puts = world.emulator
    .calls('PutApprovalResult')
    .filter((call) => call.input.token === approval.token)
    .map((call) => `  ${call.at.toISOString()} ${call.ok ? 'ok' : call.error} ${JSON.stringify(call.input.result)}`);
  const message = currentMessage(world, approval);
  return [
    `Approval ${approval.approvalId} of ${approval.pipelineName}; its message now: ${message.text} — ${state(message.blocks)}`,
    'schedule:',
    JSON.stringify(steps),
    'PutApprovalResult calls:',
    ...puts,
    'Audit trail:',
    ...audit,
    'chat.update of its message:',
    ...redraws,
  ].join('\n');
}

/** Posts one approval, runs the schedule, lets the system come to rest, then checks every invariant. */
async function chaos(steps: readonly LoopbackStep[], tally = new Tally()): Promise<void> {
  // Prepare
  const run = await LoopbackRun.start(world, proxy, people, nextPipeline(), tally);
  // Act
  await run.run(steps);
  await run.rest();
  // Assess
  try {
    await assess(run);
  } catch (error) {
    if (error instanceof Error) error.message += `\n\n${await story(run, steps)}`;
    throw error;
  }
}

describe('decisions under chaos, over loopback', () => {
  it(
    'keep CodePipeline, the audit trail and the message in agreement when the real handlers meet faults on the wire',
    async () => {
      const started = performance.now();
      const tally = new Tally();
      const dynamoBefore = { ...proxy.injected };
      let cases = 0;
      let shrinking = 0;
      /** With CHAOS_KEEP_GOING: each failed case's replay path (its index) and report. */
      const failed: Array<{ path: string; report: string }> = [];
      try {
        await fc.assert(
          fc.asyncProperty(loopbackSchedules, async (steps) => {
            if (shrinking > 0) {
              shrinking++;
              return chaos(steps);
            }
            cases++;
            for (const step of steps) for (const action of step.actions) tally.bump(`action:${action.kind}`);
            try {
              await chaos(steps, tally);
            } catch (error) {
              if (!KEEP_GOING || PATH) {
                shrinking = 1;
                throw error;
              }
              const report = error instanceof Error ? error.message : String(error);
              tally.bump(`failed:${report.split('\n')[0]?.split(':')[0]}`);
              failed.push({ path: String(cases - 1), report });
            }
          }),
          {
            numRuns: RUNS,
            seed: SEED,
            ...(PATH ? { path: PATH } : {}),
            endOnFailure: !SHRINK || Boolean(PATH),
            includeErrorInReport: true,
          },
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const path = /path: "([^"]*)"/.exec(message)?.[1] ?? '';
        const replay = `CHAOS_SEED=${SEED} CHAOS_PATH=${path} npx vitest run test/chaos/loopback.test.ts`;
        throw new Error(`${message}\n\nReplay: ${replay}`, { cause: error });
      } finally {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const dynamo = Object.entries(proxy.injected)
          .map(([kind, n]) => [kind, n - (dynamoBefore[kind as keyof typeof dynamoBefore] ?? 0)] as const)
          .filter(([, n]) => n > 0);
        const cpErrors = world.emulator
          .calls()
          .filter((call) =>
            ['ThrottlingException', 'InternalFailure', 'ServiceUnavailable'].includes(call.error ?? ''),
          );
        const slackRefused = world.slack.calls().filter((call) => call.status === 429 || call.status === 503);
        for (const { path, report } of failed)
          console.log(
            `Replay: CHAOS_SEED=${SEED} CHAOS_PATH=${path} npx vitest run test/chaos/loopback.test.ts\n${report}\n`,
          );
        console.log(
          [
            `chaos over loopback: ${cases} of ${RUNS} cases run${shrinking ? ` (the last failed; ${shrinking - 1} more while shrinking it)` : ''}, seed ${SEED}${PATH ? `, path ${PATH}` : ''}, ${seconds} s`,
            `actions: ${tally.line('action:')}`,
            `faults armed: ${tally.total('armed:')} (${tally.line('armed:')})`,
            `faults that hit a call: DynamoDB ${dynamo.reduce((sum, [, n]) => sum + n, 0)} (${dynamo.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}), CodePipeline errors ${cpErrors.length}, Slack 429/503 ${slackRefused.length}`,
            `endings: ${tally.line('ending:')}`,
            `cases that broke an invariant: ${tally.total('failed:')} (${tally.line('failed:')})`,
            `clicks: ${tally.line('click:')}; releases: ${tally.line('release:')}`,
            `settle jobs: ${tally.line('settle:')}; redeliveries: ${tally.line('redeliver:')}`,
          ].join('\n'),
        );
      }
      expect(
        failed.map(({ path }) => `CHAOS_SEED=${SEED} CHAOS_PATH=${path}`),
        'cases that broke an invariant (their reports are printed above)',
      ).toEqual([]);
    },
    120_000 + RUNS * 4_000,
  );
});

// Races the property found, pinned (latency, dropped answers) so that they happen every time: each fails
// while its bug stands.

describe('decisions under chaos, over loopback: races found', () => {
  it('offers the buttons again when a settle job drew a decision in progress that CodePipeline then refused', async () => {
    // Prepare: every CodePipeline answer takes 300 ms; Alice's PutApprovalResult fails with a 500
    // on both of the SDK's attempts
    const run = await LoopbackRun.start(world, proxy, people, nextPipeline());
    const [alice] = people;
    if (!alice) throw new Error('nobody to click');
    world.emulator.configure({ latencyMs: 300 });
    world.emulator.failNextCall('PutApprovalResult', 'InternalFailure', 2);
    // Act: a settle job reads the approval open and asks CodePipeline; meanwhile Alice claims it.
    // The job reads the record again (deciding) and draws it; Alice's call fails and she gives the
    // claim back ("try again").
    const settling = run.settleJob();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const clicking = world.slack.click(alice.id, APPROVALS_CHANNEL, run.approval.message.ts, ids.approve);
    await Promise.all([settling, clicking]);
    world.emulator.configure({ latencyMs: 0 });
    await run.rest();
    // Assess: the approval is open, and its message must say so
    try {
      await assess(run);
    } catch (error) {
      if (error instanceof Error) error.message += `\n\n${await story(run, [])}`;
      throw error;
    }
  });
  it('leaves nothing deciding when a claim landed but neither of its answers reached the click', async () => {
    // Prepare: DynamoDB applies Alice's claim and drops the answer; the SDK's retry fails the
    // condition (the claim is there), and that answer is dropped too
    const run = await LoopbackRun.start(world, proxy, people, nextPipeline());
    const [alice] = people;
    if (!alice) throw new Error('nobody to click');
    proxy.arm([
      { operation: 'UpdateItem', nth: 0, kind: 'lost-answer' },
      { operation: 'UpdateItem', nth: 1, kind: 'lost-answer' },
    ]);
    // Act: Alice is told something went wrong; then her claim runs out and the queued jobs run
    await world.slack.click(alice.id, APPROVALS_CHANNEL, run.approval.message.ts, ids.approve);
    proxy.disarm();
    await run.rest();
    // Assess: nothing reached CodePipeline, so the approval is open again, and its message says so
    try {
      await assess(run);
    } catch (error) {
      if (error instanceof Error) error.message += `\n\n${await story(run, [])}`;
      throw error;
    }
  });
});
