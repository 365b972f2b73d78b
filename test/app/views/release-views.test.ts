import { describe, expect, it } from 'vitest';
import {
  type IncludedItem,
  type ItemResult,
  type PlanItem,
  planDigest,
  type ReleasePlan,
  type ReleaseRun,
} from '../../../app/core/release.ts';
import {
  releaseLoadingModal,
  releaseModalMetadata,
  releasePlanModal,
  releaseStartedModal,
} from '../../../app/views/release-modal.ts';
import { releaseProgressMessage } from '../../../app/views/release-progress.ts';
import { blockProblems, viewProblems } from '../../../sandbox/slack/block-kit.ts';
import { token } from '../../support/release-fakes.ts';

const now = new Date('2025-03-04T10:00:00Z');

const included = (n: number, summary = `Fix checkout ${n}`): PlanItem => ({
  pipelineName: `shop-service-${String(n).padStart(3, '0')}`,
  kind: 'include',
  approval: {
    approvalId: `id-${n}`,
    stageName: 'StagingQA',
    actionName: 'Approve',
    token: token(n),
    revision: { revisionId: `9f4e2b1c7d3a5e8f0b6c4d2a1e9f7b5c3d1a${String(n).padStart(4, '0')}`, summary },
    waitingSince: new Date('2025-03-04T07:40:00Z'),
  },
});

const excluded = (n: number): PlanItem => ({
  pipelineName: `shop-idle-${n}`,
  kind: 'exclude',
  exclusion: { kind: 'nothing-pending', detail: 'c1 already went through StagingQA' },
});

function plan(items: PlanItem[]): ReleasePlan {
  return {
    releaseId: 'rel-42',
    product: { name: 'shop', displayName: 'Shop' },
    env: 'prod',
    stageName: 'StagingQA',
    region: 'eu-central-1',
    requestedBy: { id: 'U0ALICE', name: 'Alice', via: 'slack' },
    source: 'slack',
    channel: 'C0RELEASES',
    createdAt: new Date('2025-03-04T09:59:00Z'),
    items,
  };
}

const run = (
  items: PlanItem[],
  results: Record<string, ItemResult>,
  state: ReleaseRun['state'] = 'confirmed',
): ReleaseRun => ({
  ...plan(items),
  state,
  results,
});

const text = (value: unknown) => JSON.stringify(value);

