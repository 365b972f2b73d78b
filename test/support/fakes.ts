import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import type { ApprovalRecord, ApprovalRequest, Decision, MessageRef, Verdict } from '../../app/core/approval.ts';
import {
  ApprovalExpiredError,
  DecidedElsewhereError,
  MaybeDeliveredError,
  PipelineGoneError,
  TransientError,
} from '../../app/core/errors.ts';
import type {
  ApprovalInPipeline,
  ApprovalNotifier,
  Clock,
  IdSource,
  Log,
  PipelineGateway,
} from '../../app/core/ports.ts';
import { MemoryApprovalStore } from './memory-store.ts';

/**
 * What CodePipeline can answer instead of taking the result, as the gateway reports it.
 * `lost-answer`: CodePipeline takes the result, but the answer never arrives (a timeout).
 */
export type PipelineTrouble =
  | 'expired'
  | 'decided-elsewhere'
  | 'transient'
  | 'lost-answer'
  | { gone: 'pipeline' | 'stage' | 'action' };

export interface PutApprovalResultCall {
  request: ApprovalRequest;
  decision: Decision;
  summary: string;
}

/**
 * CodePipeline as the core sees it: records every PutApprovalResult and, like CodePipeline, keeps
 * the first result it took (a later call hears "already completed"); fails when told to.
 */
export class FakePipelines implements PipelineGateway {
  readonly calls: PutApprovalResultCall[] = [];
  /** The results CodePipeline took, by approval id. */
  readonly results = new Map<string, { verdict: Verdict; summary: string }>();
  readonly #troubles: PipelineTrouble[] = [];
  readonly #answers: ApprovalInPipeline[] = [];
  /** The trouble the last call for each approval met, for what CodePipeline's state shows after it. */
  readonly #lastTrouble = new Map<string, PipelineTrouble | undefined>();
  readonly stateQueries: string[] = [];

  /** The next `times` calls fail with `trouble` (after being recorded: the call was made). */
  fail(trouble: PipelineTrouble, times = 1): this {
    for (let i = 0; i < times; i++) this.#troubles.push(trouble);
    return this;
  }

  /** The next approvalResult answer, instead of what the fake's own results say. */
  answerResult(answer: ApprovalInPipeline): this {
    this.#answers.push(answer);
    return this;
  }

  /** A decision given outside Greenlight (the console), as CodePipeline keeps it. */
  decideInConsole(request: ApprovalRequest, verdict: Verdict, summary = 'Approved in the console'): this {
    this.results.set(request.id, { verdict, summary });
    return this;
  }

  async putApprovalResult(request: ApprovalRequest, decision: Decision, summary: string): Promise<void> {
    await Promise.resolve();
    this.calls.push(structuredClone({ request, decision, summary }));
    const trouble = this.#troubles.shift();
    this.#lastTrouble.set(request.id, trouble);
    if (trouble === 'lost-answer') {
      if (!this.results.has(request.id)) this.results.set(request.id, { verdict: decision.verdict, summary });
      throw new TransientError('CodePipeline did not answer in time', { cause: new Error('TimeoutError') });
    }
    if (trouble) throw troubleError(request, trouble);
    if (this.results.has(request.id)) throw troubleError(request, 'decided-elsewhere');
    this.results.set(request.id, { verdict: decision.verdict, summary });
  }

  async approvalResult(request: ApprovalRequest): Promise<ApprovalInPipeline> {
    await Promise.resolve();
    this.stateQueries.push(request.id);
    const answer = this.#answers.shift();
    if (answer) return answer;
    const result = this.results.get(request.id);
    if (result) return { state: 'decided', verdict: result.verdict, summary: result.summary };
    // As GetPipelineState shows them: an expired approval failed without a decision; one decided
    // elsewhere (told only through the trouble) shows a later approval since.
    const trouble = this.#lastTrouble.get(request.id);
    if (trouble === 'expired') return { state: 'expired' };
    if (trouble === 'decided-elsewhere') return { state: 'replaced' };
    return { state: 'pending' };
  }
}

function troubleError(request: ApprovalRequest, trouble: Exclude<PipelineTrouble, 'lost-answer'>): Error {
  const where = `${request.pipelineName}/${request.stageName}/${request.actionName}`;
  if (trouble === 'expired') return new ApprovalExpiredError(request);
  if (trouble === 'decided-elsewhere') return new DecidedElsewhereError(`${where} was decided outside Greenlight`);
  if (trouble === 'transient') {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    return new TransientError(`CodePipeline did not answer for ${where}`, { cause: throttled });
  }
  return new PipelineGoneError(trouble.gone, `No ${trouble.gone} ${where}`);
}

/** Slack as the core sees it: records what was posted and redrawn, and fails when told to. */
export class FakeNotifier implements ApprovalNotifier {
  /** Records as they were when their message was posted (one entry per message that appeared). */
  readonly announced: ApprovalRecord[] = [];
  readonly refreshed: ApprovalRecord[] = [];
  readonly channel: string;
  /** Messages that appeared (posted, found or withdrawn), by ts. */
  readonly messages = new Map<string, { approvalId: string; withdrawn: boolean }>();
  #announceFailures = 0;
  #lostAnswers = 0;
  #refreshFailures = 0;
  #posted = 0;

  constructor(channel = 'C0APPROVALS') {
    this.channel = channel;
  }

  failAnnounce(times = 1): this {
    this.#announceFailures += times;
    return this;
  }

  /** The next posts appear in the channel, but their answers are lost (MaybeDeliveredError). */
  loseAnswers(times = 1): this {
    this.#lostAnswers += times;
    return this;
  }

