import fc from 'fast-check';
import {
  type ApprovalId,
  type ApprovalRecord,
  type ApprovalRequest,
  type Claim,
  type Decision,
  type Outcome,
  STALE_CLAIM_MS,
  type Verdict,
} from '../../app/core/approval.ts';
import type { AuditEvent } from '../../app/core/audit.ts';
import { type DecideDeps, decideApproval } from '../../app/core/decide-approval.ts';
import type {
  ApprovalInPipeline,
  ApprovalStore,
  MessageRedraw,
  PipelineGateway,
  RulesGuard,
} from '../../app/core/ports.ts';
import { requestApproval } from '../../app/core/request-approval.ts';
import { settleApproval } from '../../app/core/settle-approval.ts';
import {
  approvalRequest,
  counterIds,
  FakeNotifier,
  FakePipelines,
  fixedClock,
  memoryLog,
  type PipelineTrouble,
  slackDecision,
} from '../support/fakes.ts';
import { MemoryApprovalStore } from '../support/memory-store.ts';

/*
 * The world of the chaos suite (decisions.test.ts): one approval, the real core (requestApproval,
 * decideApproval, settleApproval) on the in-memory fakes, and a chaos layer between them that
 *   - holds every call to the store, CodePipeline and Slack at a gate, and lets one through at a
 *     time, in the order the schedule says (each action gives each of its calls a priority: when
 *     nothing else can move, the waiting call with the highest priority goes, the earliest first
 *     among equals), so a generated schedule is also an interleaving, and one that shrinks: with
 *     every priority 0 the calls go first come, first served;
 *   - injects the faults the schedule names, per caller and per call ("Bob's 2nd append").
 * Every caller (one click, one settle job) gets its own view of the world, so a crash kills that
 * caller only: from the crash on, every call it makes throws before reaching anything.
 */

// Schedules

/** Store calls the chaos layer can fail. */
export const STORE_OPS = ['claim', 'giveClaimBack', 'recordOutcome', 'append', 'get', 'eventsForApproval'] as const;
export type StoreOp = (typeof STORE_OPS)[number];

/**
 * - `throw-before`: the call fails and nothing was applied (throttled);
 * - `throw-after`: the write was applied but its answer was lost (a timeout);
 * - `crash-before` / `crash-after`: the same, and the caller's process dies right there.
 */
export type StoreFaultKind = 'throw-before' | 'throw-after' | 'crash-before' | 'crash-after';

/**
 * What PutApprovalResult answers instead:
 * - `transient`: throttled, nothing taken;
 * - `lost-answer`: CodePipeline took the result (unless it had one) but the answer never came;
 * - `expired`: the approval expired; from then on CodePipeline refuses every result;
 * - `crash-after`: the call went through and the caller's process died before hearing back.
 */
export type PutFaultKind = 'transient' | 'lost-answer' | 'expired' | 'crash-after';

/**
 * One fault: the `nth` call (from 0) of a caller to `on` goes wrong as `kind`. Besides the store's
 * and PutApprovalResult's: the look at CodePipeline's state (`approvalResult`, GetPipelineState)
 * times out, which the gateway answers as `unknown`; Slack refuses a redraw (`refresh`).
 */
export type Fault =
  | { on: StoreOp; nth: number; kind: StoreFaultKind }
  | { on: 'putApprovalResult'; nth: number; kind: PutFaultKind }
  | { on: 'approvalResult'; nth: number; kind: 'unknown' }
  | { on: 'refresh'; nth: number; kind: 'fail' };

/**
 * A person's click (decideApproval), or a settle job (settleApproval) as the worker runs it.
 * `order`: the priority of the action's n-th call (0 when missing), see Gates.
 */
export type Action =
  | { kind: 'click'; person: number; verdict: Verdict; reason?: string; faults: Fault[]; order: number[] }
  | { kind: 'settle'; faults: Fault[]; order: number[] };

/** Actions started together (their calls interleave as the scheduler says), then the clock moves on. */
export interface Step {
  actions: Action[];
  advanceMs: number;
}

export const PEOPLE = [
  { id: 'U0ALICE', name: 'Alice' },
  { id: 'U0BOB', name: 'Bob' },
  { id: 'U0CAROL', name: 'Carol' },
  { id: 'U0DAN', name: 'Dan' },
  { id: 'U0ERIN', name: 'Erin' },
  { id: 'U0FRANK', name: 'Frank' },
] as const;

const REASONS = [
  'Checkout fails on QA with expired cards',
  'See INC-42: the card-expiry suite is red',
  'The card-expiry suite is red on QA; see the ticket. '.repeat(10).slice(0, 500),
];