describe('releasePlanModal', () => {
  it('lists the approval it will give in each pipeline and why the others are left out', () => {
    // Act
    const modal = releasePlanModal(plan([included(1), excluded(2)]), now);

    // Assess
    expect(viewProblems(modal)).toEqual([]);
    expect(modal.submit).toEqual({ type: 'plain_text', text: 'Approve 1' });
    const shown = text(modal.blocks);
    expect(shown).toContain('*shop-service-001* · `9f4e2b1` Fix checkout 1 · waiting 2 h 20 min');
    expect(shown).toContain('*shop-idle-2* — nothing pending: c1 already went through StagingQA');
    expect(shown).toContain('in *1* of the 2 pipelines of *Shop*');
  });

  it('keeps the tokens out of the modal: it remembers the release id and a digest of what it shows', () => {
    // Act
    const modal = releasePlanModal(plan([included(1), included(2)]), now);
    const second = included(2) as IncludedItem;
    const other = releasePlanModal(
      plan([included(1), { ...second, approval: { ...second.approval, approvalId: 'id-9' } }]),
      now,
    );

    // Assess
    expect(JSON.parse(modal.private_metadata ?? '')).toEqual({
      releaseId: 'rel-42',
      plan: planDigest(plan([included(1), included(2)])),
    });
    expect(JSON.parse(other.private_metadata ?? '').plan).not.toBe(JSON.parse(modal.private_metadata ?? '').plan);
    expect(text(modal)).not.toContain(token(1));
    expect(text(modal)).not.toContain(token(2));
  });

  it('reads back the release and plan it remembers, and refuses what it did not write', () => {
    // Prepare
    const modal = releasePlanModal(plan([included(1)]), now);
    const forged = [
      undefined,
      'rel-42',
      JSON.stringify({ releaseId: 'rel-42' }),
      JSON.stringify({ releaseId: 'rel 42 !', plan: 'abc' }),
      JSON.stringify({ releaseId: 'rel-42', plan: 'x'.repeat(41) }),
      JSON.stringify({ releaseId: 'rel-42', plan: 'abc', token: token(1) }),
    ];

    // Act
    const read = releaseModalMetadata.read(modal.private_metadata);
    const refused = forged.map((raw) => releaseModalMetadata.read(raw).ok);

    // Assess
    expect(read).toEqual({ ok: true, value: { releaseId: 'rel-42', plan: planDigest(plan([included(1)])) } });
    expect(refused).toEqual(forged.map(() => false));
  });

  it('offers no confirmation when nothing waits, and says a product has no pipelines', () => {
    // Act
    const nothing = releasePlanModal(plan([excluded(1)]), now);
    const empty = releasePlanModal(plan([]), now);

    // Assess
    expect(nothing.submit).toBeUndefined();
    expect(text(nothing.blocks)).toContain('Nothing to release');
    expect(empty.submit).toBeUndefined();
    expect(text(empty.blocks)).toContain('has no pipelines');
  });

  it('stays within Slack’s limits for a product of 500 pipelines, counting what does not fit', () => {
    // Prepare
    const items = Array.from({ length: 500 }, (_, i) => (i % 5 === 0 ? excluded(i) : included(i, 'x'.repeat(200))));

    // Act
    const modal = releasePlanModal(plan(items), now);

    // Assess
    expect(viewProblems(modal)).toEqual([]);
    expect(modal.blocks.length).toBeLessThanOrEqual(100);
    const shown = text(modal.blocks);
    const listed = (shown.match(/:large_green_circle:/g) ?? []).length;
    const more = Number(/…and (\d+) more/.exec(shown)?.[1] ?? 0);
    expect(listed + more).toBe(400);
  });

  it('opens with a loading state and ends pointing at the channel', () => {
    // Act
    const loading = releaseLoadingModal('Shop', 'prod');
    const started = releaseStartedModal(plan([included(1), included(2)]));

    // Assess
    expect(viewProblems(loading)).toEqual([]);
    expect(loading.submit).toBeUndefined();
    expect(text(started.blocks)).toContain('2 approvals. Follow it in <#C0RELEASES>');
  });
});

