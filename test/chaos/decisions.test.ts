/*
 * Chaos: decisions stay true (docs/architecture.md, "Concurrency and idempotency", "One decision
 * per approval", "Settling an approval").
 *
 * Replay a failure: the report prints the seed and the path of the shrunk schedule, and the command:
 *   CHAOS_SEED=-1234567 CHAOS_PATH=12:3:0 npx vitest run test/chaos -t "whatever the interleaving"
 * Both go to fc.assert: the seed alone replays the whole run, with the path just the shrunk case.
 * Runs: CHAOS_RUNS cases (default 200, about a second); `npm run chaos` runs 5000 (under 10 s). The
 * summary line at the end of the test counts the faults injected, by kind and by call, and how
 * callers and approvals ended, over the cases up to the first failure (not the shrinking after it).
 * Below the property, the schedules it found that broke an invariant, each as its own test.
 *
 * Each case requests one approval, then runs a generated schedule against the real core
 * (decideApproval, settleApproval) on the in-memory fakes (chaos-world.ts):
 *   - one to six steps; each starts one to four actions together: clicks by up to six people
 *     (approve, or reject with a reason) and settle jobs, their calls to the store, CodePipeline and
 *     Slack interleaved in an order the schedule gives; the clock then moves 0–90 s on, so claims
 *     run out and are taken over;
 *   - faults, per caller and per call: store calls (claim, giveClaimBack, recordOutcome, append,
 *     get, eventsForApproval) failing before they apply, or after (applied, the answer lost),
 *     either way possibly killing the caller's process there (a crash midway through a decision);
 *     PutApprovalResult throttled, taken without an answer, expired, or taken by a caller that
 *     dies before hearing back; the look at CodePipeline's state timing out (unknown); Slack
 *     refusing a redraw.
 * Callers are told to try again or who decided; the suite checks the state, not the answers. Then
 * the system comes to rest as production's does (claims run out, the settle job runs until it is
 * neither busy nor failing, faults over) and the invariants in `assess` must hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../app/core/approval.ts';
import { type Action, ChaosWorld, type Fault, type Step, schedules, Tally } from './chaos-world.ts';

const integer = (raw: string | undefined): number | undefined => {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(value) ? value : undefined;
};

const RUNS = Math.max(1, integer(process.env.CHAOS_RUNS) ?? 200);
const SEED = integer(process.env.CHAOS_SEED) ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.CHAOS_PATH || undefined;

const kindOf = (verdict: 'approve' | 'reject') => (verdict === 'approve' ? 'approved' : 'rejected');

/** How a record ends, in a word: its outcome's kind, or `open`. */
const ending = (record: ApprovalRecord | undefined) => record?.outcome?.kind ?? 'open';

/** What a redraw shows: the buttons (pending), who is deciding, or how it ended. */
const drawn = (record: Pick<ApprovalRecord, 'status' | 'outcome'> | undefined) =>
  record ? { status: record.status, outcome: record.outcome } : undefined;

/** The world when the schedule is over, before it comes to rest. */
interface AtScheduleEnd {
  record: ApprovalRecord | undefined;
  shown: ApprovalRecord | undefined;
  settleDue: boolean;
  crashed: boolean;
}

