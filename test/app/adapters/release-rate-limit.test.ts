import { CodePipelineClient, GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdaptiveRate,
  LEARNING,
  limitRequestRate,
  OperationRateLimiter,
  type Timers,
} from '../../../app/adapters/release-rate-limit.ts';
import { type CodePipelineEmulator, startCodePipelineEmulator } from '../../../sandbox/codepipeline/index.ts';

/** Timers on a clock the test moves. */
function virtualTimers(): Timers & { advance(ms: number): void } {
  let now = 0;
  const due = new Set<{ at: number; run: () => void }>();
  return {
    now: () => now,
    setTimeout: (run, ms) => {
      const timer = { at: now + ms, run };
      due.add(timer);
      return timer;
    },
    clearTimeout: (handle) => void due.delete(handle as { at: number; run: () => void }),
    advance(ms) {
      now += ms;
      for (const timer of [...due].filter((t) => t.at <= now)) {
        due.delete(timer);
        timer.run();
      }
    },
  };
}

/** `count` calls that got through, sent evenly over [from, to). */
function passEvenly(rate: AdaptiveRate, count: number, from: number, to: number): void {
  for (let i = 0; i < count; i++) rate.passed(from + ((to - from) * i) / count);
}

describe('AdaptiveRate', () => {
  it('lets its starting burst through, then gives each caller the next slot at its rate', () => {
    // Prepare
    const rate = new AdaptiveRate({ perSecond: 10, burst: 3 }, 0);

    // Act
    const waits = [rate.reserve(0), rate.reserve(0), rate.reserve(0), rate.reserve(0)];

    // Assess
    expect(waits.map(Math.round)).toEqual([0, 0, 0, 100]);
  });

  it('cuts the rate at the first throttle, then sets it just under what got through between two throttles', () => {
    // Prepare: it starts at 20/s; the service allows 10/s
    const rate = new AdaptiveRate({ perSecond: 20, burst: 1 }, 0);

    // Act
    rate.throttled(0, 50);
    const afterFirst = rate.perSecond;
    passEvenly(rate, 12, 1, 1_200); // 12 calls through in 1.2 s between two throttles: 10/s
    rate.throttled(1_200, 1_250);

    // Assess
    expect(afterFirst).toBeCloseTo(20 * LEARNING.firstCut);
    expect(rate.perSecond).toBeCloseTo(10 * (1 - LEARNING.margin));
    expect(rate.learnt).toBe(true);
  });

  it('answers a cluster of throttles once: those right after a cut were sent at the rate before it', () => {
    // Prepare
    const rate = new AdaptiveRate({ perSecond: 20, burst: 1 }, 0);

    // Act: three calls throttled at once
    rate.throttled(0, 50);
    rate.throttled(0, 51);
    rate.throttled(0, 52);

    // Assess
    expect(rate.perSecond).toBeCloseTo(20 * LEARNING.firstCut);
  });

  it('never measures above its own rate: a throttle always lowers it', () => {
    // Prepare: throttled twice while sending at 5/s, though 10 calls a second got through in between
    const rate = new AdaptiveRate({ perSecond: 5, burst: 1 }, 0);
    rate.throttled(0, 50);
    passEvenly(rate, 10, 1, 1_000);

    // Act
    rate.throttled(1_000, 1_100);

    // Assess
    expect(rate.perSecond).toBeLessThan(5 * LEARNING.firstCut);
  });

  it('cuts no deeper than the first cut when few calls were made between two throttles and none was throttled', () => {
    // Prepare: 14/s after the first throttle, then only two calls in a second (callers were busy elsewhere)
    const rate = new AdaptiveRate({ perSecond: 20, burst: 1 }, 0);
    rate.throttled(0, 50);
    passEvenly(rate, 2, 1, 1_000);

    // Act
    rate.throttled(1_000, 1_100);

    // Assess
    expect(rate.perSecond).toBeCloseTo(20 * LEARNING.firstCut * LEARNING.firstCut);
  });

  it('doubles every second callers wait before any throttle, and grows no further while nobody waits', () => {
    // Prepare
    const rate = new AdaptiveRate({ perSecond: 8, burst: 1 }, 0);

    // Act
    rate.hold(0, true);
    rate.hold(2_000, false);
    const held = rate.perSecond;
    rate.hold(10_000, false);

    // Assess
    expect(held).toBeCloseTo(32);
    expect(rate.perSecond).toBeCloseTo(32);
  });

  it('probes upward slowly once it has learnt the limit', () => {
    // Prepare: learnt 10/s (less the margin)
    const rate = new AdaptiveRate({ perSecond: 20, burst: 1 }, 0);
    rate.throttled(0, 50);
    passEvenly(rate, 10, 1, 1_000);
    rate.throttled(1_000, 1_050);
    const learnt = rate.perSecond;

    // Act: callers wait for five seconds
    rate.hold(1_050, true);
    rate.hold(6_050, true);

    // Assess: about 2 % a second, not doubling
    expect(rate.perSecond / learnt).toBeCloseTo(1 + 5 * LEARNING.probePerSecond, 2);
  });
});

