import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../../app/core/approval.ts';
import type { DeliveryMetrics } from '../../../app/core/delivery-metrics.ts';
import type { DecidedApproval, Digest, ProductDigest, WaitingApproval } from '../../../app/core/digest.ts';
import type { BoardCell, BoardRow, ProductBoard } from '../../../app/core/product-board.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import type { ItemResult, PlanItem, ReleaseRun } from '../../../app/core/release.ts';
import { approvalMessage } from '../../../app/views/approval-message.ts';
import { digestMessages, digestPreview } from '../../../app/views/digest-message.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from '../../../app/views/limits.ts';
import { productBoardMessage } from '../../../app/views/product-board.ts';
import { releaseNotices } from '../../../app/views/release-help.ts';
import { releaseProgressMessage } from '../../../app/views/release-progress.ts';
import { blocksTextLength } from '../../../sandbox/slack/block-kit.ts';
import { approvalRequest, slackDecision } from '../../support/fakes.ts';
import { token } from '../../support/release-fakes.ts';
import { occurrences, refusals, texts } from './slack-limits.ts';

/**
 * Every view that grows with data stays within every limit Slack enforces, for products of 50 to
 * 500 services: blocks per message, characters per text, and the text of a message's blocks in all
 * (msg_blocks_too_long). Long lists run on over several messages (the digest thread) or end in an
 * honest "…and N more" (one message: the status board, a release's progress).
 */

const NOW = new Date('2026-11-20T07:00:00Z');
const HOUR = 60 * 60 * 1000;
const SIZES = [50, 100, 200, 500] as const;
const STAGES = ['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD'];

const revision = (i: number) => ({
  revisionId: `${String(i).padStart(8, '0')}${'c'.repeat(32)}`,
  summary: `Change ${i}`,
});

/** A realistic row: mostly passed, some waiting (with a newer revision queued), failed, running or unreadable. */
function row(product: string, i: number, service = `service-${String(i).padStart(3, '0')}`): BoardRow {
  const pipelineName = `${product}-${service}`;
  if (i % 50 === 49) return { pipelineName, service, cells: [], problem: 'CodePipeline did not answer' };
  const state = (stage: number): BoardCell['state'] => {
    if (stage === 3 && i % 7 === 0) return 'awaiting-approval';
    if (stage === 2 && i % 13 === 0) return 'failed';
    if (stage === 1 && i % 17 === 0) return 'in-progress';
    return stage === 4 && i % 3 === 0 ? 'none' : 'succeeded';
  };
  const cells = STAGES.map(
    (stageName, stage): BoardCell => ({
      stageName,
      state: state(stage),
      revision: revision(i),
      ...(state(stage) === 'awaiting-approval'
        ? { since: new Date(NOW.getTime() - 5 * HOUR), waiting: revision(i + 1000) }
        : {}),
    }),
  );
  return { pipelineName, service, cells };
}

const board = (product: string, services: number, name?: (i: number) => string): ProductBoard => ({
  product: resolveProduct(product, {}),
  stages: STAGES,
  rows: Array.from({ length: services }, (_, i) => row(product, i, name?.(i))),
});

const busy: DeliveryMetrics = {
  deployments: 12,
  leadTimeMs: 5 * HOUR,
  finished: 16,
  failures: 4,
  changeFailureRate: 0.25,
  mtbfMs: 30 * HOUR,
  mttrMs: 2 * HOUR,
  approvalWait: { p50Ms: HOUR, p90Ms: 20 * HOUR, count: 30 },
};

const productDigest = (name: string, services: number, service?: (i: number) => string): ProductDigest => ({
  name,
  displayName: name,
  board: board(name, services, service),
  week: { current: busy, previous: busy },
  month: { current: busy, previous: busy },
  failing: [],
});