/**
 * The most calls one caller makes to each store operation, less one: a decision claims once,
 * appends up to three events (attempted, released or outcome, refused) and records its outcome up
 * to twice; a settle job reads the record twice.
 */
const LAST_NTH: Record<StoreOp, number> = {
  claim: 0,
  giveClaimBack: 0,
  recordOutcome: 1,
  append: 2,
  get: 1,
  eventsForApproval: 0,
};

const storeFault: fc.Arbitrary<Fault> = fc.constantFrom(...STORE_OPS).chain((on) =>
  fc.record({
    on: fc.constant(on),
    nth: fc.nat({ max: LAST_NTH[on] }),
    kind: fc.constantFrom<StoreFaultKind>('throw-before', 'throw-after', 'crash-before', 'crash-after'),
  }),
);

const putFault: fc.Arbitrary<Fault> = fc.record({
  on: fc.constant('putApprovalResult' as const),
  nth: fc.constant(0),
  kind: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<PutFaultKind>('transient', 'lost-answer', 'crash-after') },
    { weight: 1, arbitrary: fc.constant<PutFaultKind>('expired') },
  ),
});

const lookFault: fc.Arbitrary<Fault> = fc.record({
  on: fc.constant('approvalResult' as const),
  nth: fc.constant(0),
  kind: fc.constant('unknown' as const),
});

const refreshFault: fc.Arbitrary<Fault> = fc.record({
  on: fc.constant('refresh' as const),
  nth: fc.constant(0),
  kind: fc.constant('fail' as const),
});

/** A third of the actions run without faults; the others meet one to three. */
const faults: fc.Arbitrary<Fault[]> = fc.oneof(
  { withCrossShrink: true },
  { weight: 1, arbitrary: fc.constant<Fault[]>([]) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: storeFault },
        { weight: 3, arbitrary: putFault },
        { weight: 1, arbitrary: lookFault },
        { weight: 1, arbitrary: refreshFault },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  },
);

const verdict = fc.oneof(
  fc.constant({ verdict: 'approve' as const }),
  fc.record({ verdict: fc.constant('reject' as const), reason: fc.constantFrom(...REASONS) }),
);

/** Priorities of an action's calls: none (first come, first served) a third of the time. */
const order: fc.Arbitrary<number[]> = fc.oneof(
  { withCrossShrink: true },
  { weight: 1, arbitrary: fc.constant<number[]>([]) },
  { weight: 2, arbitrary: fc.array(fc.nat({ max: 9 }), { minLength: 1, maxLength: 12 }) },
);

const click: fc.Arbitrary<Action> = fc
  .tuple(fc.nat({ max: PEOPLE.length - 1 }), verdict, faults, order)
  .map(([person, given, faults, order]) => ({ kind: 'click', person, ...given, faults, order }));

const settle: fc.Arbitrary<Action> = fc
  .tuple(faults, order)
  .map(([faults, order]) => ({ kind: 'settle', faults, order }));

/** 0–90 s, with the claim's end (60 s; a claim is stale only after it) often hit exactly. */
const advanceMs = fc.oneof(
  fc.constant(0),
  fc.constantFrom(1_000, STALE_CLAIM_MS - 1_000, STALE_CLAIM_MS, STALE_CLAIM_MS + 1, 90_000),
  fc.integer({ min: 0, max: 90_000 }),
);

/** One to six steps of one to four actions each, by up to six people. */
export const schedules: fc.Arbitrary<Step[]> = fc.array(
  fc.record({
    actions: fc.array(fc.oneof({ weight: 4, arbitrary: click }, { weight: 1, arbitrary: settle }), {
      minLength: 1,
      maxLength: 4,
    }),
    advanceMs,
  }),
  { minLength: 1, maxLength: 6 },
);

// Tallies over a whole run of the suite

/** Counts by key, over every case of a run (faults injected, how callers and approvals ended). */
export class Tally {
  readonly #counts = new Map<string, number>();

