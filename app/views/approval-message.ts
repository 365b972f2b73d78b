import type { Button, KnownBlock } from '@slack/types';
import * as z from 'zod';
import { type ApprovalRecord, describe, type Outcome } from '../core/approval.ts';
import { readableIdentity } from '../core/iam-identity.ts';
import { type Parsed, parseJson } from '../parse-json.ts';
import { autoApproveText, reviewBlocks } from './change-set-lines.ts';
import { actorText, clip, escapeMrkdwn, link, relative, shownAt, slackDate } from './format.ts';
import { ids } from './ids.ts';
import { BLOCK_KIT } from './limits.ts';
import { approversSuffix, freezeOf, frozenText, votesText } from './policy-lines.ts';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** An approval id as approvalIdFor makes it (22 base64url characters), with room to spare. */
export const approvalIdSchema = z.string().regex(/^[A-Za-z0-9_-]{10,64}$/);

/** Strict: a value with anything more than the id was not made by Greenlight. */
const buttonSchema = z.object({ approvalId: approvalIdSchema, rules: z.string().max(100).optional() }).strict();

/**
 * What the Approve and Reject buttons carry back: the approval's id, nothing secret. Written here
 * and read by the listener that handles the click, so the two sides of the contract cannot drift.
 */
export const approvalButton = {
  /** `rules`: the key of the approval rules it was posted under, so a click knows them before any read. */
  write: (approvalId: string, rules?: string): string => JSON.stringify(rules ? { approvalId, rules } : { approvalId }),
  /** A value that does not read was not made by Greenlight (a forged or stale click). */
  read: (raw: string | undefined): Parsed<z.infer<typeof buttonSchema>> => parseJson(buttonSchema, raw),
};

/**
 * The approval message in every state: waiting (with buttons), being decided, and each ending.
 * `now` decides whether a still-pending approval has expired and how far away expiry is.
 */
export function approvalMessage(record: ApprovalRecord, now: Date): SlackMessage {
  const { request } = record;
  const expired = record.status === 'pending' && request.expiresAt.getTime() <= now.getTime();
  const state = record.outcome ? outcomeLine(record.outcome) : record.claim ? decidingLine(record) : undefined;

  const review = reviewBlocks(request.id, request.review);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: clip(`${headIcon(record, expired)} ${request.pipelineName} › ${request.stageName}`, BLOCK_KIT.header),
      },
    },
    // What could hurt comes first: replacements, removals, grants (views/change-set-lines.ts).
    ...review.top,
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Pipeline*\n${link(request.consoleLink, request.pipelineName)}` },
        {
          type: 'mrkdwn',
          text: `*Stage › action*\n${escapeMrkdwn(request.stageName)} › ${escapeMrkdwn(request.actionName)}`,
        },
        // In another account (PRODUCTS `account`): which one, since two accounts may both have a shop-cart.
        request.account
          ? {
              type: 'mrkdwn',
              text: `*Account · region*\n${escapeMrkdwn(request.account)} · ${escapeMrkdwn(request.region)}`,
            }
          : { type: 'mrkdwn', text: `*Region*\n${escapeMrkdwn(request.region)}` },
        { type: 'mrkdwn', text: expiryText(record, expired, now) },
      ],
    },
    ...review.revision,
  ];
  if (request.customData) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`>${escapeMrkdwn(request.customData).replace(/\n/g, '\n>')}`, BLOCK_KIT.text),
      },
    });
  }
  const links = [
    request.externalEntityLink ? link(request.externalEntityLink, 'What to review') : undefined,
    // Not the review link: it ends in the approval token, which never goes to Slack.
    link(request.consoleLink, 'Open in the AWS console'),
  ].filter(Boolean);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(links.join('  ·  '), BLOCK_KIT.text) }] });

  if (state) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(state, BLOCK_KIT.text) } });
  else if (request.unreadable)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          `:warning: *Greenlight could not read all of this request* (${request.unreadable.map(escapeMrkdwn).join(', ')}), so it cannot be decided here. ${link(request.consoleLink, 'Decide it in the AWS console')}.`,
          BLOCK_KIT.text,
        ),
      },
    });
  else if (expired)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: ':hourglass: *Expired* — CodePipeline no longer accepts a decision.' },
    });
  else {
    const freeze = freezeOf(record, now);
    const votes = votesText(record);
    // During a freeze the message says so instead of offering Approve (docs/policy.md).
    const standing = [freeze ? `*${frozenText(freeze)}*` : undefined, votes, autoApproveText(record, now)]
      .filter(Boolean)
      .join('\n');
    if (standing) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(standing, BLOCK_KIT.text) } });
    blocks.push({ type: 'actions', block_id: 'decision', elements: decisionButtons(record, freeze !== undefined) });
  }

  return { text: fallbackText(record, expired), blocks };
}

/**
 * When it expires, and how far away. An approval CodePipeline called expired says so even when its
 * expiry has not come by this clock (a shorter action timeout, or the sandbox's clock moved ahead):
 * never "in 7 days" above "Expired". One that ended otherwise says when it closed instead: an expiry
 * that can no longer come is not news.
 */
function expiryText(record: ApprovalRecord, expired: boolean, now: Date): string {
  const { outcome } = record;
  if (outcome && outcome.kind !== 'expired') return `*Closed*\n${slackDate(shownAt(outcome))}`;
  const at = slackDate(record.request.expiresAt);
  if (!expired && !outcome) return `*Expires*\n${at} (${relative(record.request.expiresAt, now)})`;
  return record.request.expiresAt.getTime() <= now.getTime()
    ? `*Expired*\n${at} (${relative(record.request.expiresAt, now)})`
    : `*Expired*\n${slackDate(outcome?.at ?? now)}`;
}

function decisionButtons(record: ApprovalRecord, frozen: boolean): Button[] {
  const value = approvalButton.write(record.request.id, record.request.policy?.key);
  const reject: Button = {
    type: 'button',
    action_id: ids.reject,
    style: 'danger',
    text: { type: 'plain_text', text: 'Reject…' },
    value,
  };
  if (frozen)
    return record.request.policy?.breakGlass.length
      ? [
          { type: 'button', action_id: ids.breakGlass, text: { type: 'plain_text', text: 'Break glass…' }, value },
          reject,
        ]
      : [reject];
  return [
    {
      type: 'button',
      action_id: ids.approve,
      style: 'primary',
      text: { type: 'plain_text', text: 'Approve' },
      value,
      confirm: {
        title: { type: 'plain_text', text: 'Approve this change?' },
        text: {
          type: 'mrkdwn',
          text: clip(
            `It lets the revision in *${escapeMrkdwn(describe(record.request))}* go on to the next stage.`,
            300,
          ),
        },
        confirm: { type: 'plain_text', text: 'Approve' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    },
    reject,
  ];
}

function headIcon(record: ApprovalRecord, expired: boolean): string {
  if (expired) return '⌛';
  if (record.request.unreadable && !record.outcome) return '⚠️';
  switch (record.outcome?.kind) {
    case undefined:
      return record.claim ? '⏳' : '🟡';
    case 'approved':
      return '✅';
    case 'rejected':
      return '❌';
    case 'expired':
      return '⌛';
    case 'decided-elsewhere':
      return record.outcome.verdict === 'approve' ? '✅' : record.outcome.verdict === 'reject' ? '❌' : '⚪';
    case 'stopped':
      return '⏹️';
    default:
      return '⚪';
  }
}

function decidingLine(record: ApprovalRecord): string {
  const claim = record.claim;
  if (!claim) return '';
  const verb = claim.verdict === 'approve' ? 'approving' : 'rejecting';
  return `:hourglass_flowing_sand: ${actorText(claim.actor)} is ${verb} this…`;
}

export function outcomeLine(outcome: Outcome): string {
  const when = slackDate(shownAt(outcome));
  switch (outcome.kind) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${actorText(outcome.decision.actor)}${approversSuffix(outcome.decision)} ${when}${reasonText(outcome.decision.reason)}`;
    case 'rejected':
      return `:x: *Rejected* by ${actorText(outcome.decision.actor)} ${when}${reasonText(outcome.decision.reason)}`;
    case 'expired':
      return `:hourglass: *Expired* — CodePipeline no longer accepts a decision (it timed out or was answered already). Noticed ${when}.`;
    case 'decided-elsewhere':
      return decidedElsewhereLine(outcome, when);
    case 'stopped':
      return stoppedLine(outcome, when);
    case 'gone':
      return `:wastebasket: *The ${outcome.what} no longer exists*, so there is nothing to decide. Noticed ${when}.`;
  }
}

