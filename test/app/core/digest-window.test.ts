import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../app/core/digest.ts';
import {
  DIGEST_LEASE_MS,
  type PostDigestDeps,
  postDailyDigest,
  runOf,
  windowAfter,
} from '../../../app/core/digest-posting.ts';
import type { PipelineReader } from '../../../app/core/ports.ts';
import { FakePublisher, MemoryMarkers } from '../../support/digest-fakes.ts';
import { approvalRequest, counterIds, fixedClock, memoryLog, slackDecision } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

/*
 * Which outcomes each digest lists: everything decided since the previous digest's window ended, up
 * to the time its run was scheduled for. Schedules as infra/config.ts sets them up: weekdays, or every
 * day, at 08:00 Europe/Berlin; the Scheduler's `time` is that instant in UTC.
 */

const nothingToRead: PipelineReader = {
  listPipelines: async () => [],
  snapshot: async () => {
    throw new Error('not asked');
  },
  executionsSince: async () => [],
};

const HOUR = 60 * 60 * 1000;
const at = (iso: string) => new Date(iso);

function setup(start: string) {
  const clock = fixedClock(start);
  const markers = new MemoryMarkers();
  const publisher = new FakePublisher(markers);
  const store = new MemoryApprovalStore();
  const deps: PostDigestDeps = {
    store,
    reader: nothingToRead,
    clock,
    log: memoryLog(),
    ids: counterIds('run'),
    config: { products: {} },
    digestMarkers: markers,
    digestPublisher: publisher,
  };
  /** `pipelineName`'s approval, requested an hour before, approved in Slack at `iso`. */
  const decide = async (pipelineName: string, iso: string) => {
    const request = approvalRequest({
      pipelineName,
      receivedAt: new Date(at(iso).getTime() - HOUR),
      expiresAt: new Date(at(iso).getTime() + 6 * 24 * HOUR),
    });
    await store.saveRequest(request);
    const decision = slackDecision('approve', at(iso));
    await store.recordOutcome(request.id, { kind: 'approved', decision, at: decision.at });
  };
  /** The scheduled run of `scheduledFor`, delivered (its clock) at `deliveredAt`, on time by default. */
  const run = (scheduledFor: string, deliveredAt = scheduledFor) => {
    clock.set(deliveredAt);
    return postDailyDigest(deps, at(scheduledFor));
  };
  return { deps, clock, markers, publisher, decide, run };
}

const listed = (digest: Digest | undefined) => digest?.decided.map((d) => d.pipelineName).sort();

