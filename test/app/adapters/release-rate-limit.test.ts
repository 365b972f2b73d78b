import { CodePipelineClient, GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitRequestRate, OperationRateLimiter, TokenBucket } from '../../../app/adapters/release-rate-limit.ts';
import { type CodePipelineEmulator, startCodePipelineEmulator } from '../../../sandbox/codepipeline/index.ts';

describe('TokenBucket', () => {
  it('lets a burst through, then gives each caller the next free slot in turn', () => {
    // Prepare
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);

    // Act
    const waits = Array.from({ length: 6 }, () => bucket.reserve());
    now = 1_000;
    const later = bucket.reserve();

    // Assess
    expect(waits.map(Math.round)).toEqual([0, 0, 0, 100, 200, 300]);
    // A second on, the three reserved slots are paid back and seven tokens have come in: burst is 3.
    expect(later).toBe(0);
  });

  it('gives up its saved burst when the service throttles anyway', () => {
    // Prepare
    const bucket = new TokenBucket(5, 5, () => 0);

    // Act
    bucket.penalize();

    // Assess
    expect(Math.round(bucket.reserve())).toBe(200);
  });

  it('refuses a rate that cannot work', () => {
    // Act, Assess
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
  });
});

describe('limitRequestRate on a CodePipeline client', () => {
  let emulator: CodePipelineEmulator;

  beforeAll(async () => {
    emulator = await startCodePipelineEmulator({ rateLimitPerSecond: 20 });
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

  it('keeps 30 concurrent calls under the service’s rate: nothing is throttled', async () => {
    // Prepare
    emulator.clearCalls();
    const limiter = new OperationRateLimiter({ perSecond: 19, burst: 1 });
    const cp = client(limiter);
    const started = performance.now();

    // Act
    await Promise.all(Array.from({ length: 30 }, () => cp.send(new GetPipelineStateCommand({ name: 'load-0001' }))));

    // Assess
    const elapsed = performance.now() - started;
    expect(emulator.calls('GetPipelineState').filter((call) => !call.ok)).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual((29 / 19) * 1000 - 50);
    expect(limiter.throttled.size).toBe(0);
    cp.destroy();
  });

  it('counts a throttled attempt, and the SDK’s retry goes through', async () => {
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
    expect(limiter.throttled.get('GetPipelineState')).toBe(2);
    cp.destroy();
  });
});