const waiting = (pipelineName: string, i: number): WaitingApproval => ({
  approvalId: `approval${i}`,
  pipelineName,
  stageName: 'StagingQA',
  actionName: 'Approve',
  revision: revision(i),
  requestedAt: new Date(NOW.getTime() - (100 - (i % 90)) * HOUR),
  expiresAt: new Date(NOW.getTime() + (68 + (i % 90)) * HOUR),
  expiresSoon: false,
  message: { channel: 'C0APPROVALS', ts: `1795000000.${String(i).padStart(6, '0')}` },
  consoleLink: `https://eu-central-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/${pipelineName}/view?region=eu-central-1`,
});

const decided = (pipelineName: string, i: number): DecidedApproval => ({
  approvalId: `decided${i}`,
  pipelineName,
  stageName: 'StagingDEV',
  result: i % 2 ? 'rejected' : 'approved',
  actor: { id: `U0P${i}`, name: `person ${i}`, via: 'slack' },
  reason: 'Breaks checkout on Safari; see the ticket',
  at: new Date(NOW.getTime() - (i % 24) * HOUR),
  waitedMs: i * 60_000,
});

const digest = (parts: Partial<Digest>): Digest => ({
  day: '2026-11-20',
  now: NOW,
  decidedSince: new Date(NOW.getTime() - 24 * 60 * 60 * 1000),
  waiting: [],
  outdated: 0,
  decided: [],
  products: [],
  unreadable: [],
  ...parts,
});

/** Every message of a digest thread, as one text. */
const whole = (messages: Array<{ blocks: unknown[] }>) => messages.map((m) => JSON.stringify(m.blocks)).join('\n');

