import type { KnownBlock, SectionBlock } from '@slack/types';
import type { DeliveryMetrics, MetricsComparison } from '../core/delivery-metrics.ts';
import {
  type AccountPlace,
  type DecidedApproval,
  type Digest,
  isQuiet,
  type ProductDigest,
  type WaitingApproval,
} from '../core/digest.ts';
import { readableIdentity } from '../core/iam-identity.ts';
import type { SlackMessage } from './approval-message.ts';
import { actorText, clip, duration, escapeMrkdwn, link, relative, slackDate } from './format.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from './limits.ts';
import { Pages } from './pages.ts';
import { freezeDigestText } from './policy-text.ts';
import { BOARD_LEGEND, boardLine } from './product-board.ts';

export { BLOCK_KIT } from './limits.ts';

/** How much of each list the top message shows at most; the rest goes to its thread. */
export const SHOWN_ON_TOP = { waiting: 8, decided: 8, products: 4, services: 6 } as const;

type Shown = { -readonly [K in keyof typeof SHOWN_ON_TOP]: number };

/** The fewest the top message shows of each list before it stops fitting itself by showing fewer. */
const FEWEST_ON_TOP: Shown = { waiting: 3, decided: 3, products: 1, services: 2 };

export interface DigestMessages {
  /** The message in the channel. */
  top: SlackMessage;
  /** Replies in its thread, in order: the rest of every list that did not fit on top. */
  replies: SlackMessage[];
}

/** Permalinks of approval messages, by approval id (the adapter asks Slack for them). */
export type Permalinks = ReadonlyMap<string, string>;

/**
 * The digest as Slack messages: a top message holding the head of each list, and thread replies
 * holding the rest, each within Block Kit's limits and TEXT_BUDGET characters of text in all.
 * Lists run on from one reply to the next, however many services a product has.
 */
export function digestMessages(digest: Digest, permalinks: Permalinks = new Map()): DigestMessages {
  return compose(digest, permalinks, { blocks: 0, chars: 0 });
}

/** The top message as a preview shown only to one person: the same, saying what the thread would hold. */
export function digestPreview(digest: Digest, permalinks: Permalinks = new Map()): SlackMessage {
  const { top } = compose(digest, permalinks, PREVIEW_NOTE);
  // The thread as the channel would get it (the preview's top may show a little less, to make room for its note).
  const { replies } = digestMessages(digest, permalinks);
  const more =
    replies.length > 0
      ? ` In the channel, ${count(replies.length, 'reply', 'replies')} in its thread ${replies.length === 1 ? 'holds' : 'hold'} the rest.`
      : '';
  return { text: top.text, blocks: [...top.blocks, context(`:eyes: A preview only you can see.${more}`)] };
}

/** Room the preview keeps for its note: one context block of a short sentence. */
const PREVIEW_NOTE = { blocks: 1, chars: 200 } as const;

/** A piece of the thread: a block as it is, or a titled list that may run on over several replies. */
type ThreadPart = { block: KnownBlock } | { title: string; lines: string[]; continued?: string };

/**
 * Draws the top message with as much of each list as SHOWN_ON_TOP allows, then fewer (services,
 * decisions, waiting approvals and products in turn) until it fits the room left after `reserve`;
 * what still does not fit moves to the thread, saying so. Then lays the thread out in replies.
 */
function compose(digest: Digest, permalinks: Permalinks, reserve: { blocks: number; chars: number }): DigestMessages {
  const room = { blocks: BLOCK_KIT.blocks - reserve.blocks, chars: TEXT_BUDGET - reserve.chars };
  const fits = (blocks: KnownBlock[]) => blocks.length <= room.blocks && textLength(blocks) <= room.chars;
  const shown: Shown = { ...SHOWN_ON_TOP };
  let drawn = draw(digest, permalinks, shown);
  const turns: Array<keyof Shown> = ['services', 'decided', 'waiting', 'products'];
  while (!fits(drawn.blocks)) {
    const key = turns.find((candidate) => shown[candidate] > FEWEST_ON_TOP[candidate]);
    if (key === undefined) break;
    shown[key] -= 1;
    turns.push(...turns.splice(turns.indexOf(key), 1));
    drawn = draw(digest, permalinks, shown);
  }
  const { blocks, thread } = drawn;
  // Lines as long as a text may be: the last blocks go to the thread, whole.
  if (!fits(blocks)) {
    const continued = context('…continued in the thread.');
    const moved: KnownBlock[] = [];
    while (blocks.length > 1 && !fits([...blocks, continued])) moved.unshift(blocks.pop() as KnownBlock);
    thread.unshift(...moved.map((block) => ({ block })));
    blocks.push(continued);
  }

  const pages = new Pages();
  for (const part of thread) {
    if ('block' in part) pages.block(part.block);
    else pages.list(part.title, part.lines, part.continued);
  }
  const replies = pages.messages().map((replyBlocks, i, all) => ({
    text: `Daily digest ${digest.day}, continued (${i + 1}/${all.length})`,
    blocks: replyBlocks,
  }));
  return { top: { text: fallback(digest), blocks }, replies };
}

