import type { App, RespondArguments, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ModalView } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { withCorrelation } from '../adapters/powertools-log.ts';
import { modalGone } from '../adapters/slack-error-code.ts';
import { accountProblem } from '../core/errors.ts';
import { productPolicies } from '../core/policy.ts';
import { discoverProducts, ownValue, resolveProduct } from '../core/products.ts';
import { newReleaseId } from '../core/release.ts';
import { placesOf, planReleaseFor, productPlacesOf } from '../core/release-plan.ts';
import { boardIn, findProduct, findProductIn, findTargetIn } from '../core/release-target.ts';
import { productRulesText } from '../views/policy-text.ts';
import { productBoardMessage } from '../views/product-board.ts';
import { releaseNotices } from '../views/release-help.ts';
import { releaseLoadingModal, releasePlanModal, releaseProblemModal } from '../views/release-modal.ts';
import { slackActor } from './context.ts';
import { handleDigestCommand } from './digest-command.ts';
import { type AnswerBy, COMMAND_DEADLINES, type ReleaseListenerDeps, timeToRead, within } from './release-context.ts';
import { releaseRefusal } from './release-rules.ts';

type CommandArgs = SlackCommandMiddlewareArgs & { client: WebClient };

const ephemeral = (text: string): RespondArguments => ({ response_type: 'ephemeral', text });

/** What a product or env name can be (CodePipeline's name characters); anything else is a typo. */
const NAME = /^[a-z0-9.@_-]{1,100}$/;

/** Boards of more pipelines than this are read by the release worker, not within the command's 3 s. */
const INLINE_BOARD_PIPELINES = 5;

/**
 * `/release`: help, a product's board, the digest preview, and releasing a product to an env.
 * Slack waits 3 s for the answer, and on Lambda Bolt answers only when the listener is done: reads
 * get deadlines (COMMAND_DEADLINES), small products are read right here, and the rest is handed to
 * the release worker, which fills in the modal (or answers through the response_url) when ready.
 */
export function register(app: App, deps: ReleaseListenerDeps): void {
  app.command('/release', async (args) => {
    const answerBy = deps.clock().getTime() + COMMAND_DEADLINES.answerMs;
    let acked = false;
    const ack = async (answer?: RespondArguments) => {
      acked = true;
      await args.ack(answer);
    };
    try {
      await route(deps, args as CommandArgs, ack, answerBy);
    } catch (error) {
      deps.log.error('/release failed', { user: args.command.user_id, text: args.command.text, error });
      if (!acked) await ack(ephemeral(releaseNotices.failed));
      else await args.respond(ephemeral(releaseNotices.failed)).catch(() => {});
    }
  });
}

type Ack = (answer?: RespondArguments) => Promise<void>;

async function route(deps: ReleaseListenerDeps, args: CommandArgs, ack: Ack, answerBy: AnswerBy): Promise<void> {
  const text = args.command.text.trim();
  const words = text.split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words.map((word) => word.toLowerCase());
  if (!first || first === 'help') return ack(ephemeral(releaseNotices.help(await productNames(deps))));
  if (first === 'digest' && !second) return handleDigestCommand(deps, args, ack, answerBy);
  if (!second || rest.length > 0 || !NAME.test(first) || !NAME.test(second)) {
    logRefusedInput(deps, args, 'not /release <product> <env>');
    return ack(ephemeral(releaseNotices.usage(text)));
  }
  if (second === 'status') return status(deps, args, ack, first);
  if (second === 'policy') {
    const policies = productPolicies(first, deps.config.products);
    return ack(
      ephemeral(productRulesText(resolveProduct(first, deps.config.products).displayName, policies, deps.clock())),
    );
  }
  return release(deps, args, ack, { name: first, env: second, answerBy });
}

/** A command Greenlight could not act on: the person is told why; the log says who typed what. */
function logRefusedInput(deps: ReleaseListenerDeps, { command }: CommandArgs, reason: string): void {
  deps.log.info('Refused /release input', {
    user: command.user_id,
    channel: command.channel_id,
    // What was typed, clipped: a line in the log, not a place to keep whatever someone pasted.
    text: command.text.slice(0, 200),
    reason,
  });
}

/** The products there are, for help; the configured ones when CodePipeline is slow to list them. */
async function productNames(deps: ReleaseListenerDeps): Promise<string[]> {
  const configured = Object.keys(deps.config.products);
  try {
    const listed = await within(COMMAND_DEADLINES.discoveryMs, deps.reader.listPipelines(''));
    if (!listed.done) return configured;
    return discoverProducts(listed.value, deps.config.products).map((product) => product.name);
  } catch (error) {
    deps.log.warn('Could not list products for /release help', { error });
    return configured;
  }
}

async function status(deps: ReleaseListenerDeps, args: CommandArgs, ack: Ack, name: string): Promise<void> {
  try {
    return await statusIn(deps, args, ack, name);
  } catch (error) {
    // An account the product lives in could not be reached: the answer names it.
    const problem = accountProblem(error);
    if (!problem) throw error;
    return ack(ephemeral(problem));
  }
}

async function statusIn(deps: ReleaseListenerDeps, args: CommandArgs, ack: Ack, name: string): Promise<void> {
  const { queue } = deps;
  // Every account and region the product's pipelines live in (PRODUCTS `account`, `region`, `targets`).
  const places = await productPlacesOf(deps, name);
  const toWorker = async (answer: string, product = name) => {
    await queue.send({ kind: 'board', product, responseUrl: args.command.response_url });
    return ack(ephemeral(answer));
  };
  const lookup = await within(COMMAND_DEADLINES.discoveryMs, findProductIn(places, deps.config.products, name));
  if (!lookup.done) return toWorker(releaseNotices.boardReading(name));
  const found = lookup.value;
  if (!found.ok) {
    logRefusedInput(deps, args, 'unknown product');
    return ack(ephemeral(releaseNotices.unknownProduct(found.name, found.known)));
  }
  if (found.pipelines.length > INLINE_BOARD_PIPELINES)
    return toWorker(releaseNotices.boardQueued(found.product, found.pipelines.length), found.product.name);
  const board = await within(COMMAND_DEADLINES.boardMs, boardIn(found));
  if (!board.done)
    return toWorker(releaseNotices.boardQueued(found.product, found.pipelines.length), found.product.name);
  return ack({ response_type: 'ephemeral', ...productBoardMessage(board.value, deps.clock()) });
}

