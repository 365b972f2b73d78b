import { describe, expect, it } from 'vitest';
import {
  activeFreeze,
  type FreezeRule,
  instantOf,
  nextFreeze,
  onList,
  policyForApproval,
  policyProblems,
  upcomingFreezes,
} from '../../../app/core/policy.ts';

const weekend: FreezeRule = {
  weekly: { from: 'Fri 16:00', to: 'Mon 08:00' },
  timeZone: 'Europe/Berlin',
  reason: 'Weekend',
};
const holidays: FreezeRule = {
  from: '2026-12-21T00:00',
  to: '2027-01-04T08:00',
  timeZone: 'Europe/Berlin',
  reason: 'Holiday freeze',
};
const at = (iso: string) => new Date(iso);
const minuteBefore = (date: Date) => new Date(date.getTime() - 60_000);

describe('weekly freezes', () => {
  it('start and end at the local minute named, in summer time (CEST, UTC+2)', () => {
    // Fri 2026-07-10 16:00 in Berlin is 14:00 UTC; Mon 2026-07-13 08:00 is 06:00 UTC.
    expect(activeFreeze([weekend], at('2026-07-10T13:59:00Z'))).toBeUndefined();
    const frozen = activeFreeze([weekend], at('2026-07-10T14:00:00Z'));
    expect(frozen).toMatchObject({ reason: 'Weekend', endLabel: 'Mon 08:00' });
    expect(frozen?.start.toISOString()).toBe('2026-07-10T14:00:00.000Z');
    expect(frozen?.end.toISOString()).toBe('2026-07-13T06:00:00.000Z');
    expect(activeFreeze([weekend], at('2026-07-13T05:59:00Z'))).toBeDefined();
    expect(activeFreeze([weekend], at('2026-07-13T06:00:00Z'))).toBeUndefined();
  });

  it('across the autumn change (Sun 25 Oct 2026) starts at 16:00 CEST and ends at 08:00 CET', () => {
    const start = at('2026-10-23T14:00:00Z'); // Fri 16:00 CEST
    const end = at('2026-10-26T07:00:00Z'); // Mon 08:00 CET: an hour later in UTC than in summer
    expect(activeFreeze([weekend], minuteBefore(start))).toBeUndefined();
    expect(activeFreeze([weekend], start)?.end.toISOString()).toBe(end.toISOString());
    expect(activeFreeze([weekend], at('2026-10-26T06:30:00Z'))).toBeDefined(); // 07:30 CET, still frozen
    expect(activeFreeze([weekend], minuteBefore(end))).toBeDefined();
    expect(activeFreeze([weekend], end)).toBeUndefined();
  });

  it('across the spring change (Sun 29 Mar 2026) starts at 16:00 CET and ends at 08:00 CEST', () => {
    const start = at('2026-03-27T15:00:00Z'); // Fri 16:00 CET
    const end = at('2026-03-30T06:00:00Z'); // Mon 08:00 CEST
    expect(activeFreeze([weekend], minuteBefore(start))).toBeUndefined();
    expect(activeFreeze([weekend], start)?.end.toISOString()).toBe(end.toISOString());
    expect(activeFreeze([weekend], minuteBefore(end))).toBeDefined();
    expect(activeFreeze([weekend], end)).toBeUndefined();
  });

  it('names the next one, in the zone of its rule, once the last has ended', () => {
    const next = nextFreeze([weekend], at('2026-10-26T07:00:00Z'));
    expect(next?.start.toISOString()).toBe('2026-10-30T15:00:00.000Z'); // Fri 16:00 CET
    expect(next?.end.toISOString()).toBe('2026-11-02T07:00:00.000Z');
    expect(next).toMatchObject({ startLabel: 'Fri 16:00', endLabel: 'Mon 08:00' });
  });
});