/** The invariants: each its own expect, saying what must hold. */
async function assess(world: ChaosWorld, atEnd: AtScheduleEnd, counts: Tally): Promise<void> {
  const { pipelines, notifier, store, id } = world;
  const record = await store.get(id);
  const events = await store.eventsForApproval(id);
  const result = pipelines.results.get(id);
  const applied = world.puts.filter((put) => put.applied);
  counts.bump(`ending:${ending(record)}`);

  expect(record?.status, 'nothing is left deciding once every claim has run out and settled').not.toBe('deciding');

  if (result)
    expect(
      { status: record?.status, kind: record?.outcome?.kind },
      "CodePipeline's result is the record's outcome",
    ).toEqual({ status: 'closed', kind: kindOf(result.verdict) });
  else
    expect(
      world.expired ? ['open', 'expired'] : ['open'],
      'without a result in CodePipeline the approval is still open (or ended as CodePipeline said: expired)',
    ).toContain(ending(record));

  expect(applied.length, 'CodePipeline took at most one result for the approval').toBeLessThanOrEqual(1);
  expect(
    world.puts.filter((put) => put.answer === 'ok' && !put.applied).map((put) => put.caller),
    'no PutApprovalResult after the result was taken was answered as a success',
  ).toEqual([]);
  if (result)
    expect(
      { verdict: applied[0]?.verdict, summary: applied[0]?.summary },
      'the result CodePipeline keeps is the one the applied call gave',
    ).toEqual(result);

  const outcome = record?.outcome;
  if (outcome && (outcome.kind === 'approved' || outcome.kind === 'rejected'))
    expect(
      { actor: outcome.decision.actor.id, verdict: outcome.decision.verdict },
      'the outcome is credited to the person whose PutApprovalResult CodePipeline applied',
    ).toEqual({ actor: applied[0]?.actorId, verdict: applied[0]?.verdict });

  expect(
    events
      .filter((event) => event.type === 'outcome')
      .map((event) => ({ result: event.result, actor: event.actor?.id })),
    record?.status === 'closed'
      ? 'a closed approval has exactly one outcome event, saying what the record says'
      : 'an open approval has no outcome event',
  ).toEqual(
    record?.status === 'closed'
      ? // Only a decision CodePipeline applied names its giver; a click that found it ended is its own attempt event.
        [
          {
            result: outcome?.kind,
            actor: outcome?.kind === 'approved' || outcome?.kind === 'rejected' ? outcome.decision.actor.id : undefined,
          },
        ]
      : [],
  );

  expect(
    drawn(notifier.refreshed.at(-1)),
    'the message, as last redrawn, shows the record (no live buttons for an ended approval)',
  ).toEqual(drawn(record));

  // A settle job's redraw of an open approval can land just after a decision drew its ending
  // (Slack has no conditional update); the job then looks again and draws the ending once more.
  const firstClosed = notifier.refreshed.findIndex((shown) => shown.status === 'closed');
  const afterClosed = firstClosed < 0 ? [] : notifier.refreshed.slice(firstClosed).map((shown) => ending(shown));
  expect(
    afterClosed.lastIndexOf('open') < Math.max(afterClosed.length - 1, 0) || !afterClosed.includes('open'),
    'once the message showed how the approval ended, a redraw that showed it open again is followed by its ending',
  ).toBe(true);

  if (!atEnd.crashed && atEnd.record?.status === 'closed' && atEnd.shown?.status !== 'closed')
    expect(
      atEnd.settleDue,
      'unless a process died, an approval that ended and whose message does not show it has a settle job due to redraw it',
    ).toBe(true);
}

/** Requests the approval, runs the schedule, lets the system come to rest, then checks every invariant. */
async function chaos(steps: readonly Step[], counts = new Tally()): Promise<void> {
  // Prepare
  const world = new ChaosWorld(counts);
  await world.requested();
  // Act
  await world.run(steps);
  const atEnd = {
    record: await world.store.get(world.id),
    shown: world.notifier.refreshed.at(-1),
    settleDue: world.settleDue,
    crashed: world.crashed,
  };
  counts.bump(`quiesce:${await world.quiesce()}`);
  // Assess
  try {
    await assess(world, atEnd, counts);
  } catch (error) {
    // The report of a (shrunk) failing schedule shows what happened, call by call.
    if (error instanceof Error) error.message += `\n\nWhat happened:\n${world.trace.join('\n')}`;
    throw error;
  }
}

describe('decisions under chaos', () => {
  it(
    'keep CodePipeline, the record, the audit trail and the message in agreement, whatever the interleaving and faults',
    async () => {
      const started = performance.now();
      // Counted over the generated cases, up to the first failure (not over the shrinking after it).
      const tally = new Tally();
      let cases = 0;
      let shrinking = 0;
      try {
        await fc.assert(
          fc.asyncProperty(schedules, async (steps) => {
            if (shrinking > 0) {
              shrinking++;
              return chaos(steps);
            }
            cases++;
            try {
              await chaos(steps, tally);
            } catch (error) {
              shrinking = 1;
              throw error;
            }
          }),
          {
            numRuns: RUNS,
            seed: SEED,
            ...(PATH ? { path: PATH, endOnFailure: true } : {}),
            includeErrorInReport: true,
          },
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const path = /path: "([^"]*)"/.exec(message)?.[1] ?? '';
        const replay = `CHAOS_SEED=${SEED} CHAOS_PATH=${path} npx vitest run test/chaos -t "whatever the interleaving"`;
        throw new Error(`${message}\n\nReplay: ${replay}`, { cause: error });
      } finally {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          [
            `chaos: ${cases} of ${RUNS} cases run${shrinking ? ` (the last failed; ${shrinking - 1} more while shrinking it)` : ''}, seed ${SEED}${PATH ? `, path ${PATH}` : ''}, ${seconds} s`,
            `faults injected: ${tally.total('fault:')} (${tally.line('fault:')})`,
            `  by call: ${tally.line('fault-at:')}`,
            `endings: ${tally.line('ending:')}; last quiescing settle: ${tally.line('quiesce:')}`,
            `clicks: ${tally.line('click:')}`,
            `settle jobs: ${tally.line('settle:')}`,
          ].join('\n'),
        );
      }
    },
    60_000 + RUNS * 100,
  );
});

