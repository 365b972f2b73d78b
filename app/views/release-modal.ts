import type { KnownBlock, ModalView } from '@slack/types';
import * as z from 'zod';
import {
  type Exclusion,
  type IncludedItem,
  includedItems,
  type PlanItem,
  planDigest,
  RELEASE_ID,
  type ReleasePlan,
} from '../core/release.ts';
import { type Parsed, parseJson } from '../parse-json.ts';
import { clip, duration, escapeMrkdwn } from './format.ts';
import { ids } from './ids.ts';
import { BLOCK_KIT } from './limits.ts';
import { packLines, pipelineNamer, revisionText } from './release-lines.ts';

/** What the confirmation modal remembers (Slack keeps it): the release's id, never a token. */
export interface ReleaseModalState {
  releaseId: string;
  /** planDigest of the plan shown: a confirmation of any other plan is refused. */
  plan: string;
}

const metadataSchema = z.object({ releaseId: z.string().regex(RELEASE_ID), plan: z.string().min(1).max(40) }).strict();

/**
 * The confirmation modal's private_metadata: written with the plan shown, read back by the
 * listener on confirmation. Anything that does not read was not made by Greenlight.
 */
export const releaseModalMetadata = {
  write: (state: ReleaseModalState): string => JSON.stringify(state),
  read: (raw: string | undefined): Parsed<ReleaseModalState> => parseJson(metadataSchema, raw),
};

/** Modals hold at most 100 blocks; the intro and headings take a few. */
const MODAL_BLOCKS = BLOCK_KIT.modalBlocks;

const title = (text: string) => ({ type: 'plain_text' as const, text: clip(text, BLOCK_KIT.modalTitle) });
const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(text, BLOCK_KIT.text) },
});

/** Shown at once, while the pipelines are read (the trigger_id is good for 3 s only). */
export function releaseLoadingModal(product: string, env: string): ModalView {
  return {
    type: 'modal',
    title: title(`Release ${product}`),
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(
        `:hourglass_flowing_sand: Reading the pipelines of *${escapeMrkdwn(product)}* to see what waits for *${escapeMrkdwn(env)}*…`,
      ),
    ],
  };
}

/**
 * The confirmation: every pipeline of the product, with the approval that will be given or why it
 * is left out. Confirming approves exactly these approvals.
 */
export function releasePlanModal(plan: ReleasePlan, now: Date): ModalView {
  const included = includedItems(plan);
  const excluded = plan.items.filter((item): item is ExcludedItem => item.kind === 'exclude');
  const product = escapeMrkdwn(plan.product.displayName);
  const where = `*${escapeMrkdwn(plan.stageName)}*${plan.actionName ? ` › ${escapeMrkdwn(plan.actionName)}` : ''}`;
  const state: ReleaseModalState = { releaseId: plan.releaseId, plan: planDigest(plan) };
  const base = {
    type: 'modal' as const,
    callback_id: ids.releaseModal,
    private_metadata: releaseModalMetadata.write(state),
    title: title(`Release ${plan.product.displayName}`),
    close: { type: 'plain_text' as const, text: 'Cancel' },
  };

  if (plan.items.length === 0) {
    return {
      ...base,
      blocks: [section(`*${product}* has no pipelines: none is named \`${escapeMrkdwn(plan.product.name)}-…\`.`)],
    };
  }
  const intro =
    included.length === 0
      ? `Nothing to release: no pipeline of *${product}* waits for approval in ${where} (env *${escapeMrkdwn(plan.env)}*).`
      : `Approves ${where} (env *${escapeMrkdwn(plan.env)}*) in *${included.length}* of the ${plan.items.length} pipelines of *${product}*, as you. ` +
        'Exactly the revisions below: a newer one that arrives meanwhile is not approved. Nothing is rejected.' +
        (plan.votesRequired
          ? `\n:ballot_box_with_ballot: Each change needs *${plan.votesRequired} approvals from different people*: this counts as yours, and each waits in its message for ${plan.votesRequired - 1} more.`
          : '');

  const blocks: KnownBlock[] = [section(intro)];
  const nameOf = pipelineNamer(plan);
  const budget = MODAL_BLOCKS - blocks.length - 2;
  const includedBudget = excluded.length === 0 ? budget : Math.max(1, Math.ceil(budget * 0.7));
  // Slack documents no limit on a modal's text in all (msg_blocks_too_long is a message's): blocks only.
  if (included.length > 0)
    blocks.push(
      ...packLines(
        included.map((item) => includedLine(item, now, nameOf)),
        { blocks: includedBudget, chars: Number.POSITIVE_INFINITY },
        { heading: `*Will be approved (${included.length})*` },
      ),
    );
  if (excluded.length > 0)
    blocks.push(
      ...packLines(
        excluded.map((item) => excludedLine(item, nameOf)),
        { blocks: MODAL_BLOCKS - blocks.length - 1, chars: Number.POSITIVE_INFINITY },
        { heading: `*Not included (${excluded.length})*` },
      ),
    );
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Release \`${escapeMrkdwn(plan.releaseId)}\` · read ${duration(now.getTime() - plan.createdAt.getTime())} ago`,
      },
    ],
  });
  return included.length === 0
    ? { ...base, blocks }
    : {
        ...base,
        submit: { type: 'plain_text', text: clip(`Approve ${included.length}`, BLOCK_KIT.modalTitle) },
        blocks,
      };
}

type ExcludedItem = Extract<PlanItem, { kind: 'exclude' }>;

type NameOf = (item: PlanItem) => string;

function includedLine(item: IncludedItem, now: Date, nameOf: NameOf): string {
  const { approval } = item;
  const waiting = approval.waitingSince
    ? ` · waiting ${duration(now.getTime() - approval.waitingSince.getTime())}`
    : '';
  return `:large_green_circle: *${escapeMrkdwn(nameOf(item))}* · ${revisionText(approval.revision)}${waiting}`;
}

const exclusionIcon: Record<Exclusion['kind'], string> = {
  'nothing-pending': ':white_circle:',
  'other-state': ':large_yellow_circle:',
  'not-found': ':grey_question:',
  unreadable: ':warning:',
};

const exclusionLabel: Record<Exclusion['kind'], string> = {
  'nothing-pending': 'nothing pending',
  'other-state': 'in another state',
  'not-found': 'not found',
  unreadable: 'could not be read',
};

export function excludedLine(item: ExcludedItem, nameOf: NameOf): string {
  const { exclusion } = item;
  return `${exclusionIcon[exclusion.kind]} *${escapeMrkdwn(nameOf(item))}* — ${exclusionLabel[exclusion.kind]}: ${escapeMrkdwn(exclusion.detail)}`;
}

/** After confirmation: where to follow the release. */
export function releaseStartedModal(plan: ReleasePlan): ModalView {
  const count = includedItems(plan).length;
  return {
    type: 'modal',
    title: title(`Release ${plan.product.displayName}`),
    close: { type: 'plain_text', text: 'Done' },
    blocks: [
      section(
        `:rocket: Releasing *${escapeMrkdwn(plan.product.displayName)}* to *${escapeMrkdwn(plan.env)}*: ${count} approval${count === 1 ? '' : 's'}. ` +
          `Follow it in <#${plan.channel}>.`,
      ),
    ],
  };
}

/** Something stopped the release before it started; says what, and what to do. */
export function releaseProblemModal(heading: string, text: string): ModalView {
  return {
    type: 'modal',
    title: title(heading),
    close: { type: 'plain_text', text: 'Close' },
    blocks: [section(text)],
  };
}