describe('dated freezes', () => {
  it('hold from the local start to the local end, and are listed ahead of time', () => {
    expect(activeFreeze([holidays], at('2026-12-20T22:59:00Z'))).toBeUndefined();
    expect(activeFreeze([holidays], at('2026-12-20T23:00:00Z'))?.endLabel).toBe('Mon 4 Jan 08:00');
    expect(activeFreeze([holidays], at('2027-01-04T07:00:00Z'))).toBeUndefined();
    const coming = upcomingFreezes([weekend, holidays], at('2026-12-14T09:00:00Z'), 14);
    expect(coming.map((freeze) => freeze.reason)).toEqual(['Weekend', 'Holiday freeze', 'Weekend']);
  });

  it('shows the freeze that ends last when two are in force', () => {
    // Sat 26 Dec: the weekend and the holidays both hold; the holidays end later.
    expect(activeFreeze([weekend, holidays], at('2026-12-26T12:00:00Z'))?.reason).toBe('Holiday freeze');
  });

  it('read a time skipped by the spring change as moved on by the gap, as calendars do', () => {
    // 02:30 on 29 Mar 2026 does not exist in Berlin (02:00 CET became 03:00 CEST): 03:30 CEST.
    const instant = instantOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin');
    expect(instant.toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });
});

describe('who is on a list', () => {
  it('counts people named and members of the groups named', () => {
    expect(onList(['U0LEAD0001'], 'U0LEAD0001', undefined)).toBe(true);
    expect(onList(['S0RELEASERS'], 'U0ALICE', new Set(['S0RELEASERS']))).toBe(true);
    expect(onList(['S0RELEASERS'], 'U0ALICE', new Set())).toBe(false);
    // Slack could not say: not on the list, rather than letting anyone through.
    expect(onList(['S0RELEASERS'], 'U0ALICE', undefined)).toBe(false);
  });
});

describe('the rules of an approval', () => {
  const products = {
    shop: {
      approvers: ['S0RELEASERS'],
      envs: {
        qa: { stage: 'StagingDEV' },
        prod: { stage: 'StagingQA', approvers: ['S0RELEASERS', 'U0LEAD0001'], required: 2, separateFrom: ['qa'] },
      },
    },
    blog: {},
  };

  it('come from the env of the stage, with the product-level approvers where the env has none', () => {
    const prod = policyForApproval(products, { pipelineName: 'shop-cart', stageName: 'StagingQA', actionName: 'A' });
    expect(prod).toMatchObject({ key: 'shop/prod', required: 2, separateFrom: ['qa'] });
    const qa = policyForApproval(products, { pipelineName: 'shop-cart', stageName: 'StagingDEV', actionName: 'A' });
    expect(qa).toMatchObject({ key: 'shop/qa', approvers: ['S0RELEASERS'], required: 1 });
  });

  it('are none for a product without rules: anyone permitted decides, as before', () => {
    expect(policyForApproval(products, { pipelineName: 'blog-web', stageName: 'StagingQA', actionName: 'A' })).toBe(
      undefined,
    );
  });
});

describe('checking configured rules', () => {
  const envs = (prod: Record<string, unknown>) => ({ qa: {}, prod });

  it('accepts the shape of issue 13', () => {
    const prod = {
      approvers: ['S0RELEASERS', 'U0LEAD0001'],
      required: 2,
      separateFrom: ['qa'],
      freezes: [weekend, holidays],
      breakGlass: ['S0ONCALL'],
    };
    expect(policyProblems('shop', { approvers: ['S0RELEASERS'] }, envs(prod))).toEqual([]);
  });

  it('names product, env and field for each bad rule', () => {
    const problems = policyProblems(
      'shop',
      {},
      envs({
        approvers: ['U0ALICE', 'alice', 'C0CHANNEL'],
        required: 3,
        freezes: [
          { weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin' },
          { weekly: { from: 'Sun 10:00', to: 'Sun 12:00' }, timeZone: 'Europe/Berlin' },
          { from: '2027-01-04T08:00', to: '2026-12-21T00:00', timeZone: 'Europe/Berlin' },
          { weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Mars/Olympus' },
        ],
        separateFrom: ['staging'],
      }),
    );
    expect(problems).toEqual([
      'product "shop" env "prod" approvers: "alice" is neither a Slack user id (U…, W…) nor a user-group id (S…)',
      'product "shop" env "prod" approvers: "C0CHANNEL" is neither a Slack user id (U…, W…) nor a user-group id (S…)',
      'product "shop" env "prod" freezes[2]: ends (2026-12-21T00:00) before it starts (2027-01-04T08:00)',
      'product "shop" env "prod" freezes[3].timeZone: unknown IANA time zone "Mars/Olympus"',
      'product "shop" env "prod" freezes[1]: overlaps freezes[0]',
      'product "shop" env "prod" required: 3 approvals required but only 1 people may approve',
      'product "shop" env "prod" separateFrom: no env "staging" in this product (qa, prod)',
    ]);
  });

  it('lets a group make up any count: how many are in it is Slack’s to say', () => {
    expect(policyProblems('shop', {}, envs({ approvers: ['S0RELEASERS'], required: 5 }))).toEqual([]);
  });
});
