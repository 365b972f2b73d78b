import type { Clock, IdSource, Log, ReleaseStep, ReleaseStepStore, ReleaseStepView } from './ports.ts';
import type { ReleaseStore, Sleep } from './release-ports.ts';

/**
 * A release's progress message follows its pipelines after the release approved them
 * (docs/architecture.md, "The change's journey in its thread"): one line per pipeline with its
 * latest step, not one post per event. Each pipeline's step is kept with the release (an older step
 * never replaces a newer one), and the message is drawn from all of them.
 *
 * Events of many pipelines come at once, and Slack allows few updates of one message, so one
 * handler at a time draws (a lease on the steps' item), at most once per DRAW_INTERVAL_MS (it waits
 * out the rest of the interval since the last drawing). The holder gives the lease back, then looks
 * again: a step recorded before that look is drawn by it in another round; one recorded after finds
 * the lease free and is drawn by its own handler. So the message always ends at the latest steps.
 * The fan-out draws the message while it runs, so steps are drawn once the release has finished.
 * Best effort, as every progress redraw: a failure is logged and the journey goes on.
 */

export interface ReleaseJourneyDeps {
  releases: Pick<ReleaseStore, 'get'>;
  releaseSteps: ReleaseStepStore;
  releaseView: ReleaseStepView;
  sleep: Sleep;
  clock: Clock;
  ids: IdSource;
  log: Log;
}

/** At most one redraw of a release's message per this long (Slack: about one update per second per message). */
export const DRAW_INTERVAL_MS = 1_500;
/** Rounds one handler draws at most while others keep recording steps (well within its Lambda's minute). */
const MAX_ROUNDS = 10;

export async function showInRelease(
  deps: ReleaseJourneyDeps,
  releaseId: string,
  /** The release's name for the pipeline (core/release.ts itemKey). */
  key: string,
  step: ReleaseStep,
): Promise<void> {
  try {
    if ((await deps.releaseSteps.recordReleaseStep(releaseId, key, step)) === undefined) return;
    const run = await deps.releases.get(releaseId);
    if (!run?.message || run.state !== 'finished') return;
    const holder = deps.ids();
    let drawn = -1;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = deps.clock();
      const until = new Date(now.getTime() + DRAW_INTERVAL_MS * 4);
      if (!(await deps.releaseSteps.takeReleaseDraw(releaseId, holder, until, now))) return;
      let drawnAt: Date | undefined;
      try {
        const last = (await deps.releaseSteps.releaseSteps(releaseId)).drawnAt;
        const wait = last ? last.getTime() + DRAW_INTERVAL_MS - deps.clock().getTime() : 0;
        if (wait > 0) await deps.sleep(Math.min(wait, DRAW_INTERVAL_MS));
        const current = await deps.releaseSteps.releaseSteps(releaseId);
        if (current.version !== drawn) {
          await deps.releaseView.showSteps(run, current.steps);
          drawnAt = deps.clock();
          drawn = current.version;
        }
      } finally {
        await deps.releaseSteps.giveReleaseDrawBack(releaseId, holder, drawnAt);
      }
      if ((await deps.releaseSteps.releaseSteps(releaseId)).version === drawn) return;
    }
  } catch (error) {
    deps.log.warn('Could not show a pipeline’s step on its release’s progress message', {
      releaseId,
      pipeline: key,
      error,
    });
  }
}
