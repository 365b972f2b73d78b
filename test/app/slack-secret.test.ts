import { describe, expect, it } from 'vitest';
import type { SlackCredentials } from '../../app/config.ts';
import { followSlackSecret } from '../../app/slack-secret.ts';
import { memoryLog } from '../support/fakes.ts';

/*
 * The deps a handler builds with the Slack credentials follow the secret (app/slack-secret.ts): read
 * again in the background every 5 minutes, built again only when it changed.
 */

const creds = (botToken: string, signingSecret = 'secret-1'): SlackCredentials => ({ botToken, signingSecret });

function setup(first: SlackCredentials | undefined) {
  let stored: SlackCredentials | undefined = first;
  let failing = false;
  let now = 0;
  const reads: number[] = [];
  const builds: (string | undefined)[] = [];
  const log = memoryLog();
  const deps = followSlackSecret(
    async () => {
      reads.push(now);
      if (failing) throw new Error('Secrets Manager did not answer');
      return stored;
    },
    async (credentials) => {
      builds.push(credentials?.botToken);
      return { token: credentials?.botToken };
    },
    { log, now: () => now },
  );
  return {
    deps,
    reads,
    builds,
    log,
    put: (value: SlackCredentials) => {
      stored = value;
    },
    fail: (value: boolean) => {
      failing = value;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('followSlackSecret', () => {
  it('builds once, and again only when the secret changed, from the call after the read', async () => {
    // Prepare
    const world = setup(creds('xoxb-old'));
    expect(await world.deps.current()).toEqual({ token: 'xoxb-old' });
    world.put(creds('xoxb-new'));
    // Act: within 5 minutes nothing is read; after, the call goes on with what it has
    world.advance(4 * 60_000);
    const early = await world.deps.current();
    world.advance(60_000);
    const stale = await world.deps.current();
    await new Promise((resolve) => setImmediate(resolve));
    const fresh = await world.deps.current();
    // Assess
    expect(early).toEqual({ token: 'xoxb-old' });
    expect(stale).toEqual({ token: 'xoxb-old' });
    expect(fresh).toEqual({ token: 'xoxb-new' });
    expect(world.reads).toEqual([0, 5 * 60_000]);
    expect(world.builds).toEqual(['xoxb-old', 'xoxb-new']);
    expect(world.log.entries.map((entry) => entry.message)).toContain(
      'The Slack secret changed: using its new credentials from now on',
    );
  });

  it('keeps the deps it has when the secret reads the same or cannot be read, and tries again at the next call', async () => {
    // Prepare
    const world = setup(creds('xoxb-1'));
    await world.deps.current();
    world.advance(5 * 60_000);
    world.fail(true);
    // Act
    await world.deps.current();
    await new Promise((resolve) => setImmediate(resolve));
    world.fail(false);
    await world.deps.current();
    await new Promise((resolve) => setImmediate(resolve));
    // Assess
    expect(world.reads).toHaveLength(3);
    expect(world.builds).toEqual(['xoxb-1']);
    expect(world.log.entries.find((entry) => entry.level === 'warn')?.message).toBe(
      'Could not read the Slack secret again; keeping the credentials read before',
    );
  });

  it('reads at once on renew, at most once a minute, and says whether anything changed', async () => {
    // Prepare
    const world = setup(creds('xoxb-1', 'secret-1'));
    await world.deps.current();
    world.put(creds('xoxb-1', 'secret-2'));
    // Act
    const changed = await world.deps.renew();
    const again = await world.deps.renew();
    world.advance(60_000);
    const later = await world.deps.renew();
    // Assess
    expect([changed, again, later]).toEqual([true, false, false]);
    expect(world.reads).toEqual([0, 0, 60_000]);
    expect(world.builds).toHaveLength(2);
  });

  it('never reads again credentials that come from the environment', async () => {
    // Prepare
    const world = setup(undefined);
    await world.deps.current();
    world.advance(60 * 60_000);
    // Act
    await world.deps.current();
    const renewed = await world.deps.renew();
    // Assess
    expect(renewed).toBe(false);
    expect(world.reads).toEqual([0]);
  });

  it('forgets a failed first build, so the next call builds again', async () => {
    // Prepare
    const world = setup(creds('xoxb-1'));
    world.fail(true);
    // Act
    const first = await world.deps.current().catch((error: unknown) => error);
    world.fail(false);
    const second = await world.deps.current();
    // Assess
    expect(first).toBeInstanceOf(Error);
    expect(second).toEqual({ token: 'xoxb-1' });
  });
});
