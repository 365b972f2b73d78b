import { describe, expect, it } from 'vitest';
import type { MessageRef } from '../../../app/core/approval.ts';
import type { Digest } from '../../../app/core/digest.ts';
import {
  DIGEST_LEASE_MS,
  DigestBusyError,
  type DigestMarkers,
  type DigestPublisher,
  postDailyDigest,
} from '../../../app/core/digest-posting.ts';
import type { PipelineReader } from '../../../app/core/ports.ts';
import { counterIds, fixedClock, memoryLog } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

/** Markers with the DynamoDB adapter's conditional semantics, in memory. */
class MemoryMarkers implements DigestMarkers {
  readonly days = new Map<string, { holder?: string; until?: Date; message?: MessageRef }>();
  readonly log: string[] = [];

  async lease(day: string, holder: string, until: Date, now: Date): Promise<'leased' | 'posted' | 'busy'> {
    const marker = this.days.get(day) ?? {};
    if (marker.message) return 'posted';
    if (marker.until && marker.until.getTime() >= now.getTime()) return 'busy';
    this.days.set(day, { holder, until });
    return 'leased';
  }

  async recordPosted(day: string, message: MessageRef): Promise<void> {
    this.log.push(`recorded ${message.ts}`);
    const marker = this.days.get(day) ?? {};
    if (!marker.message) this.days.set(day, { message });
  }

  async giveBack(day: string, holder: string): Promise<void> {
    const marker = this.days.get(day);
    if (marker && !marker.message && marker.holder === holder) this.days.set(day, {});
  }
}

/** Slack as the core sees it: the top message, then replies; fails where told to. */
class FakePublisher implements DigestPublisher {
  readonly published: Digest[] = [];
  failTop = 0;
  failReplies = 0;

  constructor(private readonly markers: MemoryMarkers) {}

  async publish(digest: Digest, posted: (message: MessageRef) => Promise<void>): Promise<MessageRef> {
    if (this.failTop > 0) {
      this.failTop -= 1;
      throw new Error('An API error occurred: not_in_channel');
    }
    const message = { channel: 'C0DIGEST', ts: `1741676400.00000${this.published.length}` };
    this.published.push(digest);
    await posted(message);
    this.markers.log.push('reply');
    if (this.failReplies > 0) {
      this.failReplies -= 1;
      throw new Error('An API error occurred: internal_error');
    }
    return message;
  }
}

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