describe('the window of the daily digest', () => {
  it("lists Friday's and the weekend's decisions, a break-glass approval included, in Monday's digest once", async () => {
    // Prepare: the default schedule, weekdays at 08:00 in Berlin (07:00 UTC in winter)
    const { publisher, decide, run, deps } = setup('2025-03-06T07:00:00Z');
    await run('2025-03-06T07:00:00Z'); // Thursday
    await decide('shop-thursday', '2025-03-06T15:00:00Z');
    await run('2025-03-07T07:00:00Z'); // Friday
    await decide('shop-friday', '2025-03-07T10:00:00Z');
    const request = approvalRequest({ pipelineName: 'shop-saturday', receivedAt: at('2025-03-08T09:00:00Z') });
    await deps.store.saveRequest(request);
    const breakGlass = {
      ...slackDecision('approve', at('2025-03-08T10:00:00Z'), { id: 'U0CAROL', name: 'Carol', reason: 'hotfix' }),
      override: { freeze: 'Weekend' },
    };
    await deps.store.recordOutcome(request.id, { kind: 'approved', decision: breakGlass, at: breakGlass.at });
    await decide('shop-sunday', '2025-03-09T20:00:00Z');
    await decide('shop-monday', '2025-03-10T06:59:00Z');

    // Act
    const monday = await run('2025-03-10T07:00:00Z');

    // Assess
    expect(monday).toBe('posted');
    const [, friday, mondayDigest] = publisher.published;
    expect(listed(friday)).toEqual(['shop-thursday']);
    expect(mondayDigest?.day).toBe('2025-03-10');
    expect(listed(mondayDigest)).toEqual(['shop-friday', 'shop-monday', 'shop-saturday', 'shop-sunday']);
    expect(mondayDigest?.decidedSince).toEqual(at('2025-03-07T07:00:00Z'));
    expect(mondayDigest?.decided.find((d) => d.pipelineName === 'shop-saturday')).toMatchObject({
      override: 'freeze override (Weekend)',
      reason: 'hotfix',
    });
  });

  it('loses no hour when the clocks go back and lists none twice when they go forward', async () => {
    // Prepare: every day at 08:00 in Berlin. On Sunday 26 October 2025 the clocks go back: 08:00 is
    // 06:00 UTC on Saturday and 07:00 UTC on Sunday, 25 hours apart. On Sunday 30 March 2025 they go
    // forward: 07:00 UTC on Saturday, 06:00 UTC on Sunday, 23 hours apart.
    const autumn = setup('2025-10-24T06:00:00Z');
    await autumn.run('2025-10-24T06:00:00Z');
    await autumn.run('2025-10-25T06:00:00Z');
    await autumn.decide('shop-extra-hour', '2025-10-25T06:30:00Z');
    const spring = setup('2025-03-28T07:00:00Z');
    await spring.run('2025-03-28T07:00:00Z');
    await spring.decide('shop-lost-hour', '2025-03-29T06:30:00Z');
    await spring.run('2025-03-29T07:00:00Z');

    // Act
    await autumn.run('2025-10-26T07:00:00Z');
    await spring.run('2025-03-30T06:00:00Z');

    // Assess: the hour between 08:00 summer time and 08:00 winter time is in Sunday's digest
    const [, saturday, sunday] = autumn.publisher.published;
    expect(listed(saturday)).toEqual([]);
    expect(listed(sunday)).toEqual(['shop-extra-hour']);
    expect(sunday?.decidedSince).toEqual(at('2025-10-25T06:00:00Z'));
    // …and the hour the spring change shortens the day by is listed on Saturday only
    const [, springSaturday, springSunday] = spring.publisher.published;
    expect(listed(springSaturday)).toEqual(['shop-lost-hour']);
    expect(listed(springSunday)).toEqual([]);
    expect(springSunday?.decidedSince).toEqual(at('2025-03-29T07:00:00Z'));
  });

  it('posts a retry that runs after midnight for the day it was scheduled, and the next day its own', async () => {
    // Prepare: 16:00 in Los Angeles (PDT) is 23:00 UTC. Monday's run fails to post; the Scheduler
    // retries it at 00:30 UTC, on Tuesday by the clock.
    const { publisher, decide, run } = setup('2025-03-09T23:00:00Z');
    await run('2025-03-09T23:00:00Z');
    await decide('shop-monday', '2025-03-10T12:00:00Z');
    publisher.failTop = 1;
    const failed = await run('2025-03-10T23:00:00Z').catch((error: unknown) => error);
    await decide('shop-late-monday', '2025-03-10T23:20:00Z');

    // Act
    const retry = await run('2025-03-10T23:00:00Z', '2025-03-11T00:30:00Z');
    const repeat = await run('2025-03-10T23:00:00Z', '2025-03-11T00:45:00Z');
    const tuesday = await run('2025-03-11T23:00:00Z');

    // Assess
    expect(String(failed)).toContain('not_in_channel');
    expect([retry, repeat, tuesday]).toEqual(['posted', 'already-posted', 'posted']);
    expect(publisher.published.map((d) => d.day)).toEqual(['2025-03-09', '2025-03-10', '2025-03-11']);
    const [, monday, tuesdayDigest] = publisher.published;
    // Monday's window ends when it was scheduled, so what came after is Tuesday's
    expect(listed(monday)).toEqual(['shop-monday']);
    expect(tuesdayDigest?.decidedSince).toEqual(at('2025-03-10T23:00:00Z'));
    expect(listed(tuesdayDigest)).toEqual(['shop-late-monday']);
  });

  it('covers the 24 hours before the first digest ever, and records its window on its marker', async () => {
    // Prepare: decisions 30 and 2 hours before the first scheduled run
    const { publisher, markers, decide, run } = setup('2025-03-10T07:00:00Z');
    await decide('shop-older', '2025-03-09T01:00:00Z');
    await decide('shop-recent', '2025-03-10T05:00:00Z');

    // Act
    await run('2025-03-10T07:00:00Z', '2025-03-10T07:01:00Z');

    // Assess: it looked for an earlier digest in every day of audit trail it reads
    const [first] = publisher.published;
    expect(first?.decidedSince).toEqual(at('2025-03-09T07:00:00Z'));
    expect(listed(first)).toEqual(['shop-recent']);
    expect(markers.read).toHaveLength(68);
    expect(markers.read.at(-1)).toBe('2025-01-01');
    expect(markers.days.get('2025-03-10')?.covers).toEqual({
      day: '2025-03-10',
      since: at('2025-03-09T07:00:00Z'),
      until: at('2025-03-10T07:00:00Z'),
    });
  });

  it('covers the days whose digest never went out, and starts afresh after a digest older than the audit trail it reads', async () => {
    // Prepare: Tuesday's and Wednesday's runs ended in the dead-letter queue
    const { publisher, decide, run, markers } = setup('2025-03-10T07:00:00Z');
    await run('2025-03-10T07:00:00Z');
    await decide('shop-tuesday', '2025-03-11T09:00:00Z');
    await decide('shop-wednesday', '2025-03-12T09:00:00Z');

    // Act
    await run('2025-03-13T07:00:00Z');
    markers.days.clear();
    await run('2025-06-02T07:00:00Z');
    const lookedBack = markers.read.filter((day) => day < '2025-06-02' && day >= '2025-03-01');

    // Assess
    const [, thursday, june] = publisher.published;
    expect(listed(thursday)).toEqual(['shop-tuesday', 'shop-wednesday']);
    expect(thursday?.decidedSince).toEqual(at('2025-03-10T07:00:00Z'));
    expect(june?.decidedSince).toEqual(at('2025-06-01T07:00:00Z'));
    expect(lookedBack).toContain('2025-03-26');
  });
});

