import { describe, expect, it } from 'vitest';
import { envPolicy } from '../../../app/core/policy.ts';
import { digestMessages } from '../../../app/views/digest-message.ts';
import { envRulesText, freezeDigestText, productRulesText } from '../../../app/views/policy-text.ts';

const prod = envPolicy(
  'shop',
  'prod',
  { approvers: ['S0RELEASERS'] },
  {
    required: 2,
    separateFrom: ['qa'],
    freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' }],
    breakGlass: ['S0ONCALL'],
  },
);
/** Wednesday 2026-12-02 10:00 in Berlin. */
const wednesday = new Date('2026-12-02T09:00:00Z');

describe('the approval rules in plain words', () => {
  it('say who, how many, the separation and the next freeze', () => {
    expect(envRulesText(prod, wednesday)).toBe(
      [
        '*prod*',
        '• Who may approve: <!subteam^S0RELEASERS>',
        '• How many: 2 approvals from different people',
        '• Four eyes: whoever approved a revision into qa may not approve it here',
        '• Next freeze: Weekend: <!date^1796396400^{date_short_pretty} at {time}|2026-12-04 15:00 UTC> until <!date^1796626800^{date_short_pretty} at {time}|2026-12-07 07:00 UTC>',
        '• During a freeze, <!subteam^S0ONCALL> may still approve, giving a reason (break glass)',
      ].join('\n'),
    );
  });

  it('say that Greenlight approves safe change sets itself where an env lets it, and list that env', () => {
    // Prepare: `orders` live approves safe change sets; qa has no rules at all
    const live = envPolicy('orders', 'live', {}, { autoApprove: 'safe-changes' });
    const qa = envPolicy('orders', 'qa', {}, {});
    // Act
    const text = productRulesText('orders', [qa, live], wednesday);
    // Assess
    expect(text).toContain('*qa*\n• Who may approve: anyone in the workspace');
    expect(text).toContain(
      '*live*\n• Who may approve: anyone in the workspace\n• How many: one approval\n• Greenlight approves a change set that replaces, removes and grants nothing itself',
    );
    expect(productRulesText('blog', [qa], wednesday)).toBe('*blog* has no approval rules: anyone may approve.');
  });

  it('list the freezes of the coming week in the digest', () => {
    // Act
    const { top } = digestMessages({
      day: '2026-12-02',
      now: wednesday,
      decidedSince: new Date(wednesday.getTime() - 24 * 60 * 60 * 1000),
      waiting: [],
      outdated: 0,
      decided: [],
      products: [],
      unreadable: [],
      freezes: [prod],
    });
    // Assess
    const text = JSON.stringify(top.blocks);
    expect(text).toContain('*Freezes in the next 7 days*\\n❄️ shop prod — Weekend: ');
    expect(text).not.toContain('frozen now');
  });

  it('list a freeze in force when the digest is posted first, with its end', () => {
    // Prepare: Monday 07:30 in Berlin, inside the weekend freeze that ends at 08:00
    const mondayMorning = new Date('2026-12-07T06:30:00Z');
    // Act
    const text = freezeDigestText([prod], mondayMorning);
    // Assess: the freeze now, then next weekend's
    expect(text?.split('\n')).toEqual([
      '*Freezes now and in the next 7 days*',
      '❄️ shop prod — frozen now: Weekend until <!date^1796626800^{date_short_pretty} at {time}|2026-12-07 07:00 UTC>',
      '❄️ shop prod — Weekend: <!date^1797001200^{date_short_pretty} at {time}|2026-12-11 15:00 UTC> until <!date^1797231600^{date_short_pretty} at {time}|2026-12-14 07:00 UTC>',
    ]);
  });

  it('list two rules that start at the same instant both, and every env soonest first', () => {
    // Prepare: shop prod's weekend freeze plus a release-train freeze that starts with it, and a
    // dated freeze of pay prod that starts sooner
    const train = {
      weekly: { from: 'Fri 16:00', to: 'Fri 20:00' },
      timeZone: 'Europe/Berlin',
      reason: 'Release train',
    };
    const shop = envPolicy('shop', 'prod', { approvers: ['S0RELEASERS'] }, { freezes: [...prod.freezes, train] });
    const pay = envPolicy(
      'pay',
      'prod',
      { approvers: ['S0RELEASERS'] },
      { freezes: [{ from: '2026-12-03T18:00', to: '2026-12-03T22:00', timeZone: 'Europe/Berlin', reason: 'Audit' }] },
    );
    // Act
    const text = freezeDigestText([shop, pay], wednesday);
    // Assess
    expect(text?.split('\n').map((line) => line.split(':')[0])).toEqual([
      '*Freezes in the next 7 days*',
      '❄️ pay prod — Audit',
      '❄️ shop prod — Weekend',
      '❄️ shop prod — Release train',
    ]);
  });

  it('leave the digest without a freeze section when none is coming', () => {
    const open = envPolicy('shop', 'prod', { approvers: ['S0RELEASERS'] }, {});
    expect(freezeDigestText([open], wednesday)).toBeUndefined();
  });
});
