import { describe, expect, it } from 'vitest';
import { decideUnderRules, mayBreakGlass } from '../../../app/core/decide-under-rules.ts';
import { TransientError } from '../../../app/core/errors.ts';
import { policyByKey } from '../../../app/core/policy.ts';
import { NotBreakGlassError } from '../../../app/core/policy-errors.ts';
import type { GroupDirectory } from '../../../app/core/ports.ts';
import { requestApproval } from '../../../app/core/request-approval.ts';
import { approvalRequest, decideDeps, slackDecision } from '../../support/fakes.ts';

/*
 * Breaking glass under the approval rules (docs/policy.md): only those the env names may, by user id
 * or user group; anyone else who asks is told so, audited, and nothing reaches CodePipeline.
 */

const PRODUCTS = {
  shop: {
    envs: {
      prod: {
        stage: 'StagingQA',
        freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' }],
        breakGlass: ['S0ONCALL', 'U0DAVE'],
      },
    },
  },
};
const RULES = policyByKey('shop/prod', PRODUCTS);
/** On-call is Carol; nobody else is in a group. */
const groups = { groupsOf: async (userId: string) => new Set(userId === 'U0CAROL' ? ['S0ONCALL'] : []) };

/** An approval of shop prod waiting on Saturday noon in Berlin, under the weekend freeze. */
async function frozenApproval(directory: GroupDirectory = groups) {
  if (!RULES) throw new Error('shop/prod has no rules');
  const base = decideDeps('2026-12-05T11:00:00Z');
  const { store, pipelines, clock } = base;
  const deps = { ...base, rules: { products: PRODUCTS, groups: directory } };
  const request = approvalRequest({ pipelineName: 'shop-cart', stageName: 'StagingQA', policy: RULES });
  await requestApproval(deps, request);
  const breakGlass = (id: string) =>
    decideUnderRules(deps, request.id, slackDecision('approve', clock(), { id, reason: 'Checkout outage' }), {
      rulesKey: RULES.key,
      breakGlass: true,
    });
  return { store, pipelines, request, breakGlass };
}

describe('breaking glass', () => {
  it('refuses someone outside breakGlass who asks, as such, audited, with nothing sent to CodePipeline', async () => {
    // Prepare
    const { store, pipelines, request, breakGlass } = await frozenApproval();
    // Act
    const refused = breakGlass('U0ALICE');
    // Assess
    await expect(refused).rejects.toBeInstanceOf(NotBreakGlassError);
    await expect(refused).rejects.toMatchObject({ freeze: { reason: 'Weekend' }, policy: { key: 'shop/prod' } });
    expect(pipelines.calls).toEqual([]);
    const events = await store.eventsForApproval(request.id);
    expect(events.filter((event) => event.type === 'decision-refused')).toEqual([
      expect.objectContaining({ result: 'not-break-glass', actor: expect.objectContaining({ id: 'U0ALICE' }) }),
    ]);
  });

  it('approves at once for someone named by user id, and for a member of a named group', async () => {
    for (const person of ['U0DAVE', 'U0CAROL']) {
      // Prepare
      const { pipelines, breakGlass } = await frozenApproval();
      // Act
      const record = await breakGlass(person);
      // Assess
      expect(record.outcome?.decision?.override).toEqual({ freeze: 'Weekend' });
      expect(pipelines.calls).toHaveLength(1);
    }
  });

  it('asks to try again, refusing nothing, when Slack does not say who is in the groups in time', async () => {
    // Prepare: the group lookup timed out (the directory answers undefined)
    const { store, pipelines, request, breakGlass } = await frozenApproval({ groupsOf: async () => undefined });
    // Act
    const unknown = breakGlass('U0CAROL');
    // Assess
    await expect(unknown).rejects.toBeInstanceOf(TransientError);
    expect(pipelines.calls).toEqual([]);
    expect((await store.eventsForApproval(request.id)).filter((e) => e.type === 'decision-refused')).toEqual([]);
    if (!RULES) throw new Error('shop/prod has no rules');
    expect(await mayBreakGlass({ groupsOf: async () => undefined }, RULES, 'U0CAROL')).toBeUndefined();
    // Named by user id, Dave needs no lookup at all.
    expect(await mayBreakGlass({ groupsOf: async () => undefined }, RULES, 'U0DAVE')).toBe(true);
  });

  it('tells who may break glass before anyone gives a reason', async () => {
    // Act / Assess
    if (!RULES) throw new Error('shop/prod has no rules');
    expect(await mayBreakGlass(groups, RULES, 'U0DAVE')).toBe(true);
    expect(await mayBreakGlass(groups, RULES, 'U0CAROL')).toBe(true);
    expect(await mayBreakGlass(groups, RULES, 'U0ALICE')).toBe(false);
  });
});

describe('two approvers on two days', () => {
  it('files the first vote in the trail of its own day, and names both approvers on the outcome', async () => {
    // Prepare: shop prod needs two approvers; Alice approves on Monday, Bob on Tuesday
    const products = { shop: { envs: { prod: { stage: 'StagingQA', required: 2 } } } };
    const rules = policyByKey('shop/prod', products);
    if (!rules) throw new Error('shop/prod has no rules');
    const base = decideDeps('2026-12-07T10:00:00Z');
    const deps = { ...base, rules: { products, groups } };
    const request = approvalRequest({ pipelineName: 'shop-cart', stageName: 'StagingQA', policy: rules });
    await requestApproval(deps, request);
    const under = { rulesKey: rules.key };
    // Act
    await decideUnderRules(deps, request.id, slackDecision('approve', base.clock()), under);
    base.clock.set('2026-12-08T09:00:00Z');
    await decideUnderRules(
      deps,
      request.id,
      slackDecision('approve', base.clock(), { id: 'U0BOB', name: 'Bob' }),
      under,
    );
    // Assess
    const monday = await base.store.eventsForDay('2026-12-07');
    expect(monday.filter((event) => event.type === 'vote').map((event) => event.actor?.id)).toEqual(['U0ALICE']);
    const tuesday = await base.store.eventsForDay('2026-12-08');
    expect(tuesday.find((event) => event.type === 'outcome')).toMatchObject({
      result: 'approved',
      actor: { id: 'U0BOB' },
      detail: 'approvals from Alice (U0ALICE), Bob (U0BOB)',
    });
  });
});