  failRefresh(times = 1): this {
    this.#refreshFailures += times;
    return this;
  }

  async announce(record: ApprovalRecord): Promise<MessageRef> {
    await Promise.resolve();
    if (this.#announceFailures > 0) {
      this.#announceFailures--;
      throw new Error('An API error occurred: internal_error');
    }
    this.announced.push(structuredClone(record));
    this.#posted++;
    const ts = `1700000000.${String(this.#posted).padStart(6, '0')}`;
    this.messages.set(ts, { approvalId: record.request.id, withdrawn: false });
    if (this.#lostAnswers > 0) {
      this.#lostAnswers--;
      throw new MaybeDeliveredError('Slack did not answer in time');
    }
    return { channel: this.channel, ts };
  }

  async find(record: ApprovalRecord): Promise<MessageRef | undefined> {
    await Promise.resolve();
    const found = [...this.messages].find(([, m]) => m.approvalId === record.request.id && !m.withdrawn);
    return found ? { channel: this.channel, ts: found[0] } : undefined;
  }

  async withdraw(message: MessageRef): Promise<void> {
    await Promise.resolve();
    const shown = this.messages.get(message.ts);
    if (shown) shown.withdrawn = true;
  }

  /** Messages still visible for an approval. */
  visible(approvalId: string): number {
    return [...this.messages.values()].filter((m) => m.approvalId === approvalId && !m.withdrawn).length;
  }

  async refresh(record: ApprovalRecord): Promise<void> {
    await Promise.resolve();
    if (this.#refreshFailures > 0) {
      this.#refreshFailures--;
      throw new Error('An API error occurred: ratelimited');
    }
    this.refreshed.push(structuredClone(record));
  }
}

export interface TestClock extends Clock {
  /** Moves time on. */
  advance(ms: number): void;
  set(iso: string): void;
}

/** A clock that stands still until told to move; every reading is a fresh Date. */
export function fixedClock(iso: string): TestClock {
  let now = new Date(iso).getTime();
  if (Number.isNaN(now)) throw new Error(`fixedClock: not a date: ${iso}`);
  const clock = (() => new Date(now)) as TestClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (next) => {
    now = new Date(next).getTime();
  };
  return clock;
}

/** Ids `id-1`, `id-2`, …: unique and readable in failure messages. */
export function counterIds(prefix = 'id'): IdSource {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  context?: Record<string, unknown>;
}

/**
 * A Log that keeps what it was given, and each entry as the JSON line a structured logger would
 * write, errors included (name, message, stack, cause, SDK fields): search `lines` for secrets.
 */
export function memoryLog(): Log & { entries: LogEntry[]; lines: string[] } {
  const entries: LogEntry[] = [];
  const lines: string[] = [];
  const write = (level: LogEntry['level']) => (message: string, context?: Record<string, unknown>) => {
    entries.push({ level, message, ...(context ? { context } : {}) });
    lines.push(toLine({ level, message, ...context }));
  };
  return { entries, lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function toLine(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (typeof item !== 'object' || item === null) return item;
    if (seen.has(item)) return '[circular]';
    seen.add(item);
    if (!(item instanceof Error)) return item;
    // Error's own fields are not enumerable: spell them all out, as Powertools does.
    const fields: Record<string, unknown> = {};
    for (const key of Object.getOwnPropertyNames(item)) fields[key] = (item as unknown as Record<string, unknown>)[key];
    return { name: item.name, ...fields };
  });
}

let requests = 0;

/**
 * A pending approval as the notification parser makes it: a real-format token (lowercase UUID),
 * its derived id, and the links CodePipeline sends. Each call makes a new token unless given one.
 */
export function approvalRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  requests++;
  const token = overrides.token ?? `7c9e6679-7425-40de-944b-${String(requests).padStart(12, '0')}`;
  const pipelineName = overrides.pipelineName ?? 'shop-cart';
  const stageName = overrides.stageName ?? 'StagingDEV';
  const actionName = overrides.actionName ?? 'ApproveIntoQA';
  const region = overrides.region ?? 'eu-central-1';
  const pipelineView = `https://console.aws.amazon.com/codepipeline/home?region=${region}#/view/${pipelineName}`;
  return {
    id: approvalIdFor(token),
    pipelineName,
    stageName,
    actionName,
    region,
    token,
    expiresAt: new Date('2025-03-11T09:30:00.000Z'),
    consoleLink: pipelineView,
    reviewLink: `${pipelineView}/${stageName}/${actionName}/approve/${token}`,
    externalEntityLink: 'https://github.com/acme/shop-cart/commit/9f4e2b1c7d3a5e8f0b6c4d2a1e9f7b5c3d1a0e8f',
    customData: 'Checkout on QA: run the card-expiry suite before approving.',
    receivedAt: new Date('2025-03-04T09:30:12.000Z'),
    ...overrides,
  };
}

/** A person deciding in Slack. */
export function slackDecision(
  verdict: Decision['verdict'],
  at: Date,
  who: { id?: string; name?: string; reason?: string } = {},
): Decision {
  return {
    verdict,
    actor: { id: who.id ?? 'U0ALICE', name: who.name ?? 'Alice', teamId: 'T0ACME', via: 'slack' },
    ...(who.reason ? { reason: who.reason } : {}),
    at,
  };
}

/**
 * What deciding an approval needs, in memory: the store, CodePipeline and Slack fakes, a clock set
 * to `iso`, ids and a log.
 */
export function decideDeps(iso: string) {
  return {
    store: new MemoryApprovalStore(),
    pipelines: new FakePipelines(),
    notifier: new FakeNotifier(),
    clock: fixedClock(iso),
    ids: counterIds(),
    log: memoryLog(),
  };
}
