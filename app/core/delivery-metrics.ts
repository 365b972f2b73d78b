import type { ExecutionSummary } from './pipeline.ts';

/**
 * Delivery metrics (docs/concepts.md) from CodePipeline executions and the approval audit trail. Pure
 * functions: executions and waits in, numbers out.
 *
 * Only Succeeded and Failed executions count: Superseded, Stopped, Cancelled and running ones are
 * neither successes nor failures. A Succeeded execution of a service pipeline went through its
 * last stage, production. A rejected approval fails its execution, so it counts as a failure.
 *
 * Every figure is counted in the period in which the execution (or decision) that completes it
 * ended, so a past period's figures never change when new executions arrive:
 * - deployment frequency: Succeeded executions that ended in the period;
 * - lead time: their mean startTime → lastUpdateTime (the source revision entering the pipeline
 *   until it is in production);
 * - change failure rate: Failed / (Succeeded + Failed) among executions that ended in the period;
 * - MTBF: mean time from the start of a successful execution (the first of a run of successes) to
 *   the start of the next failed one, counted when that failed one ended;
 * - MTTR: mean time from the start of a failed execution (the first of a run of failures) to the
 *   start of the next successful one, counted when that successful one ended;
 * - approval wait: p50 and p90 of requested → approved or rejected, counted when decided.
 * Runs are per pipeline, in order of start time. A run that began before the executions we read
 * is measured from the first execution we read.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The time from `start` (excluded) to `end` (included): consecutive periods share no instant. */
export interface Period {
  start: Date;
  end: Date;
}

export const within = (at: Date, period: Period): boolean =>
  at.getTime() > period.start.getTime() && at.getTime() <= period.end.getTime();

/** The last `days` days up to `now`, and the same length just before. */
export function periodPair(now: Date, days: number): { current: Period; previous: Period } {
  const ago = (n: number) => new Date(now.getTime() - n * DAY_MS);
  return { current: { start: ago(days), end: now }, previous: { start: ago(2 * days), end: ago(days) } };
}

/** How far back executions are needed for the 30-day comparison: two periods plus runs that began earlier. */
export const HISTORY_DAYS = 2 * 30 + 14;

/** One approval's wait, from the audit trail. */
export interface ApprovalWait {
  requestedAt: Date;
  decidedAt: Date;
}

export interface DeliveryMetrics {
  deployments: number;
  /** Mean lead time of those deployments; undefined without deployments. */
  leadTimeMs?: number;
  /** Executions that ended in the period, successes and failures. */
  finished: number;
  failures: number;
  /** failures / finished; undefined when nothing finished. */
  changeFailureRate?: number;
  mtbfMs?: number;
  mttrMs?: number;
  approvalWait?: { p50Ms: number; p90Ms: number; count: number };
}

export interface MetricsComparison {
  current: DeliveryMetrics;
  previous: DeliveryMetrics;
}

/** A pipeline whose latest finished execution (by start) failed, and since when it fails. */
export interface FailingPipeline {
  pipelineName: string;
  since: Date;
}

/** A time span, counted at the moment it became known. */
interface Span {
  at: Date;
  ms: number;
}

interface RunSpans {
  betweenFailures: Span[];
  toRecover: Span[];
  /** Start of the run of failures the pipeline is still in, if it is. */
  failingSince?: Date;
}

const finished = (e: ExecutionSummary) => e.status === 'Succeeded' || e.status === 'Failed';

/** Green and red runs of one pipeline's executions (MTBF and MTTR, docs/concepts.md). */
export function runSpans(executions: readonly ExecutionSummary[]): RunSpans {
  const ordered = executions
    .filter(finished)
    .sort((a, b) => a.startTime.getTime() - b.startTime.getTime() || a.executionId.localeCompare(b.executionId));
  const spans: RunSpans = { betweenFailures: [], toRecover: [] };
  let runStart: ExecutionSummary | undefined;
  for (const execution of ordered) {
    if (runStart && execution.status === runStart.status) continue;
    if (runStart) {
      const span = { at: execution.lastUpdateTime, ms: execution.startTime.getTime() - runStart.startTime.getTime() };
      (execution.status === 'Failed' ? spans.betweenFailures : spans.toRecover).push(span);
    }
    runStart = execution;
  }
  if (runStart?.status === 'Failed') spans.failingSince = runStart.startTime;
  return spans;
}

/** The metrics of one period over several pipelines (a product) and their approvals. */
export function deliveryMetrics(
  pipelines: readonly (readonly ExecutionSummary[])[],
  waits: readonly ApprovalWait[],
  period: Period,
): DeliveryMetrics {
  const ended = pipelines.flat().filter((e) => finished(e) && within(e.lastUpdateTime, period));
  const successes = ended.filter((e) => e.status === 'Succeeded');
  const failures = ended.length - successes.length;
  const runs = pipelines.map(runSpans);
  const inPeriod = (spans: Span[]) => spans.filter((s) => within(s.at, period)).map((s) => s.ms);
  const waited = waits
    .filter((w) => within(w.decidedAt, period))
    .map((w) => w.decidedAt.getTime() - w.requestedAt.getTime())
    .sort((a, b) => a - b);

  return defined({
    deployments: successes.length,
    leadTimeMs: mean(successes.map((e) => e.lastUpdateTime.getTime() - e.startTime.getTime())),
    finished: ended.length,
    failures,
    changeFailureRate: ended.length > 0 ? failures / ended.length : undefined,
    mtbfMs: mean(runs.flatMap((r) => inPeriod(r.betweenFailures))),
    mttrMs: mean(runs.flatMap((r) => inPeriod(r.toRecover))),
    approvalWait:
      waited.length > 0
        ? { p50Ms: percentile(waited, 0.5) ?? 0, p90Ms: percentile(waited, 0.9) ?? 0, count: waited.length }
        : undefined,
  });
}

/** The metrics of a period and of the period of the same length before it. */
export function compareMetrics(
  pipelines: readonly (readonly ExecutionSummary[])[],
  waits: readonly ApprovalWait[],
  now: Date,
  days: number,
): MetricsComparison {
  const { current, previous } = periodPair(now, days);
  return { current: deliveryMetrics(pipelines, waits, current), previous: deliveryMetrics(pipelines, waits, previous) };
}

/** Pipelines still in a run of failures (never recovered), longest failing first. */
export function failingPipelines(
  histories: readonly { pipelineName: string; executions: readonly ExecutionSummary[] }[],
): FailingPipeline[] {
  return histories
    .flatMap(({ pipelineName, executions }) => {
      const since = runSpans(executions).failingSince;
      return since ? [{ pipelineName, since }] : [];
    })
    .sort((a, b) => a.since.getTime() - b.since.getTime() || a.pipelineName.localeCompare(b.pipelineName));
}

/** Nearest-rank percentile of ascending values: the smallest value with at least q of them at or below it. */
export function percentile(ascending: readonly number[], q: number): number | undefined {
  if (ascending.length === 0) return undefined;
  return ascending[Math.min(ascending.length, Math.max(1, Math.ceil(q * ascending.length))) - 1];
}

function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** `T` with its possibly-undefined fields made optional: they are dropped, not kept as undefined. */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

function defined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Defined<T>;
}
