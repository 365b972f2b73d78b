import { describe, expect, it } from 'vitest';
import { envPolicy } from '../../../app/core/policy.ts';
import { digestMessages } from '../../../app/views/digest-message.ts';
import { envRulesText, upcomingFreezeLines } from '../../../app/views/policy-text.ts';

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

  it('list the freezes of the coming week in the digest', () => {
    // Prepare
    expect(upcomingFreezeLines([prod], wednesday)).toHaveLength(1);
    // Act
    const { top } = digestMessages({
      day: '2026-12-02',
      now: wednesday,
      waiting: [],
      outdated: 0,
      decided: [],
      products: [],
      unreadable: [],
      freezes: [prod],
    });
    // Assess
    const text = JSON.stringify(top.blocks);
    expect(text).toContain('*Freezes now and in the next 7 days*');
    expect(text).toContain('❄️ shop prod — Weekend: ');
  });

  it('list a freeze in force when the digest is posted first, with its end', () => {
    // Prepare: Monday 07:30 in Berlin, inside the weekend freeze that ends at 08:00
    const mondayMorning = new Date('2026-12-07T06:30:00Z');
    // Act
    const lines = upcomingFreezeLines([prod], mondayMorning);
    // Assess: the freeze now, then next weekend's
    expect(lines).toEqual([
      '❄️ shop prod — frozen now: Weekend until <!date^1796626800^{date_short_pretty} at {time}|2026-12-07 07:00 UTC>',
      '❄️ shop prod — Weekend: <!date^1797001200^{date_short_pretty} at {time}|2026-12-11 15:00 UTC> until <!date^1797231600^{date_short_pretty} at {time}|2026-12-14 07:00 UTC>',
    ]);
  });
});
