import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../../app/core/approval.ts';
import { envPolicy } from '../../../app/core/policy.ts';
import type { ProductOverride } from '../../../app/core/products.ts';
import { remindBeforeExpiry } from '../../../app/core/reminders.ts';
import { approvalRequest, counterIds, fixedClock, memoryLog } from '../../support/fakes.ts';
import { FakeThreads, MemoryJourneyStore } from '../../support/journey-fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';

/* Reminders before expiry (core/reminders.ts) with fakes: when they are due, whom they call, once. */

const HOUR = 3_600_000;
const EXPIRES = new Date('2026-12-04T12:00:00Z');

async function world(products: Record<string, ProductOverride>, ...requests: Array<Partial<ApprovalRequest>>) {
  const store = new MemoryApprovalStore();
  const threads = new FakeThreads();
  const saved: ApprovalRequest[] = [];
  for (const overrides of requests) {
    const request = approvalRequest({ expiresAt: EXPIRES, ...overrides });
    await store.saveRequest(request);
    await store.recordMessage(request.id, { channel: 'C0APPROVALS', ts: `1.${saved.length}` });
    saved.push(request);
  }
  const deps = {
    store,
    journeys: new MemoryJourneyStore(),
    threads,
    products,
    clock: fixedClock('2026-12-01T00:00:00Z'),
    ids: counterIds(),
    log: memoryLog(),
  };
  const at = (hoursBeforeExpiry: number) => new Date(EXPIRES.getTime() - hoursBeforeExpiry * HOUR);
  return { store, threads, deps, saved, at };
}

describe('remindBeforeExpiry', () => {
  it('reminds from the product’s lead time until expiry, once however often it runs', async () => {
    // Prepare: shop reminds 30 h ahead, blog has the default 24 h
    const { threads, deps, saved, at } = await world(
      { shop: { reminderHours: 30 } },
      { pipelineName: 'shop-cart' },
      { pipelineName: 'blog-web' },
    );
    // Act
    const early = await remindBeforeExpiry(deps, at(30.01));
    const shopDue = await remindBeforeExpiry(deps, at(30));
    const both = [await remindBeforeExpiry(deps, at(24)), await remindBeforeExpiry(deps, at(1))];
    const expired = await remindBeforeExpiry(deps, at(0));
    // Assess
    expect([early, shopDue, ...both, expired]).toEqual([
      { due: 0, reminded: 0, alreadyReminded: 0 },
      { due: 1, reminded: 1, alreadyReminded: 0 },
      { due: 2, reminded: 1, alreadyReminded: 1 },
      { due: 2, reminded: 0, alreadyReminded: 2 },
      { due: 0, reminded: 0, alreadyReminded: 0 },
    ]);
    expect(threads.reminders.map((r) => r.approvalId)).toEqual(saved.map((r) => r.id));
  });

  it('calls the env’s approvers, else those it was posted under, else @here where allowed, else nobody', async () => {
    // Prepare
    const products: Record<string, ProductOverride> = {
      shop: { envs: { qa: { stage: 'StagingDEV', approvers: ['U0ALICE', 'S0RELEASERS'] } } },
      herald: { remindHere: true },
    };
    const posted = { ...envPolicy('legacy', 'qa', {}, { approvers: ['U0OLD'] }) };
    const { threads, deps, at } = await world(
      products,
      { pipelineName: 'shop-cart' },
      { pipelineName: 'legacy-api', policy: posted },
      { pipelineName: 'herald-web' },
      { pipelineName: 'quiet-api' },
    );
    // Act
    await remindBeforeExpiry(deps, at(2));
    // Assess
    const byPipeline = Object.fromEntries(
      await Promise.all(
        threads.reminders.map(async (r) => [
          (await deps.store.get(r.approvalId))?.request.pipelineName,
          r.reminder.mention,
        ]),
      ),
    );
    expect(byPipeline).toEqual({
      'shop-cart': ['U0ALICE', 'S0RELEASERS'],
      'legacy-api': ['U0OLD'],
      'herald-web': 'here',
      'quiet-api': [],
    });
    expect(threads.reminders.map((r) => r.reminder)).toContainEqual({
      expiresAt: EXPIRES,
      at: at(2),
      mention: ['U0ALICE', 'S0RELEASERS'],
    });
  });

  it('leaves alone an approval being decided, one without a message, and one that cannot be decided in Slack', async () => {
    // Prepare
    const { store, threads, deps, at } = await world(
      {},
      { pipelineName: 'shop-cart' },
      { pipelineName: 'shop-web', unreadable: ['token'] },
    );
    const unposted = approvalRequest({ pipelineName: 'shop-api', expiresAt: EXPIRES });
    await store.saveRequest(unposted);
    const deciding = (await store.listOpen()).find((record) => record.request.pipelineName === 'shop-cart');
    if (deciding)
      await store.claim(
        deciding.request.id,
        {
          verdict: 'approve',
          actor: { id: 'U0BOB', name: 'bob', via: 'slack' },
          at: at(3),
          claimId: 'c1',
          until: at(2),
        },
        at(3),
      );
    // Act
    const result = await remindBeforeExpiry(deps, at(2.5));
    // Assess
    expect(result).toEqual({ due: 0, reminded: 0, alreadyReminded: 0 });
    expect(threads.reminders).toEqual([]);
  });
});
