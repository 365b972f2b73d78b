import type { KnownBlock, ModalView } from '@slack/types';
import * as z from 'zod';
import type { ApprovalRecord } from '../core/approval.ts';
import { autoApproveVerdict } from '../core/auto-approve.ts';
import { type ChangeSetReview, plural, type ResourceChangeLine } from '../core/change-set.ts';
import { type RevisionReview, shortRevision } from '../core/revision.ts';
import type { ApprovalReview } from '../core/revision-review.ts';
import { type Parsed, parseJson } from '../parse-json.ts';
import { clip, escapeMrkdwn, link } from './format.ts';
import { ids } from './ids.ts';
import { BLOCK_KIT } from './limits.ts';

/*
 * What an approval asks people to approve (docs/what-am-i-approving.md), as the approval message and
 * the "Show all changes" modal show it. The dangerous part comes first: replacements (red), then
 * possible replacements, removals and grants, each naming at most NAMED resources; the rest is in
 * the modal.
 */

/** Resources named per line in the message; the modal names them all. */
export const NAMED = 8;

/** The button that opens every change of the change set (app/listeners/change-set-modal.ts reads it back). */
export const changesButton = {
  write: (approvalId: string): string => JSON.stringify({ approvalId }),
  read: (raw: string | undefined): Parsed<{ approvalId: string }> => parseJson(changesButtonSchema, raw),
};

/** Strict, as the decision buttons' value: anything more than an approval id was not made here. */
const changesButtonSchema = z.object({ approvalId: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/) }).strict();

const resource = (line: ResourceChangeLine) => `*${escapeMrkdwn(line.logicalId)}* (${escapeMrkdwn(line.type)})`;

/** Characters of names per line: four warning lines stay well within one section's 3,000 however long the ids. */
const NAMES_TEXT = 600;

function names(lines: readonly ResourceChangeLine[], total: number): string {
  const named: string[] = [];
  let length = 0;
  for (const line of lines.slice(0, NAMED)) {
    const text = resource(line);
    // The first is always named (clipped), so a warning never names nobody.
    if (named.length > 0 && length + text.length > NAMES_TEXT) break;
    named.push(named.length === 0 ? clip(text, NAMES_TEXT) : text);
    length += text.length + 2;
  }
  const more = total - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
}

const where = (review: ChangeSetReview) =>
  review.changeSetName
    ? `change set \`${escapeMrkdwn(review.changeSetName)}\` of stack \`${escapeMrkdwn(review.stackName)}\``
    : 'the change set';

/** The CloudFormation console's list of the stack's change sets (the names are all Greenlight keeps). */
export const stackConsoleLink = (review: ChangeSetReview): string =>
  `https://${review.region}.console.aws.amazon.com/cloudformation/home?region=${encodeURIComponent(review.region)}#/stacks?filteringText=${encodeURIComponent(review.stackName)}`;

/** The warning lines at the top of the message, most dangerous first; none for a change set without danger. */
export function changeSetWarnings(review: ChangeSetReview): string[] {
  if (review.kind !== 'read') return [];
  const { changes, counts } = review;
  const lines: string[] = [];
  const replaced = changes.filter((line) => line.replacement === 'True');
  if (counts.replace > 0)
    lines.push(
      `:red_circle: :warning: *${plural(counts.replace, 'resource')} will be replaced:* ${names(replaced, counts.replace)}`,
    );
  const maybe = changes.filter((line) => line.replacement === 'Conditional');
  if (counts.mayReplace > 0)
    lines.push(
      `:large_orange_circle: *${plural(counts.mayReplace, 'resource')} may be replaced* (depends on values known at deploy time): ${names(maybe, counts.mayReplace)}`,
    );
  const removed = changes.filter((line) => line.action === 'Remove');
  if (counts.remove > 0)
    lines.push(
      `:wastebasket: *${plural(counts.remove, 'resource')} will be removed:* ${names(removed, counts.remove)}`,
    );
  const grants = changes.filter((line) => line.iam);
  if (counts.iam > 0)
    lines.push(
      `:closed_lock_with_key: *${plural(counts.iam, 'change')} to IAM or a resource policy* (may widen access): ${names(grants, counts.iam)}`,
    );
  return lines;
}

/** One line on the change set: what it holds, or why it could not be read. */
export function changeSetSummary(review: ChangeSetReview): string {
  const what = where(review);
  switch (review.kind) {
    case 'read': {
      const { counts } = review;
      const other = counts.other > 0 ? ` · ${counts.other} import or dynamic` : '';
      const named = `\`${escapeMrkdwn(review.changeSetName)}\` of stack \`${escapeMrkdwn(review.stackName)}\``;
      return `*Change set* ${named}: ${counts.add} to add · ${counts.modify} to modify · ${counts.remove} to remove${other}`;
    }
    case 'empty':
      return `:information_source: *No changes:* CloudFormation found nothing to deploy in ${what} (it FAILED with "no changes").`;
    case 'missing':
      return `:grey_question: *Change set not found:* ${what} does not exist (deleted, or not created under that name). Look in ${link(stackConsoleLink(review), 'the CloudFormation console')} before approving.`;
    case 'denied':
      return `:no_entry: *Greenlight may not read* ${what} (AccessDenied). Review it in ${link(stackConsoleLink(review), 'the CloudFormation console')}.`;
    case 'failed':
      return `:x: *The change set FAILED:* ${what}${review.reason ? ` — ${escapeMrkdwn(clip(review.reason, 300))}` : ''}.`;
    case 'pending':
      return `:hourglass_flowing_sand: ${what} is still being created (${escapeMrkdwn(review.status)}); its changes were not known when this was posted.`;
    case 'unreadable':
      return `:grey_question: *Greenlight could not read the change set:* ${escapeMrkdwn(review.why)}.`;
  }
}