  bump(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** `a 3, b 1`, the keys starting with `prefix` (without it), most frequent first. */
  line(prefix: string): string {
    const entries = [...this.#counts]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, n]) => [key.slice(prefix.length), n] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return entries.map(([key, n]) => `${key} ${n}`).join(', ') || 'none';
  }

  total(prefix: string): number {
    let total = 0;
    for (const [key, n] of this.#counts) if (key.startsWith(prefix)) total += n;
    return total;
  }
}

// The world

/** The caller's process died: nothing it does from here on reaches anything. */
export class Crash extends Error {
  override name = 'Crash';
}

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

/**
 * Where every call of a schedule waits for its turn. Everything in the world runs on promises
 * only, so once a macrotask comes round nothing can move but a call at a gate: then the waiting
 * call with the highest priority goes (the earliest among equals) and runs until its caller
 * reaches its next gate or ends. Keeps the trace of who went, for failure reports.
 */
interface Gate {
  priority: number;
  seq: number;
  label: string;
  go: () => void;
}

class Gates {
  readonly #waiting: Gate[] = [];
  #seq = 0;
  readonly trace: string[] = [];

  wait(label: string, priority: number): Promise<void> {
    return new Promise((go) => this.#waiting.push({ priority, seq: this.#seq++, label, go }));
  }

  note(line: string): void {
    this.trace.push(line);
  }

  /** Lets calls through, one at a time, until `work` has settled. */
  async until(work: Promise<unknown>): Promise<void> {
    let done = false;
    void work.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (;;) {
      await new Promise((idle) => setImmediate(idle));
      if (done) return;
      const next = this.#waiting.reduce<Gate | undefined>(
        (best, gate) =>
          !best || gate.priority > best.priority || (gate.priority === best.priority && gate.seq < best.seq)
            ? gate
            : best,
        undefined,
      );
      if (!next) throw new Error('Chaos: nothing waits at a gate, yet the step has not ended');
      this.#waiting.splice(this.#waiting.indexOf(next), 1);
      this.trace.push(next.label);
      next.go();
    }
  }
}

/** One click or settle job: its faults and call priorities, its calls so far, whether it died. */
class Caller {
  dead = false;
  #calls = 0;
  readonly #callsTo = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly action: Pick<Action, 'faults' | 'order'> = { faults: [], order: [] },
  ) {}

  /** The priority of this caller's next call. */
  priority(): number {
    return this.action.order[this.#calls++] ?? 0;
  }

  /** The fault planned for this call (the n-th to `on`), if any. */
  fault(on: Fault['on']): Fault['kind'] | undefined {
    const nth = this.#callsTo.get(on) ?? 0;
    this.#callsTo.set(on, nth + 1);
    return this.action.faults.find((fault) => fault.on === on && fault.nth === nth)?.kind;
  }

  alive(what: string): void {
    if (this.dead) throw new Crash(`${this.name} died before ${what}`);
  }
}

/** One PutApprovalResult as CodePipeline saw it. */
export interface PutRecord {
  /** Index into FakePipelines.calls. */
  index: number;
  caller: string;
  actorId: string;
  verdict: Verdict;
  summary: string;
  /** This call set the result CodePipeline keeps. */
  applied: boolean;
  /** `ok`, or the name of what the caller heard instead. */
  answer: string;
}

export class ChaosWorld {
  readonly store = new MemoryApprovalStore();
  readonly pipelines = new FakePipelines();
  readonly notifier = new FakeNotifier();
  readonly clock = fixedClock('2025-03-04T09:30:13Z');
  readonly ids = counterIds();
  readonly log = memoryLog();
  readonly request: ApprovalRequest = approvalRequest({ token: '7c9e6679-7425-40de-944b-00000000c4a0' });
  /** Every PutApprovalResult, in the order CodePipeline took them. */
  readonly puts: PutRecord[] = [];
  /** Settle jobs decideApproval queued (settleLater). */
  readonly settleJobs: Array<{ approvalId: ApprovalId; delaySeconds: number }> = [];
  /** Once CodePipeline has said "expired", it refuses every later result. */
  expired = false;
  /** Some caller's process died during the schedule. */
  crashed = false;
  /**
   * A settle job is due: one was queued (settleLater), or a settle job was busy (the worker queues
   * it again) or failed (the queue retries it), and no settle job has finished since.
   */
  settleDue = false;
  faultsOn = true;
  readonly #gates = new Gates();
  /** Calls wait at the gates only while the schedule runs (not while requesting or quiescing). */
  #gated = false;
  readonly #tally: Tally;

  constructor(tally: Tally) {
    this.#tally = tally;
  }

  get id(): ApprovalId {
    return this.request.id;
  }

  /** Who went when, what failed, how each caller ended: for failure reports. */
  get trace(): readonly string[] {
    return this.#gates.trace;
  }

  /** The approval is requested and posted, as the notification handler does it (no faults). */
  async requested(): Promise<void> {
    const deps = { ...this.#deps(new Caller('request')), notifier: this.notifier, sleep: async () => {} };
    await requestApproval(deps, this.request);
    this.clock.set('2025-03-04T10:15:00Z');
  }

  /** Runs the schedule's steps, each step's actions together, their calls interleaved as it says. */
  async run(steps: readonly Step[]): Promise<void> {
    this.#gated = true;
    for (const [i, step] of steps.entries()) {
      this.#gates.note(`— step ${i + 1} at ${this.clock().toISOString().slice(11, 19)}`);
      await this.#gates.until(Promise.all(step.actions.map((action, j) => this.#act(action, `${i + 1}.${j + 1}`))));
      this.clock.advance(step.advanceMs);
    }
    this.#gated = false;
  }

  /**
   * Lets the system come to rest as production does, with every fault over: once any claim has
   * run out, the settle job runs until it is neither busy nor failing (a few rounds at most).
   * Returns the last settle status (`gave up` if none came).
   */
  async quiesce(rounds = 4): Promise<string> {
    this.faultsOn = false;
    for (let round = 1; round <= rounds; round++) {
      this.clock.advance(STALE_CLAIM_MS + 1_000);
      try {
        const result = await settleApproval(this.#deps(new Caller(`quiesce ${round}`)), this.id);
        this.#gates.note(`— quiesce ${round}: settle ⇒ ${result.status}`);
        if (result.status !== 'busy') return result.status;
      } catch (error) {
        // Settled again next round, as the worker's retry would.
        this.#gates.note(`— quiesce ${round}: settle ⇒ threw ${errorName(error)}`);
      }
    }
    return 'gave up';
  }

  async #act(action: Action, tag: string): Promise<void> {
    if (action.kind === 'settle') {
      const caller = new Caller(`${tag} settle`, action);
      try {
        const result = await settleApproval(this.#deps(caller), this.id);
        this.settleDue = result.status === 'busy';
        this.#ended(caller, `settle:${result.status}`);
      } catch (error) {
        this.settleDue = true;
        this.#ended(caller, `settle:threw ${errorName(error)}`);
      }
      return;
    }
    const person = PEOPLE[action.person] ?? PEOPLE[0];
    const caller = new Caller(`${tag} ${person.name}`, action);
    const decision = slackDecision(action.verdict, this.clock(), {
      id: person.id,
      name: person.name,
      ...(action.reason ? { reason: action.reason } : {}),
    });
    try {
      const record = await decideApproval(this.#deps(caller), this.id, decision);
      this.#ended(caller, `click:${record.outcome?.kind ?? record.status}`);
    } catch (error) {
      // People are told to try again (or who decided): the suite checks the state, not the answers.
      this.#ended(caller, `click:threw ${errorName(error)}`);
    }
  }

  #ended(caller: Caller, how: string): void {
    this.#tally.bump(how);
    this.#gates.note(`${caller.name} ⇒ ${how.slice(how.indexOf(':') + 1)}`);
  }

  /** What decideApproval and settleApproval get: the world as one caller reaches it. */
  #deps(caller: Caller): DecideDeps {
    return {
      store: this.#storeFor(caller),
      pipelines: this.#pipelinesFor(caller),
      notifier: this.#notifierFor(caller),
      clock: this.clock,
      ids: this.ids,
      log: this.log,
      settleLater: async (approvalId, delaySeconds) => {
        caller.alive('queueing a settle job');
        this.settleJobs.push({ approvalId, delaySeconds });
        this.settleDue = true;
        this.#gates.note(`  ↪ ${caller.name} queues a settle job in ${delaySeconds} s`);
      },
    };
  }

  /** The caller's call waits for its turn (while a schedule runs). */
  async #turn(caller: Caller, what: string): Promise<void> {
    caller.alive(what);
    if (this.#gated) await this.#gates.wait(`${caller.name}: ${what}`, caller.priority());
  }

  #injected(caller: Caller, where: string, kind: string): void {
    if (caller.dead) this.crashed = true;
    this.#tally.bump(`fault:${kind}`);
    this.#tally.bump(`fault-at:${where} ${kind}`);
    this.#gates.note(`  ↳ ${where} ${kind}${caller.dead ? ' (the process died)' : ''}`);
  }

  #storeFor(caller: Caller): ApprovalStore {
    const store = this.store;
    const call = async <T>(op: StoreOp, apply: () => Promise<T>): Promise<T> => {
      await this.#turn(caller, op);
      const fault = caller.fault(op) as StoreFaultKind | undefined;
      if (!this.faultsOn || !fault) return apply();
      if (fault === 'throw-before' || fault === 'crash-before') {
        caller.dead = fault === 'crash-before';
        this.#injected(caller, op, fault);
        throw awsError('ProvisionedThroughputExceededException', `${op}: the table's throughput was exceeded`);
      }
      // Applied, whatever it answered; the answer is lost.
      await apply().catch(() => {});
      caller.dead = fault === 'crash-after';
      this.#injected(caller, op, fault);
      throw awsError('TimeoutError', `${op}: connection timed out after 1500 ms`);
    };
    return {
      saveRequest: (request: ApprovalRequest) => store.saveRequest(request),
      takePostLease: (id, holder, until, now) => store.takePostLease(id, holder, until, now),
      givePostLeaseBack: (id, holder) => store.givePostLeaseBack(id, holder),
      recordMessage: (id, message) => store.recordMessage(id, message),
      listOpen: () => store.listOpen(),
      eventsForDay: (day) => store.eventsForDay(day),
      claim: (id: ApprovalId, claim: Claim, now: Date, rules?: RulesGuard) =>
        call('claim', () => store.claim(id, claim, now, rules)),
      vote: (id, vote, rules, now) => store.vote(id, vote, rules, now),
      // Renewals start 20 s into a call; no scheduled call here lasts that long.
      renewClaim: (id: ApprovalId, claimId: string, until: Date) => store.renewClaim(id, claimId, until),
      giveClaimBack: (id: ApprovalId, claimId: string) => call('giveClaimBack', () => store.giveClaimBack(id, claimId)),
      recordOutcome: (id: ApprovalId, outcome: Outcome) =>
        call('recordOutcome', () => store.recordOutcome(id, outcome)),
      append: (event: AuditEvent) => call('append', () => store.append(event)),
      get: (id: ApprovalId): Promise<ApprovalRecord | undefined> => call('get', () => store.get(id)),
      eventsForApproval: (id: ApprovalId) => call('eventsForApproval', () => store.eventsForApproval(id)),
    };
  }

  #pipelinesFor(caller: Caller): PipelineGateway {
    return {
      putApprovalResult: async (request: ApprovalRequest, decision: Decision, summary: string) => {
        await this.#turn(caller, `PutApprovalResult ${decision.verdict}`);
        const planned = this.faultsOn ? (caller.fault('putApprovalResult') as PutFaultKind | undefined) : undefined;
        return this.#put(caller, planned, request, decision, summary);
      },
      approvalResult: async (request: ApprovalRequest): Promise<ApprovalInPipeline> => {
        await this.#turn(caller, 'GetPipelineState');
        if (this.faultsOn && caller.fault('approvalResult') === 'unknown') {
          this.#injected(caller, 'approvalResult', 'unknown');
          return { state: 'unknown' };
        }
        return this.pipelines.approvalResult(request);
      },
    };
  }

  /**
   * PutApprovalResult on the fake, with the planned trouble. Nothing else moves while it runs (the
   * gates let one call through at a time, and quiescing runs alone), so the trouble given to the
   * fake is the one this call meets, and whether this call set the result is plain to see.
   */
  async #put(
    caller: Caller,
    planned: PutFaultKind | undefined,
    request: ApprovalRequest,
    decision: Decision,
    summary: string,
  ): Promise<void> {
    const fake = this.pipelines;
    const hadResult = fake.results.has(request.id);
    let trouble: PipelineTrouble | undefined;
    if (planned === 'expired' && !hadResult && !this.expired) {
      // An approval that has a result cannot expire any more.
      this.expired = true;
      this.#injected(caller, 'putApprovalResult', 'expired');
    } else if (planned === 'transient' || planned === 'lost-answer') {
      trouble = planned;
      this.#injected(caller, 'putApprovalResult', planned);
    }
    if (this.expired) trouble = 'expired';
    if (trouble) fake.fail(trouble);
    const index = fake.calls.length;
    let answer: unknown;
    try {
      await fake.putApprovalResult(request, decision, summary);
    } catch (error) {
      answer = error;
    }
    this.puts.push({
      index,
      caller: caller.name,
      actorId: decision.actor.id,
      verdict: decision.verdict,
      summary,
      applied: !hadResult && fake.results.has(request.id),
      answer: answer === undefined ? 'ok' : errorName(answer),
    });
    if (planned === 'crash-after') {
      caller.dead = true;
      this.#injected(caller, 'putApprovalResult', 'crash-after');
      throw new Crash(`${caller.name} died waiting for PutApprovalResult`);
    }
    if (answer !== undefined) throw answer;
  }

  #notifierFor(caller: Caller): MessageRedraw {
    return {
      refresh: async (record: ApprovalRecord) => {
        await this.#turn(caller, `chat.update ${record.outcome?.kind ?? record.status}`);
        if (this.faultsOn && caller.fault('refresh') === 'fail') {
          this.#injected(caller, 'refresh', 'fail');
          throw new Error('An API error occurred: ratelimited');
        }
        await this.notifier.refresh(record);
      },
    };
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);