describe('OperationRateLimiter', () => {
  it('learns per key: a throttled operation, account or region leaves the others’ rates alone', async () => {
    // Prepare
    const timers = virtualTimers();
    const limiter = new OperationRateLimiter({ perSecond: 10, burst: 10 }, timers);
    const east = { operation: 'GetPipelineState', region: 'us-east-1', account: '111111111111' };
    const west = { ...east, region: 'eu-west-1' };
    const other = { ...east, account: '222222222222' };
    const put = { ...east, operation: 'PutApprovalResult' };
    for (const key of [east, west, other, put]) limiter.passed(key, await limiter.take(key));

    // Act
    limiter.throttled(east, 0);

    // Assess
    expect(limiter.perSecond(east)).toBeCloseTo(10 * LEARNING.firstCut);
    for (const key of [west, other, put]) expect(limiter.perSecond(key)).toBe(10);
    expect(limiter.throttles.get('GetPipelineState')).toBe(1);
  });

  it('sends a throttled call again first in line, at the next slot', async () => {
    // Prepare: a burst of one at 10/s, and two callers already waiting
    const timers = virtualTimers();
    const limiter = new OperationRateLimiter({ perSecond: 10, burst: 1 }, timers);
    const order: string[] = [];
    const sentAt = await limiter.take('Op');
    const waiting = ['b', 'c'].map((name) => limiter.take('Op').then(() => order.push(name)));

    // Act: the first call comes back throttled
    limiter.throttled('Op', sentAt);
    const again = limiter.take('Op', { again: true }).then(() => order.push('a again'));
    for (let i = 0; i < 10; i++) timers.advance(200);
    await Promise.all([again, ...waiting]);

    // Assess
    expect(order).toEqual(['a again', 'b', 'c']);
  });
});

describe('limitRequestRate on a CodePipeline client', () => {
  let emulator: CodePipelineEmulator;

  beforeAll(async () => {
    emulator = await startCodePipelineEmulator();
    emulator.createPipelines('load', 1);
  });
  afterAll(async () => emulator?.close());

  const client = (limiter: OperationRateLimiter) =>
    limitRequestRate(
      new CodePipelineClient({
        endpoint: emulator.url,
        region: emulator.region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 5,
      }),
      limiter,
    );

  it('learns the rate CodePipeline allows from its throttling and keeps close to it', async () => {
    // Prepare: the service allows 20 calls a second (burst 20); the limiter starts at its default 8/s
    emulator.configure({ rateLimitPerSecond: 20 });
    emulator.clearCalls();
    const limiter = new OperationRateLimiter();
    const cp = client(limiter);
    const started = performance.now();

    // Act: 100 calls, 8 at a time
    let next = 0;
    const worker = async () => {
      while (next++ < 100) await cp.send(new GetPipelineStateCommand({ name: 'load-0001' }));
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    // Assess: the limit took (100 - 20) / 20 s at least; the limiter was not much slower
    const elapsed = performance.now() - started;
    const floor = ((100 - 20) / 20) * 1000;
    const calls = emulator.calls('GetPipelineState');
    expect(calls.filter((call) => call.ok)).toHaveLength(100);
    expect(elapsed).toBeLessThan(1.5 * floor);
    expect(limiter.perSecond('GetPipelineState')).toBeGreaterThan(14);
    expect(limiter.perSecond('GetPipelineState')).toBeLessThan(27);
    // Every throttled attempt was sent again, and few were throttled.
    expect(calls.length - 100).toBe(limiter.throttles.get('GetPipelineState') ?? 0);
    expect(calls.length - 100).toBeLessThan(25);
    cp.destroy();
    emulator.configure({ rateLimitPerSecond: undefined });
  });

  it('sends a throttled attempt again itself, and counts it', async () => {
    // Prepare
    emulator.clearCalls();
    emulator.failNextCall('GetPipelineState', 'ThrottlingException', 2);
    const limiter = new OperationRateLimiter({ perSecond: 19, burst: 1 });
    const cp = client(limiter);

    // Act
    const state = await cp.send(new GetPipelineStateCommand({ name: 'load-0001' }));

    // Assess
    expect(state.pipelineName).toBe('load-0001');
    expect(emulator.calls('GetPipelineState').map((call) => call.error ?? 'ok')).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
    expect(limiter.throttles.get('GetPipelineState')).toBe(2);
    cp.destroy();
  });

  it('hands a call that stays throttled to the SDK’s retries once its own resends are spent', async () => {
    // Prepare: more throttles in a row than the limiter sends again
    emulator.clearCalls();
    emulator.failNextCall('GetPipelineState', 'ThrottlingException', LEARNING.resends + 2);
    const limiter = new OperationRateLimiter({ perSecond: 50, burst: 1 });
    const cp = client(limiter);

    // Act
    const state = await cp.send(new GetPipelineStateCommand({ name: 'load-0001' }));

    // Assess: the SDK's second attempt went through the limiter again and got through
    expect(state.pipelineName).toBe('load-0001');
    expect(state.$metadata.attempts).toBe(2);
    expect(emulator.calls('GetPipelineState').filter((call) => call.ok)).toHaveLength(1);
    cp.destroy();
  });
});
