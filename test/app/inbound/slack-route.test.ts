import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../app/config.ts';
import type { Metrics } from '../../../app/core/ports.ts';
import { slackDeps, slackRoute } from '../../../app/inbound/slack.ts';
import { lambdaContext, toFunctionUrlEvent } from '../../../sandbox/app/function-url-server.ts';
import { slackRequestHeaders } from '../../../sandbox/slack/signing.ts';
import { memoryLog } from '../../support/fakes.ts';

/*
 * The Slack way in counts the requests it refuses for their signature: many at once mean the
 * signing secret Greenlight holds is not the app's, and every click fails (an alarm watches it).
 */

const counted: { name: string; dimensions?: Record<string, string> }[] = [];
const metrics: Metrics = { count: (name, dimensions) => counted.push({ name, ...(dimensions ? { dimensions } : {}) }) };
const log = memoryLog();
const config = loadConfig({
  SLACK_BOT_TOKEN: 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  APPROVALS_CHANNEL: 'C0APPROVALS',
  AWS_REGION: 'eu-central-1',
});

/** `/release help` as a Function URL hands it over, signed with `signingSecret`. */
function command(signingSecret: string) {
  const body = new URLSearchParams({ command: '/release', text: 'help', user_id: 'U0ALICE', team_id: 'T0ACME' });
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    ...slackRequestHeaders(signingSecret, Math.floor(Date.now() / 1000), body.toString()),
  };
  const request = { url: '/slack/events', method: 'POST', headers, socket: {} } as unknown as IncomingMessage;
  return toFunctionUrlEvent(request, Buffer.from(body.toString()));
}

describe('the Slack way in', () => {
  it('refuses and counts a request signed with another secret, touching nothing', async () => {
    // Prepare
    const route = slackRoute(await slackDeps(config, { log, metrics }));
    // Act
    const answer = await route(command('not-the-apps-secret'), lambdaContext());
    // Assess
    expect(answer.statusCode).toBe(401);
    expect(counted).toEqual([{ name: 'SlackRequestRefused' }]);
    expect(log.entries.map((entry) => entry.message)).toContain(
      'Refused a Slack request with a bad or stale signature',
    );
  });
});