function draw(digest: Digest, permalinks: Permalinks, shown: Shown): { blocks: KnownBlock[]; thread: ThreadPart[] } {
  const thread: ThreadPart[] = [];
  const blocks: KnownBlock[] = [header(digest)];

  if (isQuiet(digest)) {
    blocks.push(
      section(
        `:white_check_mark: *All clear.* Nothing waits for approval and nothing was decided since ${since(digest)}.`,
      ),
    );
    if (digest.products.length > 0) {
      blocks.push(
        context(`Boards and delivery metrics of ${count(digest.products.length, 'product')} are in the thread.`),
      );
      thread.push(...boardParts(digest.products, digest.now), ...metricsParts(digest.products, digest.now));
    }
  } else {
    blocks.push(context(summary(digest)));
    blocks.push(
      ...list(
        `:hourglass_flowing_sand: *Waiting for approval* (${digest.waiting.length})`,
        digest.waiting.map((a) => waitingLine(a, digest.now, permalinks)),
        shown.waiting,
        thread,
      ),
    );
    blocks.push(
      ...list(
        `:ballot_box_with_check: *Decided since ${since(digest)}* (${digest.decided.length})`,
        digest.decided.map((d) => decidedLine(d, digest.now)),
        shown.decided,
        thread,
      ),
    );
    blocks.push(...productSections(digest.products, digest.now, shown, thread));
  }
  // The freezes in force and the week's, so nobody plans a release into one (docs/policy.md).
  const freezes = freezeDigestText(digest.freezes ?? [], digest.now);
  if (freezes) blocks.push(context(freezes));
  const notes = footnotes(digest);
  if (notes) blocks.push(context(notes));
  return { blocks, thread };
}

// The top message

function header(digest: Digest): KnownBlock {
  const day = new Date(`${digest.day}T00:00:00Z`).toLocaleDateString('en-GB', {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
  });
  return {
    type: 'header',
    text: { type: 'plain_text', text: clip(`Greenlight daily digest · ${day}`, BLOCK_KIT.header) },
  };
}

function summary(digest: Digest): string {
  const soon = digest.waiting.filter((a) => a.expiresSoon).length;
  const deployments = digest.products.reduce((sum, p) => sum + p.week.current.deployments, 0);
  return [
    `*${digest.waiting.length}* waiting${soon > 0 ? ` (:warning: ${soon} expire${soon === 1 ? 's' : ''} within 24 h)` : ''}`,
    `*${digest.decided.length}* decided since ${since(digest)}`,
    `*${deployments}* deployment${deployments === 1 ? '' : 's'} to production in 7 days`,
  ].join('  ·  ');
}

function fallback(digest: Digest): string {
  if (isQuiet(digest)) return `Daily digest ${digest.day}: all clear`;
  return `Daily digest ${digest.day}: ${digest.waiting.length} waiting for approval, ${digest.decided.length} decided since ${utcText(digest.decidedSince)}`;
}

/**
 * Where the decisions start, the previous digest's end ("Friday, March 7th, 2025 at 08:00",
 * "yesterday at 08:00"), as Slack shows a date: in each reader's time zone, with the UTC time where
 * it cannot. The digest's own time zone is the schedule's (infra), which the app is not told.
 */
const since = (digest: Digest) => slackDate(digest.decidedSince, '{date_long_pretty} at {time}');

/** Plain text (notifications) cannot show a reader's time zone: the UTC time, as slackDate's fallback. */
const utcText = (date: Date) => `${date.toISOString().replace('T', ' ').slice(0, 16)} UTC`;

function footnotes(digest: Digest): string | undefined {
  const notes: string[] = [];
  if (digest.outdated > 0)
    notes.push(
      `${count(digest.outdated, 'approval message')} no longer ${digest.outdated === 1 ? 'matches' : 'match'} CodePipeline (answered in the console, expired or superseded).`,
    );
  if (digest.unreadable.length > 0)
    notes.push(
      `:warning: CodePipeline did not answer for ${names(digest.unreadable)}: ${digest.unreadable.length === 1 ? 'it is' : 'they are'} missing from boards and metrics.`,
    );
  return notes.length > 0 ? notes.join('\n') : undefined;
}

