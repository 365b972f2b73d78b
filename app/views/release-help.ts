import type { Product } from '../core/products.ts';
import type { TargetLookup } from '../core/release-target.ts';
import { escapeMrkdwn } from './format.ts';

/**
 * Names as a list of at most LIST_CHARS characters, then how many more: the answer is shown whole,
 * as a message's text or in a modal's section (3000 characters), however many products there are.
 */
const LIST_CHARS = 2000;

function list(names: readonly string[]): string {
  if (names.length === 0) return 'none yet';
  const shown: string[] = [];
  let length = 0;
  for (const name of names) {
    const item = `\`${escapeMrkdwn(name)}\``;
    if (length + item.length + 2 > LIST_CHARS) break;
    shown.push(item);
    length += item.length + 2;
  }
  const hidden = names.length - shown.length;
  return hidden > 0 ? `${shown.join(', ')} and ${hidden} more` : shown.join(', ');
}

/** Plain-words answers to `/release`, shown only to the person who typed it. */
export const releaseNotices = {
  help(products: readonly string[] = []): string {
    return [
      '*`/release`* approves the same stage in every pipeline of a product at once, after you confirm what it will approve.',
      '• `/release <product> <env>` — e.g. `/release shop prod`: lists every pipeline of the product with the approval it will give (or why not), then approves exactly those when you confirm. It never rejects anything: reject a change on its own message.',
      '• `/release <product> status` — where each revision of the product is, stage by stage (only you see it).',
      '• `/release <product> policy` — who may approve each env, how many, and when it is frozen (only you see it).',
      '• `/release digest` — a preview of the daily digest.',
      '• `/release help` — this.',
      `Products: ${list(products)}. A product is the pipelines named \`<product>-<service>\`; env \`qa\` approves \`StagingDEV\`, env \`prod\` approves \`StagingQA\`, unless \`PRODUCTS\` says otherwise.`,
    ].join('\n');
  },
  usage(text: string): string {
    return `I did not understand \`/release ${escapeMrkdwn(text)}\`. Try \`/release <product> <env>\`, \`/release <product> status\` or \`/release help\`.`;
  },
  unknownProduct(name: string, known: readonly string[]): string {
    return `There is no product \`${escapeMrkdwn(name)}\`. Products: ${list(known)}.`;
  },
  unknownEnv(product: Product, env: string, envs: readonly string[]): string {
    return `*${escapeMrkdwn(product.displayName)}* has no env \`${escapeMrkdwn(env)}\`. Envs: ${list(envs)}.`;
  },
  /** Why a product's env cannot be released: the product or the env is unknown. */
  targetProblem(found: Exclude<TargetLookup, { ok: true }>): string {
    return found.problem === 'unknown-product'
      ? this.unknownProduct(found.name, found.known)
      : this.unknownEnv(found.product, found.env, found.envs);
  },
  boardQueued(product: Product, pipelines: number): string {
    return `Reading the ${pipelines} pipelines of *${escapeMrkdwn(product.displayName)}*; the board follows here in a moment.`;
  },
  /** CodePipeline was slow to list the pipelines: the worker reads the board. */
  boardReading(product: string): string {
    return `Reading the board of \`${escapeMrkdwn(product)}\`; it follows here in a moment.`;
  },
  digestQueued(pipelines?: number): string {
    const what = pipelines === undefined ? 'the pipelines' : `${pipelines} pipelines`;
    return `Reading ${what} for the digest preview; it follows here in a moment.`;
  },
  modalFailed:
    'Slack did not let me open the release confirmation (it took too long). Nothing was changed: please try again.',
  failed:
    'Something went wrong on our side and nothing was changed. Please try again; if it keeps failing, tell your Greenlight admins.',
  planExpired:
    'This list is more than 15 minutes old, so it may no longer be what waits. Nothing was approved: run `/release` again.',
  notYours: 'Only the person who asked for this release can confirm it. Nothing was approved.',
  unknownRelease: 'Greenlight does not know this release. Nothing was approved: run `/release` again.',
  planChanged: 'The plan changed since this list was shown. Nothing was approved: run `/release` again.',
  enqueueFailed: 'The release could not be started just now. Nothing was approved: run `/release` again in a moment.',
} as const;