async function release(
  deps: ReleaseListenerDeps,
  args: CommandArgs,
  ack: Ack,
  { name, env, answerBy }: { name: string; env: string; answerBy: AnswerBy },
): Promise<void> {
  const { command, client } = args;
  // A product named only by its pipelines (`shop-*`) exists if they do: told at once, in a message
  // as a wrong env is, unless CodePipeline is slow to list them (then the modal below says it).
  if (!ownValue(deps.config.products, name)) {
    const lookup = await within(COMMAND_DEADLINES.discoveryMs, findProduct(deps.reader, deps.config.products, name));
    if (lookup.done && !lookup.value.ok) {
      logRefusedInput(deps, args, 'unknown product');
      return ack(ephemeral(releaseNotices.unknownProduct(lookup.value.name, lookup.value.known)));
    }
  }
  // Envs come from configuration and conventions: a wrong one is told at once, without reading anything.
  const named = resolveProduct(name, deps.config.products);
  if (!ownValue(named.envs, env)) {
    logRefusedInput(deps, args, 'unknown env');
    return ack(ephemeral(releaseNotices.unknownEnv(named, env, Object.keys(named.envs))));
  }
  // The approval rules (docs/policy.md): told at once, before anything is read or planned.
  const refusal = await releaseRefusal(deps, name, env, command.user_id);
  if (refusal) return ack(ephemeral(refusal));

  // The trigger_id is good for 3 s: the modal opens before anything else, showing that the
  // pipelines are being read.
  let loading: { id: string; hash?: string } | undefined;
  try {
    const opened = await client.views.open({
      trigger_id: command.trigger_id,
      view: releaseLoadingModal(named.displayName, env),
    });
    if (opened.view?.id) loading = { id: opened.view.id, ...(opened.view.hash ? { hash: opened.view.hash } : {}) };
  } catch (error) {
    deps.log.warn('Could not open the release modal', { user: command.user_id, error });
  }
  if (!loading) return ack(ephemeral(releaseNotices.modalFailed));
  await ack();
  // From here on the command is about one release: every line logged carries its id.
  const releaseId = newReleaseId(deps.ids);
  return withCorrelation({ releaseId }, () =>
    planInModal(deps, args, { name, named, env, answerBy }, loading, releaseId),
  );
}

/**
 * Plans the release into the loading modal: inline for a small product whose pipelines are read
 * in time for the command's answer, by the release worker otherwise. Both plan under the same
 * release id, and the plan saved first is the one shown and confirmed (core/release-plan.ts).
 */
async function planInModal(
  deps: ReleaseListenerDeps,
  { command, client }: CommandArgs,
  {
    name,
    named,
    env,
    answerBy,
  }: { name: string; named: ReturnType<typeof resolveProduct>; env: string; answerBy: AnswerBy },
  view: { id: string; hash?: string },
  releaseId: string,
): Promise<void> {
  const { settings, queue } = deps;
  const requestedBy = await slackActor(deps, {
    id: command.user_id,
    name: command.user_name,
    team_id: command.team_id,
  });
  // With the loading modal's hash: Slack refuses to draw over a modal that changed since.
  const update = (modal: ModalView) =>
    client.views.update({ view_id: view.id, ...(view.hash ? { hash: view.hash } : {}), view: modal });
  try {
    // The env's accounts and regions (PRODUCTS `account`, `region`, `targets`): looked up and planned there.
    const places = await placesOf(deps, name, env);
    const lookup = await within(COMMAND_DEADLINES.discoveryMs, findTargetIn(places, deps.config.products, name, env));
    const found = lookup.done ? lookup.value : undefined;
    if (found && !found.ok) {
      await update(releaseProblemModal('Release', releaseNotices.targetProblem(found)));
      return;
    }
    const inline =
      found && found.pipelines.length <= settings.inlinePipelines
        ? await within(
            timeToRead(deps.clock, answerBy),
            planReleaseFor(deps, found, { releaseId, requestedBy, source: 'slack' }),
          )
        : undefined;
    if (!inline?.done) {
      if (inline) deps.log.info('Could not plan the release within the command; the worker plans it', { releaseId });
      await queue.send({
        kind: 'plan',
        releaseId,
        product: named.name,
        env,
        viewId: view.id,
        ...(view.hash ? { viewHash: view.hash } : {}),
        requestedBy: {
          id: requestedBy.id,
          name: requestedBy.name,
          ...(requestedBy.teamId ? { teamId: requestedBy.teamId } : {}),
        },
      });
      return;
    }
    await update(releasePlanModal(inline.value, deps.clock()));
  } catch (error) {
    // The person closed the modal (Cancel) while it was being planned: nothing to show.
    if (modalGone(error)) {
      deps.log.info('The release modal was closed before its plan was shown', { releaseId });
      return;
    }
    deps.log.error('Could not plan the release', { releaseId, product: name, env, error });
    // An account that could not be reached is named: the person can tell the admins which.
    const problem = accountProblem(error) ?? releaseNotices.failed;
    await client.views.update({ view_id: view.id, view: releaseProblemModal('Release', problem) }).catch(() => {});
  }
}
