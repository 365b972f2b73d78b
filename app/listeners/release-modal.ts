import type { App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { ModalView } from '@slack/types';
import { refuseTamperedInput } from '../core/refuse-input.ts';
import { includedItems, planDigest, planExpired } from '../core/release.ts';
import { ids } from '../views/ids.ts';
import { releaseNotices } from '../views/release-help.ts';
import { releaseModalMetadata, releaseProblemModal, releaseStartedModal } from '../views/release-modal.ts';
import { slackActor } from './context.ts';
import type { ReleaseListenerDeps } from './release-context.ts';
import { releaseRefusal } from './release-rules.ts';

/**
 * Confirming the release modal: the stored plan (tokens pinned when it was shown) is confirmed
 * once, and its fan-out is queued. Only the person who asked can confirm; the modal then says where
 * to follow the release.
 */
export function register(app: App, deps: ReleaseListenerDeps): void {
  app.view<ViewSubmitAction>(ids.releaseModal, async (args: SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    const { body, view } = args;
    const answer = (modal: ModalView) => args.ack({ response_action: 'update', view: modal });
    const problem = (text: string) => answer(releaseProblemModal('Release', text));
    const now = deps.clock();

    const read = releaseModalMetadata.read(view.private_metadata);
    const state = read.ok ? read.value : undefined;
    const run = state ? await deps.releases.get(state.releaseId) : undefined;
    if (!state || !run || run.requestedBy.id !== body.user.id) {
      const detail = !state
        ? 'release modal: bad private_metadata'
        : !run
          ? `release modal: unknown release ${state.releaseId}`
          : `release modal: ${state.releaseId} belongs to someone else`;
      deps.log.warn('Refused a release confirmation', { user: body.user.id, detail });
      await refuseTamperedInput(deps, await slackActor(deps, body.user), detail);
      return problem(run ? releaseNotices.notYours : releaseNotices.unknownRelease);
    }
    if (planDigest(run) !== state.plan) {
      // The stored plan is not the one the person saw: never approve what nobody confirmed.
      deps.log.warn('Refused a release confirmation: the stored plan is not the one shown', {
        releaseId: run.releaseId,
        user: body.user.id,
      });
      return problem(releaseNotices.planChanged);
    }
    if (run.state === 'planned' && planExpired(run, now)) return problem(releaseNotices.planExpired);
    if (includedItems(run).length === 0) return args.ack();
    if (run.state === 'planned') {
      // A freeze may have begun since the plan was shown: the rules hold for the confirmation too.
      const refusal = await releaseRefusal(deps, run.product.name, run.env, body.user.id);
      if (refusal) return problem(refusal);
    }

    if (run.state !== 'finished') {
      await deps.releases.confirm(run.releaseId, now);
      try {
        // Queued again on a repeated confirmation too: the worker skips whatever is done.
        await deps.queue.send({ kind: 'release', releaseId: run.releaseId });
      } catch (error) {
        deps.log.error('Could not queue a confirmed release', { releaseId: run.releaseId, error });
        return problem(releaseNotices.enqueueFailed);
      }
      deps.log.info('Release confirmed', {
        releaseId: run.releaseId,
        product: run.product.name,
        env: run.env,
        user: body.user.id,
        approvals: includedItems(run).length,
      });
    }
    return answer(releaseStartedModal(run));
  });
}
