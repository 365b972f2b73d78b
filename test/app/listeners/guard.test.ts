import { describe, expect, it } from 'vitest';
import { refusalFor, requesterOf } from '../../../app/listeners/guard.ts';

describe('who may use Greenlight', () => {
  it('lets a member of the workspace click', () => {
    // Prepare
    const click = { type: 'block_actions', user: { id: 'U0ALICE', team_id: 'T0ACME' }, team: { id: 'T0ACME' } };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false);
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('refuses a person from another organisation in a shared channel', () => {
    // Prepare
    const click = {
      type: 'block_actions',
      user: { id: 'U0MALLORY', team_id: 'T0OTHER' },
      team: { id: 'T0ACME' },
      container: { channel_id: 'C0APPROVALS' },
    };
    // Act
    const requester = requesterOf(click);
    // Assess
    expect(requester).toEqual({ userId: 'U0MALLORY', userTeam: 'T0OTHER', team: 'T0ACME', channel: 'C0APPROVALS' });
    expect(refusalFor(requester ?? { userId: '' }, false)).toMatch(/another organisation/);
  });

  it('refuses a guest, from a slash command too', () => {
    // Prepare
    const command = { command: '/release', user_id: 'U0GUEST', team_id: 'T0ACME', channel_id: 'C0RELEASES' };
    // Act
    const requester = requesterOf(command);
    // Assess
    expect(requester).toEqual({ userId: 'U0GUEST', team: 'T0ACME', channel: 'C0RELEASES' });
    expect(refusalFor(requester ?? { userId: '' }, true)).toMatch(/Guests cannot/);
  });

  it('lets a member of an Enterprise Grid org act from another workspace of the org', () => {
    // Prepare
    const click = {
      type: 'block_actions',
      user: { id: 'U0GRID', team_id: 'T0HOME' },
      team: { id: 'T0ACME' },
      enterprise: { id: 'E0ORG' },
    };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false);
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('asks to try again when Slack cannot say in time whether the person is a guest', () => {
    // Act
    const refusal = refusalFor({ userId: 'U0ALICE', userTeam: 'T0ACME', team: 'T0ACME' }, undefined);
    // Assess
    expect(refusal).toMatch(/try again/);
  });
});
