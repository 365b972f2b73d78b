import type { WebClient } from '@slack/web-api';
import { describe, expect, it, vi } from 'vitest';
import { SlackPeople } from '../../../app/adapters/slack-people.ts';
import type { Log } from '../../../app/core/ports.ts';

const MINUTE = 60_000;

const quietLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** What `users.info` says about U0ALICE right now; a test changes it as an admin would in Slack. */
function directory(user: Record<string, unknown>) {
  const state = { user };
  const info = vi.fn(async () => ({ ok: true, user: state.user }));
  return { state, info, slack: { users: { info } } as unknown as WebClient };
}

const member = { id: 'U0ALICE', team_id: 'T0ACME', name: 'alice', profile: { display_name: 'Alice' } };

describe('SlackPeople', () => {
  it('stops letting a member decide within minutes of her being made a guest', async () => {
    // Prepare
    let now = 0;
    const slack = directory(member);
    const people = new SlackPeople(slack.slack, quietLog, 1_000, () => now);
    expect(await people.isGuest('U0ALICE')).toBe(false);
    // Act: an admin makes her a multi-channel guest
    slack.state.user = { ...member, is_restricted: true };
    now = 5 * MINUTE + 1;
    const guest = await people.isGuest('U0ALICE');
    // Assess
    expect(guest).toBe(true);
  });

  it('asks Slack about a guest at most once in a few minutes, for the click budget', async () => {
    // Prepare
    let now = 0;
    const slack = directory(member);
    const people = new SlackPeople(slack.slack, quietLog, 1_000, () => now);
    // Act
    await people.isGuest('U0ALICE');
    now = 4 * MINUTE;
    await people.isGuest('U0ALICE');
    await people.displayName('U0ALICE', 'alice');
    // Assess
    expect(slack.info).toHaveBeenCalledTimes(1);
  });

  it('asks to try again rather than trusting an outdated answer when Slack does not answer in time', async () => {
    // Prepare
    let now = 0;
    const slack = directory(member);
    const people = new SlackPeople(slack.slack, quietLog, 50, () => now);
    await people.isGuest('U0ALICE');
    slack.info.mockImplementation(() => new Promise(() => {}));
    now = 6 * MINUTE;
    // Act
    const guest = await people.isGuest('U0ALICE');
    const name = await people.displayName('U0ALICE', 'alice');
    // Assess: the name may be old, whether she may decide may not
    expect(guest).toBeUndefined();
    expect(name).toBe('Alice');
  });

  it('keeps a display name longer than a guest flag, then learns the new one', async () => {
    // Prepare
    let now = 0;
    const slack = directory(member);
    const people = new SlackPeople(slack.slack, quietLog, 1_000, () => now);
    await people.displayName('U0ALICE', 'alice');
    slack.state.user = { ...member, profile: { display_name: 'Alice B.' } };
    // Act
    now = 30 * MINUTE;
    const soon = await people.displayName('U0ALICE', 'alice');
    now = 61 * MINUTE;
    const later = await people.displayName('U0ALICE', 'alice');
    // Assess
    expect(soon).toBe('Alice');
    expect(later).toBe('Alice B.');
  });

  it('places a person in her workspace and Enterprise Grid org as Slack’s directory has them', async () => {
    // Prepare
    const slack = directory({
      ...member,
      team_id: 'T0HOME',
      enterprise_user: { id: 'U0ALICE', enterprise_id: 'E0ORG', enterprise_name: 'Acme', teams: ['T0HOME', 'T0ACME'] },
    });
    const people = new SlackPeople(slack.slack, quietLog, 1_000);
    // Act
    const home = await people.homeOf('U0ALICE');
    // Assess
    expect(home).toEqual({ team: 'T0HOME', enterprise: 'E0ORG' });
  });

  it('cannot place a person when Slack does not answer', async () => {
    // Prepare
    const slack = directory(member);
    slack.info.mockRejectedValue(new Error('user_not_found'));
    const people = new SlackPeople(slack.slack, quietLog, 1_000);
    // Act
    const home = await people.homeOf('U0ALICE');
    // Assess
    expect(home).toBeUndefined();
  });
});
