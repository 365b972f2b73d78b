import type { App, RespondArguments, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { newReleaseId, planAndSave } from '../adapters/release-services.ts';
import { productBoard } from '../core/product-board.ts';
import { discoverProducts } from '../core/products.ts';
import { findProduct, findTarget } from '../core/release-target.ts';
import type { Deps } from '../deps.ts';
import { productBoardMessage } from '../views/product-board.ts';
import { releaseNotices } from '../views/release-help.ts';
import { releaseLoadingModal, releasePlanModal, releaseProblemModal } from '../views/release-modal.ts';
import { slackActor } from './context.ts';
import { handleDigestCommand } from './digest-command.ts';

type CommandArgs = SlackCommandMiddlewareArgs & { client: WebClient };

const ephemeral = (text: string): RespondArguments => ({ response_type: 'ephemeral', text });

/**
 * `/release`: help, a product's board, the digest preview, and releasing a product to an env.
 * Slack waits 3 s for the answer, and on Lambda Bolt answers only when the listener is done: small
 * products are read right here; bigger ones are handed to the release worker, which fills in the
 * modal (or answers through the response_url) when it is ready.
 */
export function register(app: App, deps: Deps): void {
  app.command('/release', async (args) => {
    let acked = false;
    const ack = async (answer?: RespondArguments) => {
      acked = true;
      await args.ack(answer);
    };
    try {
      await route(deps, args as CommandArgs, ack);
    } catch (error) {
      deps.log.error('/release failed', { user: args.command.user_id, text: args.command.text, error });
      if (!acked) await ack(ephemeral(releaseNotices.failed));
      else await args.respond(ephemeral(releaseNotices.failed)).catch(() => {});
    }
  });
}

type Ack = (answer?: RespondArguments) => Promise<void>;

async function route(deps: Deps, args: CommandArgs, ack: Ack): Promise<void> {
  const text = args.command.text.trim();
  const words = text.split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words.map((word) => word.toLowerCase());
  if (!first || first === 'help') return ack(ephemeral(releaseNotices.help(await productNames(deps))));
  if (first === 'digest' && !second) {
    await ack();
    return handleDigestCommand(deps, args.respond);
  }
  if (!second || rest.length > 0) return ack(ephemeral(releaseNotices.usage(text)));
  if (second === 'status') return status(deps, args, ack, first);
  return release(deps, args, ack, first, second);
}

async function productNames(deps: Deps): Promise<string[]> {
  try {
    const pipelines = await deps.releases.reader.listPipelines('');
    return discoverProducts(pipelines, deps.config.products).map((product) => product.name);
  } catch (error) {
    deps.log.warn('Could not list products for /release help', { error });
    return Object.keys(deps.config.products);
  }
}

async function status(deps: Deps, args: CommandArgs, ack: Ack, name: string): Promise<void> {
  const { reader, settings, queue } = deps.releases;
  const found = await findProduct(reader, deps.config.products, name);
  if (!found.ok) return ack(ephemeral(releaseNotices.unknownProduct(found.name, found.known)));
  if (found.pipelines.length > settings.inlinePipelines) {
    await queue.send({ kind: 'board', product: found.product.name, responseUrl: args.command.response_url });
    return ack(ephemeral(releaseNotices.boardQueued(found.product, found.pipelines.length)));
  }
  const board = await productBoard(reader, found.product, { pipelines: found.pipelines });
  return ack({ response_type: 'ephemeral', ...productBoardMessage(board, deps.clock()) });
}

async function release(deps: Deps, args: CommandArgs, ack: Ack, name: string, env: string): Promise<void> {
  const { command, client } = args;
  const { reader, settings, queue } = deps.releases;
  const found = await findTarget(reader, deps.config.products, name, env);
  if (!found.ok) {
    const text =
      found.problem === 'unknown-product'
        ? releaseNotices.unknownProduct(found.name, found.known)
        : releaseNotices.unknownEnv(found.product, found.env, found.envs);
    return ack(ephemeral(text));
  }

  // The trigger_id is good for 3 s: the modal opens first, showing that the pipelines are being read.
  let viewId: string | undefined;
  try {
    const opened = await client.views.open({
      trigger_id: command.trigger_id,
      view: releaseLoadingModal(found.product.displayName, found.env),
    });
    viewId = opened.view?.id;
  } catch (error) {
    deps.log.warn('Could not open the release modal', { user: command.user_id, error });
  }
  if (!viewId) return ack(ephemeral(releaseNotices.modalFailed));
  await ack();

  const releaseId = newReleaseId(deps.ids);
  const requestedBy = await slackActor(deps, {
    id: command.user_id,
    name: command.user_name,
    team_id: command.team_id,
  });
  try {
    if (found.pipelines.length > settings.inlinePipelines) {
      await queue.send({
        kind: 'plan',
        releaseId,
        product: found.product.name,
        env: found.env,
        viewId,
        requestedBy: {
          id: requestedBy.id,
          name: requestedBy.name,
          ...(requestedBy.teamId ? { teamId: requestedBy.teamId } : {}),
        },
      });
      return;
    }
    const plan = await planAndSave(deps, found, { releaseId, requestedBy, source: 'slack' });
    await client.views.update({ view_id: viewId, view: releasePlanModal(plan, deps.clock()) });
  } catch (error) {
    deps.log.error('Could not plan the release', { releaseId, product: found.product.name, env: found.env, error });
    await client.views
      .update({ view_id: viewId, view: releaseProblemModal('Release', releaseNotices.failed) })
      .catch(() => {});
  }
}
