import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { DeliveryMetrics } from '../../../app/core/delivery-metrics.ts';
import type { DecidedApproval, Digest, ProductDigest, WaitingApproval } from '../../../app/core/digest.ts';
import type { BoardRow } from '../../../app/core/product-board.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import type { SlackMessage } from '../../../app/views/approval-message.ts';
import { BLOCK_KIT, digestMessages, digestPreview, SHOWN_ON_TOP } from '../../../app/views/digest-message.ts';
import { TEXT_BUDGET, textLength } from '../../../app/views/limits.ts';

const NOW = new Date('2026-11-20T07:00:00Z');
const HOUR = 60 * 60 * 1000;
const ago = (hours: number) => new Date(NOW.getTime() - hours * HOUR);

const nothing: DeliveryMetrics = { deployments: 0, finished: 0, failures: 0 };
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

const digest = (parts: Partial<Digest> = {}): Digest => ({
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

/** Names as long as CodePipeline allows (100 characters). */
const longName = (prefix: string, i: number) =>
  `${prefix}-${String(i).padStart(4, '0')}-${'x'.repeat(100)}`.slice(0, 100);

const waiting = (pipelineName: string, i: number): WaitingApproval => ({
  approvalId: `approval${i}`,
  pipelineName,
  stageName: 'StagingQA',
  actionName: 'Approve',
  revision: { revisionId: 'a'.repeat(40), summary: `Change number ${i}\nwith a long body` },
  // The first waits longest and expires in 8 hours, each next one an hour later.
  requestedAt: ago(160 - i),
  expiresAt: new Date(ago(160 - i).getTime() + 7 * 24 * HOUR),
  expiresSoon: 8 + i <= 24,
  message: { channel: 'C0APPROVALS', ts: `1795000000.${String(i).padStart(6, '0')}` },
  consoleLink: `https://console.aws.amazon.com/codepipeline/home?region=us-east-2#/view/${pipelineName}`,
});

const decided = (pipelineName: string, i: number): DecidedApproval => ({
  approvalId: `decided${i}`,
  pipelineName,
  stageName: 'StagingDEV',
  result: i % 2 ? 'rejected' : 'approved',
  actor: { id: `U0P${i}`, name: `person ${i}`, via: 'slack' },
  reason: `<b>Broken</b> & *bold* ${'because '.repeat(80)}`,
  at: ago(i / 10),
  waitedMs: i * 60_000,
});

function product(name: string, services: number, metrics = busy): ProductDigest {
  const rows: BoardRow[] = Array.from({ length: services }, (_, i) => ({
    pipelineName: `${name}-svc${i}`,
    service: `svc${i}`,
    cells: ['Source', 'Build', 'StagingDEV', 'StagingQA', 'StagingPROD'].map((stageName) => ({
      stageName,
      state: 'succeeded' as const,
      revision: { revisionId: 'b'.repeat(40) },
    })),
  }));
  return {
    name,
    displayName: name,
    board: { product: resolveProduct(name, {}), stages: [], rows },
    week: { current: metrics, previous: metrics },
    month: { current: metrics, previous: metrics },
    failing: [],
  };
}

/** Every Block Kit limit the digest must hold, as problems (empty: none). */
function limitProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (message.blocks.length > BLOCK_KIT.blocks) problems.push(`${message.blocks.length} blocks`);
  if (textLength(message.blocks) > TEXT_BUDGET) problems.push(`${textLength(message.blocks)} characters in all`);
  for (const block of message.blocks as (KnownBlock & Record<string, unknown>)[]) {
    const text = block.text as { text?: string } | undefined;
    if (block.type === 'header' && (text?.text?.length ?? 0) > BLOCK_KIT.header) problems.push('long header');
    if (block.type === 'section' && (text?.text?.length ?? 0) > BLOCK_KIT.text) problems.push('long section text');
    const fields = (block.fields as { text: string }[] | undefined) ?? [];
    if (fields.length > BLOCK_KIT.fields) problems.push(`${fields.length} fields`);
    if (fields.some((f) => f.text.length > BLOCK_KIT.fieldText)) problems.push('long field');
    const elements = (block.elements as { text?: string }[] | undefined) ?? [];
    if (elements.some((e) => (e.text?.length ?? 0) > BLOCK_KIT.text)) problems.push('long context');
  }
  return problems;
}

const all = (messages: SlackMessage[]) => messages.map((m) => JSON.stringify(m.blocks)).join('\n');
const occurrences = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe('the digest message', () => {
  it('says all clear on an empty day, in a short message without a thread', () => {
    // Act
    const { top, replies } = digestMessages(digest());

    // Assess
    expect(top.text).toBe('Daily digest 2026-11-20: all clear');
    expect(top.blocks).toHaveLength(2);
    expect(JSON.stringify(top.blocks)).toContain('*All clear.* Nothing waits for approval');
    expect(replies).toEqual([]);
  });

  it('keeps a quiet day short and puts boards and metrics in the thread', () => {
    // Act
    const { top, replies } = digestMessages(digest({ products: [product('shop', 3), product('blog', 2, nothing)] }));

    // Assess
    expect(top.blocks.length).toBeLessThanOrEqual(4);
    expect(JSON.stringify(top.blocks)).toContain('Boards and delivery metrics of 2 products are in the thread.');
    const thread = all(replies);
    expect(thread).toContain('*svc2*');
    expect(thread).toContain('*Lead time*\\n7 d: 5 h (before: 5 h)');
    expect(thread).toContain('*blog*: no deployments, failures or approvals in the last 60 days.');
  });

  it('names the place of each entry of a product that lives in several, in its board and its metrics', () => {
    // Prepare: shop in Greenlight's own account, in A and, without any delivery, in B
    const A = { account: '111122223333', region: 'eu-west-1' };
    const B = { account: '444455556666', region: 'us-west-2' };
    const input = digest({
      products: [product('shop', 1), { ...product('shop', 1), place: A }, { ...product('shop', 1, nothing), place: B }],
    });

    // Act
    const { replies } = digestMessages(input);

    // Assess
    const thread = all(replies);
    expect(thread).toContain('*shop* · 1 service');
    expect(thread).toContain('*shop* _(111122223333 eu-west-1)_ · 1 service');
    expect(thread).toContain('*shop* delivery, last 7 and 30 days');
    expect(thread).toContain('*shop* _(111122223333 eu-west-1)_ delivery, last 7 and 30 days');
    expect(thread).toContain('*shop* _(444455556666 us-west-2)_: no deployments, failures or approvals');
  });

  it('holds Block Kit’s limits for 200 pipelines, shows the top of each list and the rest in the thread', () => {
    // Prepare: 200 waiting approvals, 150 decisions, 12 products of 40 services, all with the longest names
    const names = Array.from({ length: 200 }, (_, i) => longName('big', i));
    const input = digest({
      waiting: names.map(waiting),
      decided: names.slice(0, 150).map(decided),
      products: Array.from({ length: 12 }, (_, i) => product(`product${i}`, 40)),
      outdated: 3,
      unreadable: names.slice(0, 9),
    });
    const permalinks = new Map(
      input.waiting.map((w) => [w.approvalId, `https://acme.slack.com/archives/C0APPROVALS/p${w.approvalId}`]),
    );

    // Act
    const { top, replies } = digestMessages(input, permalinks);

    // Assess: every message within the limits
    for (const message of [top, ...replies]) expect(limitProblems(message)).toEqual([]);
    // Lines this long do not all fit on top: it shows fewer than SHOWN_ON_TOP, and counts the rest.
    const topText = JSON.stringify(top.blocks);
    const onTop = (needle: string) => occurrences(topText, needle);
    const more = (pattern: RegExp) => Number(pattern.exec(topText)?.[1]);
    expect(onTop('|approval message>')).toBeLessThanOrEqual(SHOWN_ON_TOP.waiting);
    expect(onTop('|approval message>') + more(/…and (\d+) more in the thread\./)).toBe(200);
    expect(
      onTop('StagingDEV* ') + more(/Waiting.*…and \d+ more in the thread\..*…and (\d+) more in the thread\./),
    ).toBe(150);
    expect(onTop('delivery, last 7 and 30 days') + more(/…and (\d+) more products in the thread\./)).toBe(12);
    expect(
      onTop('*svc') / onTop('delivery, last 7 and 30 days') + more(/…and (\d+) more services in the thread\./),
    ).toBe(40);
    // … and everything appears exactly once, on top or in the thread
    const everything = all([top, ...replies]);
    for (const name of names) expect(occurrences(everything, `|${name}> › StagingQA`)).toBe(1);
    for (const i of [0, 5, 11])
      expect(occurrences(everything, `*product${i}* · 40 services`)).toBeGreaterThanOrEqual(1);
    expect(occurrences(everything, '*svc39*')).toBe(12);
    expect(occurrences(everything, 'delivery, last 7 and 30 days')).toBe(12);
    expect(occurrences(everything, '|approval message>')).toBe(200);
  });

  it('keeps the top message within 50 blocks even when every line is as long as a text may be', () => {
    // Prepare: links, names and services of absurd length make each line a block of its own
    const huge = 'y'.repeat(2_800);
    const input = digest({
      waiting: Array.from({ length: 9 }, (_, i) => ({
        ...waiting(`w${i}`, i),
        consoleLink: `https://e.example/${huge}`,
      })),
      decided: Array.from({ length: 9 }, (_, i) => decided(`d${i}-${huge}`, i)),
      products: Array.from({ length: 5 }, (_, i) => {
        const p = product(`p${i}`, 7);
        return {
          ...p,
          board: { ...p.board, rows: p.board.rows.map((r) => ({ ...r, service: `${r.service}${huge}` })) },
        };
      }),
    });

    // Act
    const { top, replies } = digestMessages(input);

    // Assess
    for (const message of [top, ...replies]) expect(limitProblems(message)).toEqual([]);
    expect(top.blocks.length).toBeLessThanOrEqual(BLOCK_KIT.blocks);
    expect(JSON.stringify(top.blocks.at(-1))).toContain('…continued in the thread.');
    const everything = all([top, ...replies]);
    for (let i = 0; i < 9; i++) expect(occurrences(everything, `|w${i}> › StagingQA`)).toBe(1);
    expect(occurrences(everything, 'delivery, last 7 and 30 days')).toBe(5);
  });

  it('escapes and clips what people wrote', () => {
    // Act
    const { top } = digestMessages(digest({ decided: [decided('shop-cart', 1)] }));

    // Assess
    const text = JSON.stringify(top.blocks);
    expect(text).toContain('“&lt;b&gt;Broken&lt;/b&gt; &amp; *bold* because');
    expect(text).not.toContain('<b>');
    const reason = /“([^”]*)”/.exec(text)?.[1] ?? '';
    expect(reason.endsWith('…')).toBe(true);
    expect(reason.replace(/&\w+;/g, '_').length).toBeLessThanOrEqual(200);
  });

  it('names who asked for a release as a mention, and a release’s own name escaped', () => {
    // Prepare: Alice’s release approved one pipeline; Mallory named herself as markup
    const release = (id: string, requester: string, name: string) => ({
      id,
      name: `Shop → prod by ${name}`,
      via: 'release' as const,
      release: { what: 'Shop → prod', requestedBy: requester, requesterName: name },
    });
    // Act
    const { top } = digestMessages(
      digest({
        decided: [
          { ...decided('shop-cart', 2), actor: release('r1', 'U0ALICE', 'Alice') },
          { ...decided('shop-web', 4), actor: release('r2', 'U0MALLORY', '<!channel>') },
        ],
      }),
    );
    // Assess
    const text = JSON.stringify(top.blocks);
    expect(text).toContain('by release Shop → prod by <@U0ALICE>');
    expect(text).toContain('by release Shop → prod by <@U0MALLORY>');
    expect(text).not.toContain('<!channel>');
  });

  it('flags approvals that expire within a day', () => {
    // Act
    const { top } = digestMessages(digest({ waiting: [waiting('shop-cart', 0), waiting('shop-api', 30)] }));

    // Assess
    const text = JSON.stringify(top.blocks);
    expect(text).toContain(
      '|shop-cart> › StagingQA* · `aaaaaaa` Change number 0 · waiting for 6 d 16 h · :warning: *expires in 8 hours*',
    );
    expect(text).toContain(
      '|shop-api> › StagingQA* · `aaaaaaa` Change number 30 · waiting for 5 d 10 h · expires in 38 hours',
    );
    expect(JSON.stringify(top.blocks[1])).toContain(':warning: 1 expires within 24 h');
  });

  it('previews the top message for one person, saying what the thread would hold', () => {
    // Act
    const preview = digestPreview(digest({ waiting: Array.from({ length: 30 }, (_, i) => waiting(`p-${i}`, i)) }));

    // Assess
    expect(JSON.stringify(preview.blocks.at(-1))).toContain(
      'A preview only you can see. In the channel, 1 reply in its thread holds the rest.',
    );
  });
});
