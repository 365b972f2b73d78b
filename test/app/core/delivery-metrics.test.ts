import { describe, expect, it } from 'vitest';
import {
  type ApprovalWait,
  compareMetrics,
  DAY_MS,
  deliveryMetrics,
  failingPipelines,
  percentile,
  periodPair,
  runSpans,
} from '../../../app/core/delivery-metrics.ts';
import type { ExecutionStatus, ExecutionSummary } from '../../../app/core/pipeline.ts';

const HOUR = 60 * 60 * 1000;
const T0 = new Date('2026-11-02T08:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

/** An execution that started `start` hours after T0 and last changed `end` hours after it. */
const execution = (id: string, status: ExecutionStatus, start: number, end: number): ExecutionSummary => ({
  executionId: id,
  status,
  startTime: at(start),
  lastUpdateTime: at(end),
  revision: { revisionId: id },
});

/**
 * docs/concepts.md's worked example (one pipeline, four commits), one step an hour: c1 at 0 h, c2 at 2 h, c3 at 4 h, c4 at 6 h; c1 rejected
 * in QA at 5 h, c4 rejected in DEV at 8 h, c2 rejected in QA at 9 h, c3 deployed to PROD at 10 h.
 */
const seed000 = [
  execution('c1', 'Failed', 0, 5),
  execution('c2', 'Failed', 2, 9),
  execution('c3', 'Succeeded', 4, 10),
  execution('c4', 'Failed', 6, 8),
];

const day = { start: at(-14), end: at(24) };

describe('delivery metrics', () => {
  it('measures the worked example of docs/concepts.md as computed by hand', () => {
    // Prepare: the executions CodePipeline lists for the scenario (newest first, as it answers)
    const executions = [...seed000].reverse();

    // Act
    const metrics = deliveryMetrics([executions], [], day);

    // Assess: one deployment (c3), 4 h → 10 h; three of four finished executions failed;
    // red from c1's start (0 h) to c3's start (4 h); green from c3's start (4 h) to c4's (6 h).
    expect(metrics).toEqual({
      deployments: 1,
      leadTimeMs: 6 * HOUR,
      finished: 4,
      failures: 3,
      changeFailureRate: 0.75,
      mtbfMs: 2 * HOUR,
      mttrMs: 4 * HOUR,
    });
    expect(failingPipelines([{ pipelineName: 'shop-cart', executions }])).toEqual([
      { pipelineName: 'shop-cart', since: at(6) },
    ]);
  });

  it('reports no deployments and no lead time when nothing reached production', () => {
    // Prepare
    const executions = [
      execution('a', 'Failed', 0, 1),
      execution('b', 'Superseded', 1, 2),
      execution('c', 'Failed', 2, 3),
    ];

    // Act
    const metrics = deliveryMetrics([executions], [], day);

    // Assess
    expect(metrics).toEqual({ deployments: 0, finished: 2, failures: 2, changeFailureRate: 1 });
  });

  it('leaves a failure that never recovered out of MTTR and names the pipeline as still failing', () => {
    // Prepare: green for 3 h, then red from 5 h on, never green again
    const executions = [
      execution('ok1', 'Succeeded', 0, 1),
      execution('ok2', 'Succeeded', 3, 4),
      execution('bad1', 'Failed', 5, 6),
      execution('bad2', 'Failed', 7, 8),
    ];

    // Act
    const metrics = deliveryMetrics([executions], [], day);
    const failing = failingPipelines([
      { pipelineName: 'shop-payments', executions },
      { pipelineName: 'shop-cart', executions: [execution('x', 'Succeeded', 0, 1)] },
    ]);

    // Assess: MTBF is the green run from ok1's start to bad1's start; no recovery, so no MTTR
    expect(metrics.mtbfMs).toBe(5 * HOUR);
    expect(metrics.mttrMs).toBeUndefined();
    expect(failing).toEqual([{ pipelineName: 'shop-payments', since: at(5) }]);
  });

  it('counts an execution spanning the period boundary in the period it ended in', () => {
    // Prepare: a week ending at `now`; one run started 8 days ago and went to production 6 days ago,
    // one ended exactly at the start of the week (that instant belongs to the week before)
    const now = at(30 * 24);
    const { current, previous } = periodPair(now, 7);
    const executions = [
      execution('spanning', 'Succeeded', 30 * 24 - 8 * 24, 30 * 24 - 6 * 24),
      execution('on-the-edge', 'Succeeded', 30 * 24 - 9 * 24, 30 * 24 - 7 * 24),
    ];

    // Act
    const thisWeek = deliveryMetrics([executions], [], current);
    const weekBefore = deliveryMetrics([executions], [], previous);

    // Assess
    expect(thisWeek.deployments).toBe(1);
    expect(thisWeek.leadTimeMs).toBe(2 * DAY_MS);
    expect(weekBefore.deployments).toBe(1);
    expect(weekBefore.leadTimeMs).toBe(2 * DAY_MS);
  });

  it('counts recovery and failure spans in the period in which they became known', () => {
    // Prepare: failed on day 1 of the week before, recovered (started) on its last day, but that
    // run went to production only in this week
    const now = at(14 * 24);
    const { current, previous } = periodPair(now, 7);
    const executions = [execution('bad', 'Failed', 1 * 24, 1 * 24 + 1), execution('fix', 'Succeeded', 6 * 24, 8 * 24)];

    // Act
    const thisWeek = deliveryMetrics([executions], [], current);
    const weekBefore = deliveryMetrics([executions], [], previous);

    // Assess
    expect(thisWeek.mttrMs).toBe(5 * DAY_MS);
    expect(weekBefore.mttrMs).toBeUndefined();
    expect(weekBefore.failures).toBe(1);
  });

  it('treats superseded, stopped, cancelled and running executions as neither successes nor failures', () => {
    // Prepare: a failure, then executions that never finished either way, then a success
    const executions = [
      execution('bad', 'Failed', 0, 1),
      execution('superseded', 'Superseded', 1, 2),
      execution('stopped', 'Stopped', 2, 3),
      execution('cancelled', 'Cancelled', 3, 4),
      execution('good', 'Succeeded', 4, 6),
      execution('running', 'InProgress', 5, 7),
    ];

    // Act
    const metrics = deliveryMetrics([executions], [], day);

    // Assess: the red run lasts from bad's start to good's start, undisturbed in between
    expect(metrics).toEqual({
      deployments: 1,
      leadTimeMs: 2 * HOUR,
      finished: 2,
      failures: 1,
      changeFailureRate: 0.5,
      mttrMs: 4 * HOUR,
    });
  });

  it('keeps each pipeline’s runs apart within a product', () => {
    // Prepare: cart fails, payments succeeds later: that is no recovery of cart
    const cart = [execution('cart-1', 'Failed', 0, 1)];
    const payments = [execution('pay-1', 'Succeeded', 2, 3)];

    // Act
    const metrics = deliveryMetrics([cart, payments], [], day);

    // Assess
    expect(metrics.mttrMs).toBeUndefined();
    expect(metrics.mtbfMs).toBeUndefined();
    expect(metrics.deployments).toBe(1);
    expect(metrics.changeFailureRate).toBe(0.5);
  });

  it('averages MTBF and MTTR over every green and red run', () => {
    // Prepare: red 0–2 h, green 2–5 h, red 5–6 h, green 6–10 h, red from 10 h
    const executions = [
      execution('f1', 'Failed', 0, 1),
      execution('s1', 'Succeeded', 2, 3),
      execution('f2', 'Failed', 5, 5.5),
      execution('s2', 'Succeeded', 6, 7),
      execution('s3', 'Succeeded', 8, 9),
      execution('f3', 'Failed', 10, 11),
    ];

    // Act
    const spans = runSpans(executions);
    const metrics = deliveryMetrics([executions], [], day);

    // Assess
    expect(spans.toRecover.map((s) => s.ms)).toEqual([2 * HOUR, 1 * HOUR]);
    expect(spans.betweenFailures.map((s) => s.ms)).toEqual([3 * HOUR, 4 * HOUR]);
    expect(spans.failingSince).toEqual(at(10));
    expect(metrics.mttrMs).toBe(1.5 * HOUR);
    expect(metrics.mtbfMs).toBe(3.5 * HOUR);
  });

  it('takes approval wait percentiles by nearest rank, over decisions made in the period', () => {
    // Prepare: ten decisions waiting 10, 20, … 100 minutes, and one decided before the period
    const waits: ApprovalWait[] = Array.from({ length: 10 }, (_, i) => ({
      requestedAt: at(i),
      decidedAt: new Date(at(i).getTime() + (i + 1) * 10 * 60_000),
    }));
    const old = { requestedAt: at(-100), decidedAt: at(-20) };

    // Act
    const metrics = deliveryMetrics([], [...waits, old], day);

    // Assess
    expect(metrics.approvalWait).toEqual({ p50Ms: 50 * 60_000, p90Ms: 90 * 60_000, count: 10 });
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([], 0.5)).toBeUndefined();
  });

  it('compares a period with the one of the same length before it', () => {
    // Prepare: two deployments this week, one the week before, one a month ago
    const now = at(60 * 24);
    const executions = [
      execution('this-week-1', 'Succeeded', 59 * 24, 59 * 24 + 2),
      execution('this-week-2', 'Succeeded', 58 * 24, 58 * 24 + 4),
      execution('last-week', 'Succeeded', 50 * 24, 50 * 24 + 6),
      execution('a-month-ago', 'Succeeded', 25 * 24, 25 * 24 + 8),
    ];

    // Act
    const week = compareMetrics([executions], [], now, 7);
    const month = compareMetrics([executions], [], now, 30);

    // Assess
    expect([week.current.deployments, week.previous.deployments]).toEqual([2, 1]);
    expect([week.current.leadTimeMs, week.previous.leadTimeMs]).toEqual([3 * HOUR, 6 * HOUR]);
    expect([month.current.deployments, month.previous.deployments]).toEqual([3, 1]);
  });

  it('has nothing to say about an empty period', () => {
    // Act
    const metrics = deliveryMetrics([[]], [], day);

    // Assess
    expect(metrics).toEqual({ deployments: 0, finished: 0, failures: 0 });
  });
});
