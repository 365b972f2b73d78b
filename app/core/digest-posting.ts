import type { MessageRef } from './approval.ts';
import { buildDigest, type DigestDeps, dayOf } from './digest.ts';
import { GreenlightError } from './errors.ts';
import type { DigestMarkers, DigestPublisher, IdSource } from './ports.ts';

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
      log.error('The digest is posted but its thread is incomplete', { day, message: posted, error });
      return 'posted';
    }
    await markers.release(day, holder).catch((releaseError: unknown) => {
      log.warn('Could not give the digest lease back; a retry waits for it to run out', { day, releaseError });
    });
    throw error;
  }
  log.info('Daily digest posted', { day, message: posted });
  return 'posted';
}
