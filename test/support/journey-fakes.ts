import type { ApprovalRecord } from '../../app/core/approval.ts';
import type {
  JourneyLink,
  JourneyStepPost,
  JourneyStore,
  ReleaseStep,
  ReleaseStepStore,
  ReminderPost,
  ThreadNotifier,
  ThreadPost,
} from '../../app/core/ports.ts';

/**
 * JourneyStore in memory, with DynamoApprovalStore's rules: the first link of an execution and
 * stage stands; a post is taken when free, after its holder's lease ran out, or by its own holder.
 */
export class MemoryJourneyStore implements JourneyStore, ReleaseStepStore {
  readonly #links = new Map<string, JourneyLink>();
  readonly #releases = new Map<
    string,
    { steps: Record<string, ReleaseStep>; version: number; drawnAt?: Date; lease?: { holder: string; until: Date } }
  >();
  readonly #posts = new Map<string, { state: 'posting' | 'posted'; holder: string; until?: Date }>();

  async linkJourney(link: JourneyLink): Promise<void> {
    const key = `${link.pipelineName}#${link.executionId}#${link.stageName}`;
    if (!this.#links.has(key)) this.#links.set(key, structuredClone(link));
  }

  async journeysOf(pipelineName: string, executionId: string): Promise<JourneyLink[]> {
    return [...this.#links.values()].filter((l) => l.pipelineName === pipelineName && l.executionId === executionId);
  }

  async takePost(post: ThreadPost, holder: string, until: Date, now: Date): Promise<boolean> {
    const key = JSON.stringify(post);
    const held = this.#posts.get(key);
    if (held && (held.state === 'posted' || (held.holder !== holder && (held.until?.getTime() ?? 0) >= now.getTime())))
      return false;
    this.#posts.set(key, { state: 'posting', holder, until });
    return true;
  }

  async postDone(post: ThreadPost, holder: string): Promise<void> {
    const key = JSON.stringify(post);
    if (this.#posts.get(key)?.holder === holder) this.#posts.set(key, { state: 'posted', holder });
  }

  async givePostBack(post: ThreadPost, holder: string): Promise<void> {
    const key = JSON.stringify(post);
    const held = this.#posts.get(key);
    if (held?.holder === holder && held.state === 'posting') this.#posts.delete(key);
  }

  async recordReleaseStep(releaseId: string, pipelineName: string, step: ReleaseStep): Promise<number | undefined> {
    await Promise.resolve();
    const release = this.#releases.get(releaseId) ?? { steps: {}, version: 0 };
    this.#releases.set(releaseId, release);
    const known = release.steps[pipelineName];
    if (known && known.rank >= step.rank) return undefined;
    release.steps[pipelineName] = structuredClone(step);
    release.version += 1;
    return release.version;
  }

  async releaseSteps(releaseId: string) {
    await Promise.resolve();
    const release = this.#releases.get(releaseId);
    return {
      steps: structuredClone(release?.steps ?? {}),
      version: release?.version ?? 0,
      ...(release?.drawnAt ? { drawnAt: release.drawnAt } : {}),
    };
  }

  async takeReleaseDraw(releaseId: string, holder: string, until: Date, now: Date): Promise<boolean> {
    await Promise.resolve();
    const release = this.#releases.get(releaseId);
    if (!release) return false;
    const lease = release.lease;
    if (lease && lease.holder !== holder && lease.until.getTime() >= now.getTime()) return false;
    release.lease = { holder, until };
    return true;
  }

  async giveReleaseDrawBack(releaseId: string, holder: string, drawnAt?: Date): Promise<void> {
    await Promise.resolve();
    const release = this.#releases.get(releaseId);
    if (release?.lease?.holder !== holder) return;
    delete release.lease;
    if (drawnAt) release.drawnAt = drawnAt;
  }
}

/** Thread posts as the Slack notifier would make them, kept in order. */
export class FakeThreads implements ThreadNotifier {
  readonly steps: Array<{ approvalId: string; step: JourneyStepPost }> = [];
  readonly reminders: Array<{ approvalId: string; reminder: ReminderPost }> = [];

  async journeyStep(record: ApprovalRecord, step: JourneyStepPost): Promise<void> {
    this.steps.push({ approvalId: record.request.id, step });
  }

  async reminder(record: ApprovalRecord, reminder: ReminderPost): Promise<void> {
    this.reminders.push({ approvalId: record.request.id, reminder });
  }
}
