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
    // Prepare: the payload names only her home workspace; Slack's directory places it in the org
    const click = {
      type: 'block_actions',
      user: { id: 'U0GRID', team_id: 'T0HOME' },
      team: { id: 'T0ACME' },
      enterprise: { id: 'E0ORG' },
    };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false, { team: 'T0HOME', enterprise: 'E0ORG' });
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('lets a member of an Enterprise Grid org act when Slack reports the org as her team', () => {
    // Prepare: Slack may put the org's id (E…) in user.team_id instead of a workspace id
    const click = {
      type: 'block_actions',
      user: { id: 'U0GRID', team_id: 'E0ORG' },
      team: { id: 'T0ACME', enterprise_id: 'E0ORG' },
      enterprise: { id: 'E0ORG' },
    };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false);
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('refuses a person of another Enterprise Grid org, though the request carries an enterprise', () => {
    // Prepare
    const click = {
      type: 'block_actions',
      user: { id: 'U0MALLORY', team_id: 'E0OTHER' },
      team: { id: 'T0ACME', enterprise_id: 'E0ORG' },
      enterprise: { id: 'E0ORG' },
      container: { channel_id: 'C0APPROVALS' },
    };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false, { team: 'T0EVIL', enterprise: 'E0OTHER' });
    // Assess
    expect(refusal).toMatch(/another organisation/);
  });

  it('refuses a person from another organisation in a shared channel of an Enterprise Grid org', () => {
    // Prepare: her workspace is not the org's, which only Slack's directory can tell
    const click = {
      type: 'block_actions',
      user: { id: 'U0MALLORY', team_id: 'T0OTHER' },
      team: { id: 'T0ACME' },
      enterprise: { id: 'E0ORG' },
    };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false, { team: 'T0OTHER' });
    // Assess
    expect(refusal).toMatch(/another organisation/);
  });

  it('refuses a person from another organisation who uses the slash command in a workspace of an org', () => {
    // Prepare: a slash command names no team of the person at all
    const command = {
      command: '/release',
      user_id: 'U0MALLORY',
      team_id: 'T0ACME',
      enterprise_id: 'E0ORG',
      channel_id: 'C0RELEASES',
    };
    // Act
    const requester = requesterOf(command);
    // Assess
    expect(requester).toEqual({ userId: 'U0MALLORY', team: 'T0ACME', enterprise: 'E0ORG', channel: 'C0RELEASES' });
    expect(refusalFor(requester ?? { userId: '' }, false, { team: 'T0OTHER', enterprise: 'E0OTHER' })).toMatch(
      /another organisation/,
    );
    expect(refusalFor(requester ?? { userId: '' }, false, { team: 'T0ACME', enterprise: 'E0ORG' })).toBeUndefined();
  });

  it('refuses a person from another organisation who uses the slash command in a workspace outside any org', () => {
    // Prepare
    const command = { command: '/release', user_id: 'U0MALLORY', team_id: 'T0ACME', channel_id: 'C0RELEASES' };
    // Act
    const refusal = refusalFor(requesterOf(command) ?? { userId: '' }, false, { team: 'T0OTHER' });
    // Assess
    expect(refusal).toMatch(/another organisation/);
  });

  it('asks to try again when Slack cannot say in time which organisation the person belongs to', () => {
    // Prepare
    const click = {
      type: 'block_actions',
      user: { id: 'U0GRID', team_id: 'T0HOME' },
      team: { id: 'T0ACME' },
      enterprise: { id: 'E0ORG' },
    };
    // Act
    const refusal = refusalFor(requesterOf(click) ?? { userId: '' }, false, undefined);
    // Assess
    expect(refusal).toMatch(/try again/);
  });

  it('asks to try again when Slack cannot say in time whether the person is a guest', () => {
    // Act
    const refusal = refusalFor({ userId: 'U0ALICE', userTeam: 'T0ACME', team: 'T0ACME' }, undefined);
    // Assess
    expect(refusal).toMatch(/try again/);
  });
});