/** A titled list: its head on top, "and N more" and the rest in the thread. */
function list(title: string, lines: string[], shown: number, thread: ThreadPart[]): KnownBlock[] {
  if (lines.length === 0) return [];
  const head = lines.slice(0, shown);
  const rest = lines.slice(shown);
  const blocks: KnownBlock[] = [{ type: 'divider' }, ...textBlocks([title, ...head])];
  if (rest.length > 0) {
    blocks.push(context(`…and ${rest.length} more in the thread.`));
    thread.push({ title: `${title}, continued`, lines: rest, continued: `${title}, continued` });
  }
  return blocks;
}

function productSections(products: ProductDigest[], now: Date, shown: Shown, thread: ThreadPart[]): KnownBlock[] {
  if (products.length === 0) return [];
  const onTop = products.slice(0, shown.products);
  const later = products.slice(shown.products);
  const blocks: KnownBlock[] = [
    { type: 'divider' },
    section('*:bar_chart: Products*: where each revision is, and how delivery goes'),
    context(BOARD_LEGEND),
  ];
  for (const product of onTop) {
    if (product.unreachable) {
      blocks.push(context(unreachableLine(product)));
      continue;
    }
    const rows = boardLines(product, now);
    blocks.push(...textBlocks([productTitle(product), ...rows.slice(0, shown.services)]));
    const hidden = rows.length - shown.services;
    if (hidden > 0) {
      blocks.push(context(`…and ${count(hidden, 'more service')} in the thread.`));
      const continued = `${productTitle(product)}, continued`;
      thread.push({ title: continued, lines: rows.slice(shown.services), continued });
    }
    blocks.push(metricsBlock(product, now));
  }
  if (later.length > 0) {
    blocks.push(context(`…and ${count(later.length, 'more product')} in the thread.`));
    thread.push(...boardParts(later, now), ...metricsParts(later, now));
  }
  return blocks;
}

// Lines

function waitingLine(approval: WaitingApproval, now: Date, permalinks: Permalinks): string {
  const permalink = permalinks.get(approval.approvalId);
  const parts = [
    `• *${link(approval.consoleLink, approval.pipelineName)} › ${escapeMrkdwn(approval.stageName)}*${placeText(approval.place)}`,
    approval.revision ? revisionText(approval.revision) : undefined,
    `waiting for ${duration(now.getTime() - approval.requestedAt.getTime())}`,
    approval.expiresSoon
      ? `:warning: *expires ${relative(approval.expiresAt, now)}*`
      : `expires ${relative(approval.expiresAt, now)}`,
    approval.deciding ? `${actorText(approval.deciding)} is deciding` : undefined,
    permalink ? link(permalink, 'approval message') : undefined,
  ];
  return clip(parts.filter(Boolean).join(' · '), BLOCK_KIT.text);
}

const RESULT_ICON: Record<DecidedApproval['result'], string> = {
  approved: ':white_check_mark:',
  rejected: ':x:',
  expired: ':hourglass:',
  'decided-elsewhere': ':leftwards_arrow_with_hook:',
  gone: ':wastebasket:',
  stopped: ':black_square_for_stop:',
};

function decidedLine(decided: DecidedApproval, now: Date): string {
  const what = `*${escapeMrkdwn(decided.pipelineName)} › ${escapeMrkdwn(decided.stageName)}*${placeText(decided.place)}`;
  const verb =
    decided.result === 'approved' || decided.result === 'rejected'
      ? `${decided.result}${decided.actor ? ` by ${actorText(decided.actor)}` : ''}`
      : decided.result === 'decided-elsewhere'
        ? `${decided.verdict === 'approve' ? 'approved' : decided.verdict === 'reject' ? 'rejected' : 'decided'} outside Slack${decided.by ? ` by ${escapeMrkdwn(readableIdentity(decided.by))}` : ''}`
        : decided.result === 'gone'
          ? 'gone from CodePipeline'
          : decided.result === 'stopped'
            ? 'stopped in CodePipeline'
            : 'expired';
  const override = decided.override ? ` · ❄️ ${escapeMrkdwn(decided.override)}` : '';
  const waited = decided.waitedMs !== undefined ? ` · waited ${duration(decided.waitedMs)}` : '';
  const reason = decided.reason ? ` · “${escapeMrkdwn(clip(decided.reason.replace(/\s+/g, ' '), 200))}”` : '';
  return clip(
    `• ${RESULT_ICON[decided.result]} ${what} ${verb} ${relative(decided.decidedAt ?? decided.at, now)}${override}${waited}${reason}`,
    BLOCK_KIT.text,
  );
}

/**
 * Another account's pipeline, briefly: two accounts may both have a `shop-cart`. Greenlight's own
 * account goes without, as before.
 */
const placeText = (place: AccountPlace | undefined) => (place ? ` _(${place.account} ${place.region})_` : '');

const productTitle = (product: ProductDigest) =>
  `*${escapeMrkdwn(product.displayName)}*${placeText(product.place)} · ${count(product.board.rows.length, 'service')}`;

