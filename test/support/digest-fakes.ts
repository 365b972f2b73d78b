import type { MessageRef } from '../../app/core/approval.ts';
import type { Digest, DigestWindow } from '../../app/core/digest.ts';
import type { DigestMarkers, DigestPublisher, PostedDigest } from '../../app/core/digest-posting.ts';

interface Marker {
  holder?: string;
  until?: Date;
  message?: MessageRef;
  postedAt?: Date;
  covers?: DigestWindow;
}

/** Markers with the DynamoDB adapter's conditional semantics, in memory. */
export class MemoryMarkers implements DigestMarkers {
  readonly days = new Map<string, Marker>();
  readonly log: string[] = [];
  /** Days asked for with `posted`, in order. */
  readonly read: string[] = [];

  async lease(day: string, holder: string, until: Date, now: Date): Promise<'leased' | 'posted' | 'busy'> {
    const marker = this.days.get(day) ?? {};
    if (marker.message) return 'posted';
    if (marker.until && marker.until.getTime() >= now.getTime()) return 'busy';
    this.days.set(day, { holder, until });
    return 'leased';
  }

  async recordPosted(day: string, message: MessageRef, at: Date, window: DigestWindow): Promise<void> {
    this.log.push(`recorded ${message.ts}`);
    const marker = this.days.get(day) ?? {};
    if (!marker.message) this.days.set(day, { message, postedAt: at, covers: window });
  }

  async posted(day: string): Promise<PostedDigest | undefined> {
    this.read.push(day);
    const marker = this.days.get(day);
    if (!marker?.message || !marker.postedAt) return undefined;
    return { postedAt: marker.postedAt, ...(marker.covers ? { coversUntil: marker.covers.until } : {}) };
  }

  async giveBack(day: string, holder: string): Promise<void> {
    const marker = this.days.get(day);
    if (marker && !marker.message && marker.holder === holder) this.days.set(day, {});
  }
}

/** Slack as the core sees it: the top message, then replies; fails where told to. */
export class FakePublisher implements DigestPublisher {
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
