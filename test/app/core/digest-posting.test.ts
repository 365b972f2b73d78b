import { describe, expect, it } from 'vitest';
import { DIGEST_LEASE_MS, DigestBusyError, postDailyDigest } from '../../../app/core/digest-posting.ts';
import type { PipelineReader } from '../../../app/core/ports.ts';
import { FakePublisher, MemoryMarkers } from '../../support/digest-fakes.ts';
import { counterIds, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

const nothingToRead: PipelineReader = {
  listPipelines: async () => [],
  snapshot: async () => {
    throw new Error('not asked');
  },
  executionsSince: async () => [],
};

function setup() {
  const clock = fixedClock('2025-03-11T07:00:00Z');
  const markers = new MemoryMarkers();
  const publisher = new FakePublisher(markers);
  const log = memoryLog();
  const deps = {
    store: new MemoryApprovalStore(),
    reader: nothingToRead,
    clock,
    log,
    ids: counterIds('run'),
    config: { products: {} },
    digestMarkers: markers,
    digestPublisher: publisher,
  };
  return { deps, clock, markers, publisher, log };
}

describe('posting the daily digest', () => {
  it('posts once a day however often it runs', async () => {
    // Prepare
    const { deps, clock, publisher } = setup();

    // Act
    const first = await postDailyDigest(deps);
    clock.advance(60 * 60 * 1000);
    const again = await postDailyDigest(deps);
    clock.advance(24 * 60 * 60 * 1000);
    const nextDay = await postDailyDigest(deps);

    // Assess
    expect([first, again, nextDay]).toEqual(['posted', 'already-posted', 'posted']);
    expect(publisher.published.map((d) => d.day)).toEqual(['2025-03-11', '2025-03-12']);
  });

  it('records the post before any thread reply, so a failing reply never leads to a second post', async () => {
    // Prepare
    const { deps, markers, publisher, log } = setup();
    publisher.failReplies = 1;

    // Act
    const result = await postDailyDigest(deps);
    const retry = await postDailyDigest(deps);

    // Assess
    expect(result).toBe('posted');
    expect(retry).toBe('already-posted');
    expect(markers.log).toEqual(['recorded 1741676400.000000', 'reply']);
    expect(publisher.published).toHaveLength(1);
    expect(log.entries.some((e) => e.level === 'error' && e.message.includes('thread is incomplete'))).toBe(true);
  });

  it('gives the lease back when it could not post, so the retry posts at once', async () => {
    // Prepare
    const { deps, publisher } = setup();
    publisher.failTop = 1;

    // Act
    const failure = await postDailyDigest(deps).catch((error: unknown) => error);
    const retry = await postDailyDigest(deps);

    // Assess
    expect(String(failure)).toContain('not_in_channel');
    expect(retry).toBe('posted');
    expect(publisher.published).toHaveLength(1);
  });

  it('waits for a lease held by a run that died, then posts', async () => {
    // Prepare: another run took the lease a minute ago and never came back
    const { deps, clock, markers, publisher } = setup();
    const now = clock();
    await markers.lease('2025-03-11', 'dead-run', new Date(now.getTime() + DIGEST_LEASE_MS - 60_000), now);

    // Act
    const early = await postDailyDigest(deps).catch((error: unknown) => error);
    clock.advance(DIGEST_LEASE_MS);
    const late = await postDailyDigest(deps);

    // Assess
    expect(early).toBeInstanceOf(DigestBusyError);
    expect(late).toBe('posted');
    expect(publisher.published).toHaveLength(1);
  });
});
