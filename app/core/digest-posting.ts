import type { MessageRef } from './approval.ts';
import { dayOf } from './audit.ts';
import { DAY_MS } from './delivery-metrics.ts';
import { AUDIT_DAYS, buildDigest, type Digest, type DigestDeps, type DigestWindow, lastDayWindow } from './digest.ts';
import { GreenlightError } from './errors.ts';
import type { IdSource } from './ports.ts';

/*
 * The digest's ports live with the use case that posts it: ports.ts holds the ports the digest
 * itself reads through, and a port there naming the Digest would tie the two modules in a circle.
 */

/** The daily digest's once-a-day marker (`DIGEST#<day>`): a lease to post it, then where it was posted. */
export interface DigestMarkers {
  /**
   * Takes the right to post `day`'s digest until `until`: `posted` when it is out already, `busy`
   * while another run holds an unexpired lease.
   */
  lease(day: string, holder: string, until: Date, now: Date): Promise<'leased' | 'posted' | 'busy'>;
  /** Records where the digest was posted and the window it covered; the first record stands. */
  recordPosted(day: string, message: MessageRef, at: Date, window: DigestWindow): Promise<void>;
  /** Gives back a lease whose run posted nothing, so a retry need not wait for it to run out. */
  giveBack(day: string, holder: string): Promise<void>;
  /** `day`'s digest, when it was posted (a lease alone is not a digest). */
  posted(day: string): Promise<PostedDigest | undefined>;
}

/** A digest that went out, as its marker remembers it. */
export interface PostedDigest {
  postedAt: Date;
  /** The end of the window it covered; absent on markers recorded before windows were. */
  coversUntil?: Date;
}

/** Shows the digest to people (Slack). Rendering is the adapter's business. */
export interface DigestPublisher {
  /**
   * Posts the digest and, when it is long, the rest in its thread. `posted` is awaited as soon as
   * the top message is out, before any reply.
   */
  publish(digest: Digest, posted: (message: MessageRef) => Promise<void>): Promise<MessageRef>;
}

export interface PostDigestDeps extends DigestDeps {
  digestMarkers: DigestMarkers;
  digestPublisher: DigestPublisher;
  ids: IdSource;
}

/**
 * How long one run may take to post before another may try. Longer than the digest Lambda's
 * timeout (two minutes), so a run still alive never shares the day with a second one.
 */
export const DIGEST_LEASE_MS = 150_000;

/** Another run holds the day's lease and has not posted yet: try again later (Lambda retries). */
export class DigestBusyError extends GreenlightError {
  override name = 'DigestBusyError';
  constructor(readonly day: string) {
    super(`Another run is posting the digest of ${day}`);
  }
}

export type PostDigestResult = 'posted' | 'already-posted';

/** Markers read at once while looking back for the previous digest: a weekend and more in one go. */
const LOOKBACK_CONCURRENCY = 7;

/**
 * Which day a run posts for and where its window ends. A scheduled run's are those of the time it
 * was scheduled for, the same on every retry of it however late, so a retry after midnight posts
 * the day it was meant for; other runs (a manual invoke, the sandbox) take the clock's. The window
 * never ends after the clock: outcomes not yet read would fall between two digests.
 */
export function runOf(now: Date, scheduledAt?: Date): { day: string; until: Date } {
  const at = scheduledAt ?? now;
  return { day: dayOf(at), until: at.getTime() < now.getTime() ? at : now };
}

/**
 * The window of `day`'s digest, ending at `until`: it starts where the previous digest's ended,
 * so no outcome is listed twice or left out, across weekends, holidays, daylight saving time
 * changes, late runs and days whose digest never went out. With no digest posted in the AUDIT_DAYS
 * days before (the first digest ever, or after a long pause), the 24 hours before `until`.
 */
