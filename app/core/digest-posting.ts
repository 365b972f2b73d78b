import type { MessageRef } from './approval.ts';
import { dayOf } from './audit.ts';
import { buildDigest, type Digest, type DigestDeps } from './digest.ts';
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
  /** Records where the digest was posted; the first record stands. */
  recordPosted(day: string, message: MessageRef, at: Date): Promise<void>;
  /** Gives back a lease whose run posted nothing, so a retry need not wait for it to run out. */
  giveBack(day: string, holder: string): Promise<void>;
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

/**
 * Posts the day's digest once, however often the schedule fires. A conditional write on the
 * `DIGEST#<day>` marker decides which run posts; a run that fails before posting gives the lease
 * back, and a run that dies holding it blocks the day only until the lease runs out, so a retry
 * posts. The marker records the post before any thread reply goes out.
 */
export async function postDailyDigest(deps: PostDigestDeps): Promise<PostDigestResult> {
  const { digestMarkers: markers, clock, log } = deps;
  const now = clock();
  const day = dayOf(now);
  const holder = deps.ids();
  const lease = await markers.lease(day, holder, new Date(now.getTime() + DIGEST_LEASE_MS), now);
  if (lease === 'posted') {
    log.info('The digest of this day is out already; not posting again', { day });
    return 'already-posted';
  }
  if (lease === 'busy') throw new DigestBusyError(day);

  let posted: MessageRef | undefined;
  try {
    const digest = await buildDigest(deps, now);
    await deps.digestPublisher.publish(digest, async (message) => {
      posted = message;
      await markers.recordPosted(day, message, clock());
    });
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
  log.info('Daily digest posted', { day, post: posted });
  return 'posted';
}
