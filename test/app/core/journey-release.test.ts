import { describe, expect, it } from 'vitest';
import { DRAW_INTERVAL_MS, showInRelease } from '../../../app/core/journey-release.ts';
import type { ReleaseStep } from '../../../app/core/ports.ts';
import type { ReleaseRun } from '../../../app/core/release.ts';
import { counterIds, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryJourneyStore } from '../../support/journey-fakes.ts';

/* A release's progress message follows its pipelines (core/journey-release.ts): one drawer at a time, the latest steps last. */

const run = (state: ReleaseRun['state']) =>
  ({ releaseId: 'r1', state, message: { channel: 'C0APPROVALS', ts: '9.0001' } }) as ReleaseRun;

function world(state: ReleaseRun['state'] = 'finished') {
  const clock = fixedClock('2026-11-27T12:00:00Z');
  const draws: Array<{ at: number; steps: Record<string, ReleaseStep> }> = [];
  const deps = {
    releases: { get: async () => run(state) },
    releaseSteps: new MemoryJourneyStore(),
    releaseView: {
      showSteps: async (_run: ReleaseRun, steps: Readonly<Record<string, ReleaseStep>>) => {
        await new Promise((resolve) => setImmediate(resolve));
        draws.push({ at: clock().getTime(), steps: { ...steps } });
      },
    },
    // Waiting moves the test's clock, and lets the other handlers run meanwhile.
    sleep: async (ms: number) => {
      clock.advance(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    clock,
    ids: counterIds('holder'),
    log: memoryLog(),
  };
  return { deps, draws, clock };
}

const started = (rank = 0): ReleaseStep => ({ kind: 'started', stageName: 'StagingPROD', rank, at: new Date() });

describe('showInRelease', () => {
  it('ends with every pipeline’s latest step drawn when ten come at once, drawing a few times, not ten', async () => {
    // Prepare
    const { deps, draws } = world();
    const pipelines = Array.from({ length: 10 }, (_, i) => `shop-svc${i}`);
    // Act
    await Promise.all(pipelines.map((pipeline) => showInRelease(deps, 'r1', pipeline, started())));
    // Assess
    expect(Object.keys(draws.at(-1)?.steps ?? {}).sort()).toEqual(pipelines.sort());
    expect(draws.length).toBeLessThanOrEqual(3);
    const gaps = draws.slice(1).map((draw, i) => draw.at - (draws[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(DRAW_INTERVAL_MS);
  });

  it('keeps steps while the fan-out runs and draws nothing, and never lets an older step replace a newer one', async () => {
    // Prepare
    const running = world('confirmed');
    // Act
    await showInRelease(running.deps, 'r1', 'shop-cart', started(1));
    await showInRelease(running.deps, 'r1', 'shop-cart', started(0));
    // Assess
    expect(running.draws).toEqual([]);
    expect((await running.deps.releaseSteps.releaseSteps('r1')).steps['shop-cart']?.rank).toBe(1);
  });

  it('logs a failed drawing and goes on', async () => {
    // Prepare
    const { deps } = world();
    deps.releaseView.showSteps = async () => {
      throw new Error('Slack answered 500');
    };
    // Act / Assess
    await expect(showInRelease(deps, 'r1', 'shop-cart', started())).resolves.toBeUndefined();
    expect(deps.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', context: expect.objectContaining({ releaseId: 'r1' }) }),
    );
    // The lease was given back: the next step draws.
    deps.releaseView.showSteps = async () => undefined;
    expect(await deps.releaseSteps.takeReleaseDraw('r1', 'someone', new Date(Date.now() + 1000), deps.clock())).toBe(
      true,
    );
  });
});