// Schedules the property found, shrunk by hand to what matters: each fails while its bug stands.

const REASON = 'Checkout fails on QA with expired cards';

const click = (person: number, verdict: 'approve' | 'reject', faults: Fault[] = [], order: number[] = []): Action => ({
  kind: 'click',
  person,
  verdict,
  ...(verdict === 'reject' ? { reason: REASON } : {}),
  faults,
  order,
});

const settle = (faults: Fault[] = [], order: number[] = []): Action => ({ kind: 'settle', faults, order });

describe('decisions under chaos: schedules found', () => {
  it('keeps the outcome in the audit trail and redraws the message when appending the outcome event fails', async () => {
    // Alice's approve lands and is recorded; appending its `outcome` event fails.
    await chaos([{ actions: [click(0, 'approve', [{ on: 'append', nth: 1, kind: 'throw-before' }])], advanceMs: 0 }]);
  });

  it('credits a decision whose holder died to its giver, even when the settle job cannot read the audit trail at first', async () => {
    // Alice's reject lands, and her process dies before hearing back. Once her claim has run out,
    // a settle job finds the result in CodePipeline; its read of the audit trail fails once.
    await chaos([
      { actions: [click(0, 'reject', [{ on: 'putApprovalResult', nth: 0, kind: 'crash-after' }])], advanceMs: 60_001 },
      { actions: [settle([{ on: 'eventsForApproval', nth: 0, kind: 'throw-before' }])], advanceMs: 0 },
    ]);
  });

  it('credits a decision CodePipeline took without answering to its giver, even when a later look at CodePipeline times out', async () => {
    // Alice's reject is taken without an answer, and her look at CodePipeline's state times out:
    // she is asked to try again and the claim is given back. Bob then approves, hears "already
    // answered", and his look at CodePipeline's state times out too.
    const unclear: Fault = { on: 'approvalResult', nth: 0, kind: 'unknown' };
    await chaos([
      {
        actions: [click(0, 'reject', [{ on: 'putApprovalResult', nth: 0, kind: 'lost-answer' }, unclear])],
        advanceMs: 1_000,
      },
      { actions: [click(1, 'approve', [unclear])], advanceMs: 0 },
    ]);
  });

  it('draws the ending again when a settle job redraws an approval open just after someone decided it', async () => {
    // Alice's approve lands but both tries to record it fail: a settle job is queued. Once her claim
    // has run out, the job's look at CodePipeline times out (unknown), so it gives the claim back
    // and reads the record to redraw it; meanwhile Bob clicks, hears "already answered" and records
    // Alice's approve, and redraws it; then the settle job's redraw (of the record it read) lands.
    const recordFails: Fault[] = [
      { on: 'recordOutcome', nth: 0, kind: 'throw-before' },
      { on: 'recordOutcome', nth: 1, kind: 'throw-before' },
    ];
    await chaos([
      { actions: [click(0, 'approve', recordFails)], advanceMs: 60_001 },
      {
        actions: [
          // The settle job's get, GetPipelineState, giveClaimBack and get go first; its redraw last.
          settle([{ on: 'approvalResult', nth: 0, kind: 'unknown' }], [2, 2, 2, 2, 0]),
          click(1, 'approve', [], [1, 1, 1, 1, 1, 1, 1, 1]),
        ],
        advanceMs: 0,
      },
    ]);
  });
});