describe('which day a run is for and where its window ends', () => {
  it("takes the scheduled run's time, even when it runs after midnight", () => {
    // Act
    const retry = runOf(at('2025-03-11T00:30:00Z'), at('2025-03-10T23:00:00Z'));

    // Assess
    expect(retry).toEqual({ day: '2025-03-10', until: at('2025-03-10T23:00:00Z') });
  });

  it("takes the clock's without a scheduled time, and never ends a window after the clock", () => {
    // Act
    const manual = runOf(at('2025-03-11T15:00:00Z'));
    const early = runOf(at('2025-03-11T06:59:58Z'), at('2025-03-11T07:00:00Z'));

    // Assess
    expect(manual).toEqual({ day: '2025-03-11', until: at('2025-03-11T15:00:00Z') });
    expect(early).toEqual({ day: '2025-03-11', until: at('2025-03-11T06:59:58Z') });
  });

  it('starts a lease before the post of a digest recorded before windows were, so none is missed', () => {
    // Act
    const window = windowAfter({ postedAt: at('2025-03-07T07:00:30Z') }, '2025-03-10', at('2025-03-10T07:00:00Z'));

    // Assess
    expect(window.since).toEqual(new Date(at('2025-03-07T07:00:30Z').getTime() - DIGEST_LEASE_MS));
  });
});