export function windowAfter(previous: PostedDigest | undefined, day: string, until: Date): DigestWindow {
  if (!previous) return lastDayWindow(until, day);
  // A marker recorded before windows were has only its post's time. That run read the audit trail
  // when it began, less than a lease before it posted (its Lambda times out first): starting a
  // lease before the post lists a few minutes twice rather than miss any.
  const end = previous.coversUntil ?? new Date(previous.postedAt.getTime() - DIGEST_LEASE_MS);
  return { day, since: end.getTime() < until.getTime() ? end : until, until };
}

/** The latest digest posted in the AUDIT_DAYS days before `day`: GetItems, a week of days at a time. */
async function previousDigest(markers: Pick<DigestMarkers, 'posted'>, day: string): Promise<PostedDigest | undefined> {
  const start = Date.parse(`${day}T00:00:00Z`);
  for (let back = 1; back <= AUDIT_DAYS; back += LOOKBACK_CONCURRENCY) {
    const days = Array.from({ length: Math.min(LOOKBACK_CONCURRENCY, AUDIT_DAYS - back + 1) }, (_, i) =>
      dayOf(new Date(start - (back + i) * DAY_MS)),
    );
    const found = (await Promise.all(days.map((d) => markers.posted(d)))).find((posted) => posted !== undefined);
    if (found) return found;
  }
  return undefined;
}

/**
 * The digest as the next one would list it if it posted now (`/release digest`): what was decided
 * since the latest digest's window ended (today's, when it is out), up to now. Nothing is written.
 */
export async function previewDigest(
  deps: DigestDeps & { digestMarkers: Pick<DigestMarkers, 'posted'> },
  now: Date,
): Promise<Digest> {
  const today = dayOf(now);
  // Looked for while CodePipeline is read: the command has 3 s, and a long pause between digests
  // takes a few rounds of lookups.
  const window = (async () =>
    windowAfter(
      (await deps.digestMarkers.posted(today)) ?? (await previousDigest(deps.digestMarkers, today)),
      today,
      now,
    ))();
  return buildDigest(deps, now, window);
}

/**
 * Posts the day's digest once, however often the schedule fires. A conditional write on the
 * `DIGEST#<day>` marker decides which run posts; a run that fails before posting gives the lease
 * back, and a run that dies holding it blocks the day only until the lease runs out, so a retry
 * posts. The marker records the post, with the window it covered, before any thread reply goes out.
 * `scheduledAt` is the time the schedule meant the run for (runOf); the digest lists what was
 * decided since the previous digest's window ended (windowAfter).
 */
export async function postDailyDigest(deps: PostDigestDeps, scheduledAt?: Date): Promise<PostDigestResult> {
  const { digestMarkers: markers, clock, log } = deps;
  const now = clock();
  const { day, until } = runOf(now, scheduledAt);
  const holder = deps.ids();
  const lease = await markers.lease(day, holder, new Date(now.getTime() + DIGEST_LEASE_MS), now);
  if (lease === 'posted') {
    log.info('The digest of this day is out already; not posting again', { day });
    return 'already-posted';
  }
  if (lease === 'busy') throw new DigestBusyError(day);

  let posted: MessageRef | undefined;
  try {
    const window = windowAfter(await previousDigest(markers, day), day, until);
    const digest = await buildDigest(deps, now, window);
    await deps.digestPublisher.publish(digest, async (message) => {
      posted = message;
      await markers.recordPosted(day, message, clock(), window);
    });
    log.info('Daily digest posted', { day, post: posted, since: window.since, until: window.until });
  } catch (error) {
    // Replies that failed after the top message are not retried: a retry would post the day twice.
    if (posted) {
      log.error('The digest is posted but its thread is incomplete', { day, post: posted, error });
      return 'posted';
    }
    await markers.giveBack(day, holder).catch((giveBackError: unknown) => {
      log.warn('Could not give the digest lease back; a retry waits for it to run out', { day, giveBackError });
    });
    throw error;
  }
  return 'posted';
}