/** The revision line: which commit, and how far it is from production. */
export function revisionText(revision: RevisionReview): string {
  if (revision.kind === 'unknown') return `*Revision* not known: ${escapeMrkdwn(revision.why)}.`;
  const { revision: source, production } = revision;
  const id = `\`${escapeMrkdwn(shortRevision(source.revisionId))}\``;
  const commit = source.url ? link(source.url, shortRevision(source.revisionId)) : id;
  const head = `*Revision* ${commit}${source.message ? ` ${escapeMrkdwn(clip(source.message, 200))}` : ''}`;
  switch (production.kind) {
    case 'same':
      return `${head}\nProduction runs this revision already.`;
    case 'none':
      return `${head}\nNothing has reached production (${escapeMrkdwn(production.stageName)}) yet.`;
    case 'unknown':
      return `${head}\nWhat production runs is not known: ${escapeMrkdwn(production.why)}.`;
    case 'behind': {
      const base = `\`${escapeMrkdwn(shortRevision(production.revisionId))}\``;
      const compare = production.compareUrl ? ` · ${link(production.compareUrl, 'compare')}` : '';
      return production.count === undefined
        ? `${head}\nProduction runs ${base}; how many revisions lie between is not known${compare}.`
        : `${head}\n*${plural(production.count, 'revision')} since production* (${base})${compare}`;
    }
  }
}

/**
 * The blocks the review adds to the message: `top` goes right under the header (the warnings and
 * the change set line, with "Show all changes" when the message names fewer than all), `revision`
 * after the details.
 */
export function reviewBlocks(
  approvalId: string,
  review: ApprovalReview | undefined,
): { top: KnownBlock[]; revision: KnownBlock[] } {
  if (!review) return { top: [], revision: [] };
  const top: KnownBlock[] = [];
  if (review.unread)
    top.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':grey_question: *Greenlight could not read in time what this approval changes* (revision, change set). Look in the AWS console before approving.',
      },
    });
  const changeSet = review.changeSet;
  if (changeSet) {
    const warnings = changeSetWarnings(changeSet);
    if (warnings.length > 0)
      top.push({ type: 'section', text: { type: 'mrkdwn', text: clip(warnings.join('\n'), BLOCK_KIT.text) } });
    const summary: KnownBlock = {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(changeSetSummary(changeSet), BLOCK_KIT.text) },
    };
    if (changeSet.kind === 'read' && changeSet.total > 0)
      summary.accessory = {
        type: 'button',
        action_id: ids.showChanges,
        text: { type: 'plain_text', text: 'Show all changes' },
        value: changesButton.write(approvalId),
      };
    top.push(summary);
  }
  const revision: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(revisionText(review.revision), BLOCK_KIT.text) } },
  ];
  return { top, revision };
}

/**
 * Why Greenlight's policy left an approval to people, where the env opts into auto-approve
 * (core/auto-approve.ts): the same verdict the policy acted on.
 */
export function autoApproveText(record: ApprovalRecord, now: Date): string | undefined {
  const verdict = autoApproveVerdict(record.request, now);
  if (!verdict || verdict.approve) return undefined;
  return `:robot_face: *Auto-approve declined:* ${escapeMrkdwn(verdict.reason)}. A person decides.`;
}

const changeLine = (line: ResourceChangeLine): string => {
  const mark =
    line.replacement === 'True'
      ? ':red_circle: replace'
      : line.replacement === 'Conditional'
        ? ':large_orange_circle: may replace'
        : line.action === 'Remove'
          ? ':wastebasket: remove'
          : line.action === 'Add'
            ? ':heavy_plus_sign: add'
            : line.action === 'Modify'
              ? ':pencil2: modify'
              : escapeMrkdwn(line.action.toLowerCase());
  return `${mark} ${resource(line)}${line.iam ? ' :closed_lock_with_key:' : ''}`;
};

/**
 * Every change Greenlight keeps of the change set, most dangerous first, in sections of at most
 * 3,000 characters and within a modal's 100 blocks; what does not fit is counted, with the console.
 */
export function changeSetModal(record: ApprovalRecord): ModalView {
  const review = record.request.review?.changeSet;
  const blocks: KnownBlock[] = [];
  if (review?.kind !== 'read') {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: review ? clip(changeSetSummary(review), BLOCK_KIT.text) : 'No change set.' },
    });
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(changeSetSummary(review), BLOCK_KIT.text) } });
    const chunks: string[][] = [];
    let chunk: string[] = [];
    let length = 0;
    for (const line of review.changes) {
      const next = changeLine(line);
      if (chunk.length > 0 && length + next.length + 1 > BLOCK_KIT.text) {
        chunks.push(chunk);
        chunk = [];
        length = 0;
      }
      chunk.push(next);
      length += next.length + 1;
    }
    if (chunk.length > 0) chunks.push(chunk);
    // Room for the summary above and the count of the rest below.
    const kept = chunks.slice(0, BLOCK_KIT.modalBlocks - 2);
    for (const lines of kept) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
    const shown = kept.reduce((sum, lines) => sum + lines.length, 0);
    const rest = review.total - shown;
    if (rest > 0)
      blocks.push({
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `…and ${rest} more: see ${link(stackConsoleLink(review), 'the CloudFormation console')}.`,
          },
        ],
      });
  }
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'All changes' },
    close: { type: 'plain_text', text: 'Close' },
    blocks,
  };
}