/** A product whose account Greenlight could not reach: one line in place of its board and metrics. */
const unreachableLine = (product: ProductDigest) =>
  `:warning: *${escapeMrkdwn(product.displayName)}*: Greenlight could not reach AWS account ${product.place?.account ?? '(unknown)'}${product.place ? ` (${product.place.region})` : ''} to read its pipelines, so its board and delivery metrics are missing.`;

const boardLines = (product: ProductDigest, now: Date) => product.board.rows.map((row) => boardLine(row, now));

function boardParts(products: ProductDigest[], now: Date): ThreadPart[] {
  if (products.length === 0) return [];
  return [
    { block: context(BOARD_LEGEND) },
    ...products.map((product) =>
      product.unreachable
        ? { block: context(unreachableLine(product)) }
        : { title: productTitle(product), lines: boardLines(product, now) },
    ),
  ];
}

function metricsParts(products: ProductDigest[], now: Date): ThreadPart[] {
  return products.filter((product) => !product.unreachable).map((product) => ({ block: metricsBlock(product, now) }));
}
// Delivery metrics: one section per product, one field per metric, the last 7 and 30 days each
// next to the period before.

function metricsBlock(product: ProductDigest, now: Date): KnownBlock {
  const periods = [product.week.current, product.week.previous, product.month.current, product.month.previous];
  if (product.failing.length === 0 && periods.every((m) => m.finished === 0 && !m.approvalWait))
    return context(
      `*${escapeMrkdwn(product.displayName)}*${placeText(product.place)}: no deployments, failures or approvals in the last 60 days.`,
    );
  const field = (name: string, value: (m: DeliveryMetrics) => string, extra = '') => ({
    type: 'mrkdwn' as const,
    text: clip(
      `*${name}*\n${periodLine('7 d', product.week, value)}\n${periodLine('30 d', product.month, value)}${extra}`,
      BLOCK_KIT.fieldText,
    ),
  });
  const failing =
    product.failing.length > 0
      ? `\n:rotating_light: still failing: ${product.failing
          .slice(0, 3)
          .map((f) => `${escapeMrkdwn(f.pipelineName)} (${duration(now.getTime() - f.since.getTime())})`)
          .join(', ')}${product.failing.length > 3 ? ` and ${product.failing.length - 3} more` : ''}`
      : '';
  return {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: clip(
        `*${escapeMrkdwn(product.displayName)}*${placeText(product.place)} delivery, last 7 and 30 days (and the period before)`,
        BLOCK_KIT.text,
      ),
    },
    fields: [
      field('Deployments to production', (m) => String(m.deployments)),
      field('Lead time', (m) => ms(m.leadTimeMs)),
      field('Change failure rate', (m) =>
        m.changeFailureRate === undefined
          ? '–'
          : `${Math.round(m.changeFailureRate * 100)}% (${m.failures}/${m.finished})`,
      ),
      field('Mean time between failures', (m) => ms(m.mtbfMs)),
      field('Mean time to recover', (m) => ms(m.mttrMs), failing),
      field('Approval wait p50 / p90', (m) =>
        m.approvalWait ? `${duration(m.approvalWait.p50Ms)} / ${duration(m.approvalWait.p90Ms)}` : '–',
      ),
    ],
  };
}

const periodLine = (label: string, comparison: MetricsComparison, value: (m: DeliveryMetrics) => string) =>
  `${label}: ${value(comparison.current)} (before: ${value(comparison.previous)})`;

const ms = (value: number | undefined) => (value === undefined ? '–' : duration(value));

// Small parts

const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(text, BLOCK_KIT.text) },
});

const context = (text: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: clip(text, BLOCK_KIT.text) }],
});

/** Lines joined into as few section blocks as the text limit allows. */
function textBlocks(lines: string[]): SectionBlock[] {
  const texts: string[] = [];
  for (const line of lines) {
    const last = texts.at(-1);
    if (last !== undefined && last.length + 1 + line.length <= BLOCK_KIT.text)
      texts[texts.length - 1] = `${last}\n${line}`;
    else texts.push(clip(line, BLOCK_KIT.text));
  }
  return texts.map(section);
}

/** Git SHAs read best short; other revision ids (S3 versions, image digests) are clipped too. */
const shortRevision = (revisionId: string) =>
  escapeMrkdwn(revisionId.length > 12 ? revisionId.slice(0, 7) : revisionId);

function revisionText(revision: { revisionId: string; summary?: string }): string {
  const summary = revision.summary ? ` ${escapeMrkdwn(clip(revision.summary.split('\n')[0] ?? '', 60))}` : '';
  return `\`${shortRevision(revision.revisionId)}\`${summary}`;
}

function names(list: string[]): string {
  const shown = list.slice(0, 5).map(escapeMrkdwn).join(', ');
  return list.length > 5 ? `${shown} and ${list.length - 5} more` : shown;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