/** Decided in the console or CLI: the verdict and who gave it, as CodePipeline keeps them (when it was read). */
function decidedElsewhereLine(outcome: Extract<Outcome, { kind: 'decided-elsewhere' }>, when: string): string {
  if (!outcome.verdict) return `:leftwards_arrow_with_hook: *Decided outside Slack* (console or CLI). Noticed ${when}.`;
  const verdict =
    outcome.verdict === 'approve' ? ':white_check_mark: *Approved outside Slack*' : ':x: *Rejected outside Slack*';
  const by = outcome.by ? ` by ${escapeMrkdwn(readableIdentity(outcome.by))}` : '';
  return `${verdict}${by}, in the console or CLI. Noticed ${when}.${reasonText(outcome.summary)}`;
}

function stoppedLine(outcome: Extract<Outcome, { kind: 'stopped' }>, when: string): string {
  switch (outcome.why) {
    case 'stopped':
      return `:black_square_for_stop: *Stopped* — the pipeline execution was stopped in CodePipeline, so this approval ended without a decision. Noticed ${when}.`;
    case 'cancelled':
      return `:black_square_for_stop: *Cancelled* — the pipeline was updated while this approval waited, so it ended without a decision. Noticed ${when}.`;
    case 'replaced':
      return `:black_square_for_stop: *No longer waiting* — CodePipeline moved on from this approval without a decision Greenlight saw. Noticed ${when}.`;
  }
}

const reasonText = (reason: string | undefined) => (reason ? `\n>${escapeMrkdwn(reason).replace(/\n/g, '\n>')}` : '');

function fallbackText(record: ApprovalRecord, expired: boolean): string {
  const what = `${record.request.pipelineName} › ${record.request.stageName}`;
  if (record.outcome) return `${what}: ${record.outcome.kind.replace('-', ' ')}`;
  if (expired) return `${what}: expired`;
  return `Approval needed: ${what}`;
}