describe('releaseProgressMessage', () => {
  it('counts what is done while the release runs', () => {
    // Act
    const message = releaseProgressMessage(
      run([included(1), included(2), included(3)], { 'shop-service-001': { kind: 'approved', at: now } }),
    );

    // Assess
    expect(message.text).toBe('🚀 Releasing Shop to prod — 1/3');
    expect(blockProblems(message.blocks, 'message')).toEqual([]);
  });

  it("ends with each pipeline's outcome, and who decided what it could not", () => {
    // Prepare
    const items = [included(1), included(2), included(3), included(4), included(5), excluded(6)];
    const results: Record<string, ItemResult> = {
      'shop-service-001': { kind: 'approved', at: now },
      'shop-service-002': { kind: 'changed', revision: { revisionId: 'abcdef0123' }, at: now },
      'shop-service-003': {
        kind: 'already-decided',
        by: { id: 'U0BOB', name: 'Bob', via: 'slack' },
        verdict: 'reject',
        at: now,
      },
      'shop-service-004': { kind: 'not-pending', detail: 'it expired or was answered outside Greenlight', at: now },
      'shop-service-005': {
        kind: 'failed',
        why: 'CodePipeline did not take it after 3 tries (ThrottlingException)',
        at: now,
      },
    };

    // Act
    const message = releaseProgressMessage(run(items, results, 'finished'));

    // Assess
    expect(message.text).toBe('⚠️ Released Shop to prod — 1/5 approved');
    const shown = text(message.blocks);
    expect(shown).toContain('`shop-service-001`');
    expect(shown).toContain('*shop-service-002* — confirmed `9f4e2b1` Fix checkout 2, now `abcdef0`');
    expect(shown).toContain('*shop-service-003* — rejected by <@U0BOB>');
    expect(shown).toContain('*shop-service-004* — it expired or was answered outside Greenlight');
    expect(shown).toContain('*shop-service-005* — CodePipeline did not take it after 3 tries (ThrottlingException)');
    expect(shown).toContain('*Not included (1)*');
    expect(shown).toContain('requested by <@U0ALICE>');
  });

  it('stays within a message’s 50 blocks for 500 pipelines', () => {
    // Prepare
    const items = Array.from({ length: 500 }, (_, i) => included(i, 'y'.repeat(150)));
    const results = Object.fromEntries(
      items.map((item, i): [string, ItemResult] => [
        item.pipelineName,
        i % 2 ? { kind: 'failed', why: 'z'.repeat(300), at: now } : { kind: 'approved', at: now },
      ]),
    );

    // Act
    const message = releaseProgressMessage(run(items, results, 'finished'));

    // Assess
    expect(blockProblems(message.blocks, 'message')).toEqual([]);
    expect(message.text).toBe('⚠️ Released Shop to prod — 250/500 approved');
  });

  it('names every approved pipeline whole when their names fill more than one line', () => {
    // Prepare: 40 approved pipelines, more names than one line of 500 characters holds.
    const items = Array.from({ length: 40 }, (_, i) => included(i));
    const results = Object.fromEntries(
      items.map((item): [string, ItemResult] => [item.pipelineName, { kind: 'approved', at: now }]),
    );

    // Act
    const message = releaseProgressMessage(run(items, results, 'finished'));

    // Assess
    const shown = text(message.blocks);
    for (const item of items) expect(shown).toContain(`\`${item.pipelineName}\``);
    expect(shown).not.toContain('…');
    expect(blockProblems(message.blocks, 'message')).toEqual([]);
  });
});

describe('a release across accounts and regions (PRODUCTS targets)', () => {
  const inPlace = (item: PlanItem, account: string, region: string): PlanItem => ({
    ...item,
    place: { account, region },
  });
  const cart = (n: number) => ({ ...included(n), pipelineName: 'shop-cart' }) as PlanItem;
  const inEurope = inPlace(cart(1), '111122223333', 'eu-west-1');
  const inUs = inPlace(cart(2), '444455556666', 'us-east-1');

  it('names each shop-cart with its region and account, in the confirmation and the progress', () => {
    // Act
    const modal = text(releasePlanModal(plan([inEurope, inUs]), now).blocks);
    const progress = text(
      releaseProgressMessage(
        run([inEurope, inUs], {
          'shop-cart@111122223333/eu-west-1': { kind: 'approved', at: now },
          'shop-cart@444455556666/us-east-1': { kind: 'failed', why: 'CodePipeline refused the request', at: now },
        }),
      ).blocks,
    );
    // Assess
    expect(modal).toContain('shop-cart (eu-west-1, account 111122223333)');
    expect(modal).toContain('shop-cart (us-east-1, account 444455556666)');
    expect(progress).toContain('`shop-cart (eu-west-1, account 111122223333)`');
    expect(progress).toContain('*shop-cart (us-east-1, account 444455556666)* — CodePipeline refused the request');
  });

  it('names pipelines plainly when the whole release is in one place', () => {
    // Act
    const modal = text(releasePlanModal(plan([inEurope]), now).blocks);
    // Assess
    expect(modal).toContain('*shop-cart* ·');
    expect(modal).not.toContain('account 111122223333');
  });
});
