import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactError } from '../../../app/adapters/powertools-log.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, signingSecret, silentLogger, webClient } from '../../sandbox/slack/helpers.ts';

let sim: SlackSimulator;

beforeEach(async () => {
  sim = await startSlackSimulator({ botToken, signingSecret });
  sim.workspace.addChannel({ id: 'C0QUIET', name: 'quiet', botMember: false });
});

afterEach(() => sim.close());

/** The error Slack's Web API client throws for `call`, as a log line shows it. */
async function loggedFailure(call: () => Promise<unknown>): Promise<string> {
  const error = await call().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('The call did not fail');
  return (redactError(error) as Error).message;
}

describe('a Slack refusal that no retry can change, on a log line', () => {
  it('says what to do: invite the bot, check the channel id, or put a new token in the secret', async () => {
    // Prepare
    const client = webClient(sim);
    const revoked = new webApi.WebClient('xoxb-revoked', {
      slackApiUrl: sim.apiUrl,
      retryConfig: { retries: 0 },
      logger: silentLogger,
    });
    // Act
    const notInChannel = await loggedFailure(() => client.chat.postMessage({ channel: 'C0QUIET', text: 'Approval' }));
    const noSuchChannel = await loggedFailure(() =>
      client.chat.postMessage({ channel: 'C0NOWHERE', text: 'Approval' }),
    );
    const badToken = await loggedFailure(() => revoked.auth.test());
    // Assess
    expect(notInChannel).toBe(
      "An API error occurred: not_in_channel: Greenlight's bot is not in that channel: type /invite @Greenlight there",
    );
    expect(noSuchChannel).toMatch(/^An API error occurred: channel_not_found: .*check the channel id/);
    expect(badToken).toMatch(
      /^An API error occurred: invalid_auth: .*put its new bot token in Greenlight's Slack secret \(used within 5 minutes\)$/,
    );
  });

  it('leaves an answer it has no advice for as it is', async () => {
    // Act
    const failure = await loggedFailure(() => webClient(sim).chat.postMessage({ channel: 'C0APPROVALS', text: '' }));
    // Assess
    expect(failure).toBe('An API error occurred: no_text');
  });
});
