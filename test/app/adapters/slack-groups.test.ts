import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_MAX_AGE_MS, SlackGroups } from '../../../app/adapters/slack-groups.ts';
import type { Log } from '../../../app/core/ports.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';

const quietLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

let slack: SlackSimulator;
let client: WebClient;

beforeAll(async () => {
  slack = await startSlackSimulator({
    botToken: 'xoxb-test',
    signingSecret: 'secret',
    deliver: async () => ({ status: 200, headers: {}, body: '' }),
  });
  client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
});

afterAll(async () => {
  await slack?.close();
});

describe('SlackGroups over the Slack simulator', () => {
  it('says which of the groups asked about a person is in, asking Slack once a minute per group', async () => {
    // Prepare
    let now = 0;
    const groups = new SlackGroups(client, quietLog, 2_000, () => now);
    const asked = () => slack.calls('usergroups.users.list').length;
    const before = asked();
    // Act
    const alice = await groups.groupsOf('U0ALICE', ['S0RELEASERS', 'S0ONCALL']);
    const carol = await groups.groupsOf('U0CAROL', ['S0RELEASERS', 'S0ONCALL']);
    slack.workspace.setUsergroup({ id: 'S0ONCALL', name: 'On-call', handle: 'oncall', users: ['U0ALICE'] });
    const stillRemembered = await groups.groupsOf('U0ALICE', ['S0ONCALL']);
    now = GROUP_MAX_AGE_MS + 1;
    const later = await groups.groupsOf('U0ALICE', ['S0ONCALL']);
    // Assess
    expect([...(alice ?? [])]).toEqual(['S0RELEASERS']);
    expect([...(carol ?? [])]).toEqual(['S0ONCALL']);
    expect([...(stillRemembered ?? [])]).toEqual([]);
    expect([...(later ?? [])]).toEqual(['S0ONCALL']);
    expect(asked() - before).toBe(3);
  });

  it('counts nobody as a member of a group Slack does not know (no_such_subteam)', async () => {
    // Act
    const found = await new SlackGroups(client, quietLog, 2_000).groupsOf('U0ALICE', ['S0NOSUCH']);
    // Assess
    expect(found).toBeUndefined();
  });
});
