import type { IncomingMessage } from 'node:http';
import { App, AwsLambdaReceiver } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { refusalFor, register, requesterOf } from '../../../app/listeners/guard.ts';
import { lambdaContext, toFunctionUrlEvent } from '../../../sandbox/app/function-url-server.ts';
import { slackRequestHeaders } from '../../../sandbox/slack/signing.ts';
import { memoryLog } from '../../support/fakes.ts';

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

describe('a refused modal submission', () => {
  const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

  /**
   * Submits `view` as Bob through Bolt's Lambda receiver, signed as Slack signs it, with the guard
   * in front of a listener for it; Slack's directory cannot say who Bob is. What Slack gets back,
   * and whether the listener ran.
   */
  async function submitUnchecked(view: Record<string, unknown>) {
    const receiver = new AwsLambdaReceiver({ signingSecret: SIGNING_SECRET });
    const app = new App({
      receiver,
      token: 'xoxb-test',
      botId: 'B0GREENLT',
      botUserId: 'U0GREENLT',
      tokenVerificationEnabled: false,
    });
    register(app, { isGuest: async () => undefined, homeOf: async () => undefined, log: memoryLog() });
    let listened = false;
    app.view('test_modal', async ({ ack }) => {
      listened = true;
      await ack();
    });
    const payload = {
      type: 'view_submission',
      team: { id: 'T0ACME', domain: 'acme' },
      user: { id: 'U0BOB', team_id: 'T0ACME' },
      api_app_id: 'A0GREENLT',
      trigger_id: '1.2.3',
      view: { id: 'V0MODAL', type: 'modal', callback_id: 'test_modal', ...view },
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const headers = slackRequestHeaders(SIGNING_SECRET, Math.floor(Date.now() / 1000), body);
    // As a Lambda Function URL hands it over (the form base64-encoded).
    const request = { url: '/slack/events', method: 'POST', headers, socket: {} } as unknown as IncomingMessage;
    const answer = await receiver.toHandler()(toFunctionUrlEvent(request, Buffer.from(body)), lambdaContext());
    return { answer: JSON.parse(answer.body || '{}'), listened };
  }

  it('keeps the modal open with what was typed, the refusal under its first input, and decides nothing', async () => {
    // Act
    const { answer, listened } = await submitUnchecked({
      blocks: [
        { type: 'section', block_id: 'what', text: { type: 'mrkdwn', text: 'Reject shop-cart?' } },
        {
          type: 'input',
          block_id: 'reason',
          label: { type: 'plain_text', text: 'Why?' },
          element: { type: 'plain_text_input', action_id: 'reason' },
        },
      ],
      state: { values: { reason: { reason: { type: 'plain_text_input', value: 'QA is red' } } } },
    });
    // Assess
    expect(listened).toBe(false);
    expect(answer).toEqual({
      response_action: 'errors',
      errors: { reason: expect.stringMatching(/could not check who you are.*Nothing was changed/) },
    });
  });

  it('shows the refusal in place of a modal that has no input', async () => {
    // Act
    const { answer, listened } = await submitUnchecked({
      blocks: [{ type: 'section', block_id: 'plan', text: { type: 'mrkdwn', text: 'Release 3 services?' } }],
    });
    // Assess
    expect(listened).toBe(false);
    expect(answer).toMatchObject({
      response_action: 'update',
      view: { type: 'modal', blocks: [{ type: 'section', text: { text: expect.stringMatching(/try again/) } }] },
    });
  });
});