describe.each(SIZES)('a product of %i services', (services) => {
  it('fills a digest thread of several messages, each within every limit, every service once', () => {
    // Prepare: a quiet day (all boards in the thread) and a busy one (a waiting approval per service)
    const product = productDigest('shop', services);
    const quiet = digest({ products: [product] });
    const names = product.board.rows.map((r) => r.pipelineName);
    const busyDay = digest({
      products: [product, productDigest('blog', 7, (i) => `post-${i}`)],
      waiting: names.map(waiting),
      decided: names.slice(0, services / 2).map(decided),
    });

    for (const day of [quiet, busyDay]) {
      // Act
      const { top, replies } = digestMessages(day);

      // Assess: Slack would accept every message …
      for (const message of [top, ...replies]) expect(refusals(message)).toEqual([]);
      // … the thread is split rather than cut: every service and every waiting approval shows exactly once
      const everything = whole([top, ...replies]);
      for (const r of product.board.rows) expect(occurrences(everything, `*${r.service}*  `)).toBe(1);
      for (const name of day.waiting.map((w) => w.pipelineName))
        expect(occurrences(everything, `/${name}/view?region=eu-central-1|${name}>`)).toBe(1);
      expect(replies.map((r) => r.text)).toEqual(
        replies.map((_, i) => `Daily digest 2026-11-20, continued (${i + 1}/${replies.length})`),
      );
    }
    // More text than one message may carry takes several replies.
    const thread = digestMessages(quiet).replies;
    const text = thread.reduce((sum, reply) => sum + textLength(reply.blocks), 0);
    expect(thread.length).toBeGreaterThanOrEqual(Math.ceil(text / TEXT_BUDGET));
    if (services >= 100) expect(thread.length).toBeGreaterThanOrEqual(2);
  });

  it('continues a product’s board in the next reply under its name', () => {
    // Act
    const { replies } = digestMessages(digest({ products: [productDigest('shop', services)] }));

    // Assess: each reply that goes on with the board says whose board it is
    const openings = replies.map((reply) => texts(reply.blocks)[0] ?? '');
    for (const opening of openings.slice(1))
      expect(opening).toMatch(/^\*shop\* · \d+ services, continued\n|^\*shop\* delivery/);
  });

  it('previews the digest within every limit, with room for the preview’s note', () => {
    // Prepare
    const product = productDigest('shop', services);
    const names = product.board.rows.map((r) => r.pipelineName);

    // Act
    const preview = digestPreview(
      digest({ products: [product], waiting: names.map(waiting), decided: names.map(decided) }),
    );

    // Assess
    expect(refusals(preview)).toEqual([]);
    expect(texts(preview.blocks).at(-1)).toMatch(/^:eyes: A preview only you can see\. In the channel, \d+ replies/);
  });

  it('shows the status board in one message that Slack accepts: who needs someone first, the rest counted', () => {
    // Prepare
    const shop = board('shop', services);
    const standing = (r: BoardRow) =>
      r.problem
        ? 'unreadable'
        : r.cells.some((c) => c.state === 'failed' || c.state === 'awaiting-approval')
          ? 'needs someone'
          : 'fine';

    // Act
    const message = productBoardMessage(shop, NOW);

    // Assess: within the limits, every service shown or counted
    expect(refusals(message)).toEqual([]);
    const shown = texts(message.blocks).join('\n');
    const lines = [...shown.matchAll(/(?:^|\n)\*([^*\n]+)\* {2}/g)].map((m) => m[1]);
    const tail = /…and (\d+) more services? not shown: (.*)$/.exec(shown);
    const hidden = Number(tail?.[1] ?? 0);
    expect(lines.length + hidden).toBe(services);
    const waitingRows = shop.rows.filter((r) => r.cells.some((c) => c.state === 'awaiting-approval')).length;
    expect(message.text).toBe(`shop: ${services} pipelines, ${waitingRows} waiting for approval`);
    if (hidden === 0) {
      expect(lines).toEqual(shop.rows.map((r) => r.service));
      return;
    }
    // Trimmed: the services that need someone come first, so the hidden ones are the quiet ones where they can be.
    expect(shown).toContain('those that wait, failed or could not be read come first');
    const shownRows = shop.rows.filter((r) => lines.includes(r.service));
    const hiddenRows = shop.rows.filter((r) => !lines.includes(r.service));
    if (shownRows.some((r) => standing(r) === 'fine'))
      expect(hiddenRows.filter((r) => standing(r) === 'needs someone')).toEqual([]);
    const counted = [...(tail?.[2] ?? '').matchAll(/(?:^|· )\S+ (\d+) /g)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(counted).toBe(hidden);
  });

  it('keeps a release’s progress message within every limit, each list with its count and how many more', () => {
    // Prepare: every pipeline of the product in the release, a third of them failing with a long reason
    const items = Array.from(
      { length: services },
      (_, i): PlanItem => ({
        pipelineName: `shop-service-${String(i).padStart(3, '0')}-with-a-rather-long-name`,
        kind: 'include',
        approval: {
          approvalId: `id-${i}`,
          stageName: 'StagingQA',
          actionName: 'Approve',
          token: token(i),
          revision: revision(i),
          waitingSince: NOW,
        },
      }),
    );
    const results = Object.fromEntries(
      items.map((item, i): [string, ItemResult] => [
        item.pipelineName,
        i % 3
          ? { kind: 'approved', at: NOW }
          : {
              kind: 'failed',
              why: `CodePipeline did not take it after 3 tries (ThrottlingException) ${'·'.repeat(200)}`,
              at: NOW,
            },
      ]),
    );
    const run: ReleaseRun = {
      releaseId: 'rel-42',
      product: { name: 'shop', displayName: 'Shop' },
      env: 'prod',
      stageName: 'StagingQA',
      region: 'eu-central-1',
      requestedBy: { id: 'U0ALICE', name: 'Alice', via: 'slack' },
      source: 'slack',
      channel: 'C0RELEASES',
      createdAt: NOW,
      items,
      state: 'finished',
      results,
    };

    // Act
    const message = releaseProgressMessage(run);

    // Assess
    expect(refusals(message)).toEqual([]);
    const failed = Math.ceil(services / 3);
    const shown = texts(message.blocks).join('\n');
    expect(message.text).toBe(`⚠️ Released Shop to prod — ${services - failed}/${services} approved`);
    expect(shown).toContain(`*Approved* (${services - failed})`);
    expect(shown).toContain(`*Failed* (${failed})`);
    const failedLines = (shown.match(/\n\*shop-service-\d+-with-a-rather-long-name\* — /g) ?? []).length;
    const moreFailed = Number(/\*Failed\*[\s\S]*_…and (\d+) more_/.exec(shown)?.[1] ?? 0);
    expect(failedLines + moreFailed).toBe(failed);
  });
});

describe('views of one size', () => {
  it('splits the thread of 50 services with the longest names, more than one message may carry, into replies', () => {
    // Prepare
    const product = productDigest('shop', 50, (i) =>
      `${String(i).padStart(2, '0')}-${'checkout-payments-'.repeat(6)}`.slice(0, 95),
    );

    // Act
    const { top, replies } = digestMessages(digest({ products: [product] }));

    // Assess
    const text = replies.reduce((sum, reply) => sum + textLength(reply.blocks), 0);
    expect(text).toBeGreaterThan(TEXT_BUDGET);
    expect(replies.length).toBeGreaterThanOrEqual(2);
    for (const message of [top, ...replies]) expect(refusals(message)).toEqual([]);
  });

  it('counts text as the simulator counts it', () => {
    // Prepare
    const { top, replies } = digestMessages(digest({ products: [productDigest('shop', 100)] }));

    // Act & Assess
    for (const message of [top, ...replies]) expect(textLength(message.blocks)).toBe(blocksTextLength(message.blocks));
  });

  it('keeps the status board within limits when every service name is as long as CodePipeline allows', () => {
    // Act
    const message = productBoardMessage(
      board('shop', 500, (i) => `${String(i).padStart(3, '0')}-${'n'.repeat(95)}`),
      NOW,
    );

    // Assess
    expect(refusals(message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(BLOCK_KIT.blocks);
  });

  it('names every product in /release help, or says how many more there are, within a message', () => {
    // Prepare
    const products = Array.from({ length: 500 }, (_, i) => `product-${String(i).padStart(3, '0')}-${'p'.repeat(80)}`);

    // Act
    const help = releaseNotices.help(products);
    const unknown = releaseNotices.unknownProduct('shoop', products);

    // Assess: well within a message's text (40,000) and a modal section's 3000 characters
    expect(help.length).toBeLessThan(BLOCK_KIT.text * 2);
    expect(unknown.length).toBeLessThanOrEqual(BLOCK_KIT.text);
    const named = occurrences(unknown, '`product-');
    expect(unknown).toContain(`and ${500 - named} more.`);
    expect(releaseNotices.help(['shop', 'blog'])).toContain('Products: `shop`, `blog`.');
  });

  it('keeps an approval message within every limit with the longest inputs CodePipeline and Slack allow', () => {
    // Prepare: 100-character names, 500 characters of custom data, a 500-character reason
    const long = (c: string) => c.repeat(100);
    const request = approvalRequest({
      pipelineName: long('p'),
      stageName: long('s'),
      actionName: long('a'),
      customData: 'd'.repeat(500),
      externalEntityLink: `https://review.example.com/${'x'.repeat(1000)}`,
      consoleLink: `https://console.aws.amazon.com/codesuite/codepipeline/pipelines/${long('p')}/view?region=eu-central-1`,
    });
    const rejected: ApprovalRecord = {
      request,
      status: 'closed',
      outcome: {
        kind: 'rejected',
        at: NOW,
        decision: slackDecision('reject', NOW, { id: 'U0A', name: 'A', reason: 'r'.repeat(500) }),
      },
    };

    // Act & Assess
    for (const record of [{ request, status: 'pending' as const }, rejected])
      expect(refusals(approvalMessage(record as ApprovalRecord, NOW))).toEqual([]);
    expect(TEXT_BUDGET).toBeLessThan(12_000);
  });
});
