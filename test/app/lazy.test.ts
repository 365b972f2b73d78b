import { describe, expect, it } from 'vitest';
import { lazy } from '../../app/lazy.ts';

describe('lazy', () => {
  it('builds once for concurrent first calls and every later one', async () => {
    // Prepare
    let builds = 0;
    const get = lazy(async () => {
      builds++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { route: `built ${builds}` };
    });
    // Act
    const first = await Promise.all([get(), get(), get()]);
    const later = await get();
    // Assess
    expect(builds).toBe(1);
    expect(new Set([...first, later]).size).toBe(1);
    expect(later).toEqual({ route: 'built 1' });
  });

  it('tries again on the next call after a failed build, instead of failing forever', async () => {
    // Prepare: the first cold start cannot read the Slack secret
    let builds = 0;
    const get = lazy(async () => {
      builds++;
      if (builds === 1) throw new Error('Secrets Manager did not answer');
      return 'ready';
    });
    // Act
    const first = await Promise.all([get(), get()].map((call) => call.catch((error: Error) => error.message)));
    const second = await get();
    // Assess
    expect(first).toEqual(['Secrets Manager did not answer', 'Secrets Manager did not answer']);
    expect(second).toBe('ready');
    expect(builds).toBe(2);
  });
});
