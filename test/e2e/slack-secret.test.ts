import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SecretsManagerEmulator, startSecretsManagerEmulator } from '../../sandbox/secrets/index.ts';
import { SANDBOX_CHANNELS, SANDBOX_SECRETS, startWorld, type World } from '../../sandbox/world.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * Greenlight as deployed reads its Slack credentials from Secrets Manager (SLACK_SECRET_ARN), here
 * through the real SDK against the Secrets Manager emulator. An admin regenerates the app's signing
 * secret in Slack and puts it in the secret: the running Greenlight takes it at the next request
 * Slack signs with it, with no deploy and no cold start.
 */

const ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:greenlight-slack-AbC123';
const secretOf = (signingSecret: string) => JSON.stringify({ botToken: SANDBOX_SECRETS.botToken, signingSecret });

let secrets: SecretsManagerEmulator;
let world: World;

beforeAll(async () => {
  secrets = await startSecretsManagerEmulator({ [ARN]: secretOf(SANDBOX_SECRETS.signingSecret) });
  world = await startWorld({
    pipelineEvents: false,
    env: { SLACK_SECRET_ARN: ARN, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url },
  });
});

afterAll(async () => {
  await world?.close();
  await secrets?.close();
});

const help = () => world.slack.slashCommand('U0ALICE', SANDBOX_CHANNELS.approvals, '/release', 'help');

describe('the Slack secret, followed while Greenlight runs', () => {
  it('takes a regenerated signing secret from the secret at the first request signed with it', async () => {
    // Prepare: Greenlight answers with the secret it read at start.
    expect((await help()).status).toBe(200);
    const readsAtStart = secrets.reads(ARN);
    expect(readsAtStart).toBeGreaterThan(0);
    // Act: the admin regenerates it in Slack and puts it in the secret.
    world.slack.regenerateSigningSecret('regenerated-signing-secret');
    secrets.put(ARN, secretOf('regenerated-signing-secret'));
    const answer = await help();
    // Assess: answered, after one more read of the secret; and the old secret is refused from now on.
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(3_000);
    expect(secrets.reads(ARN)).toBe(readsAtStart + 1);
    expect((await help()).status).toBe(200);
    expect(secrets.reads(ARN)).toBe(readsAtStart + 1);
  });

  it('refuses requests signed with another secret, reading the secret again at most once a minute', async () => {
    // Prepare
    world.slack.regenerateSigningSecret('someone-elses-secret');
    const before = secrets.reads(ARN);
    try {
      // Act
      const answers = [await help(), await help(), await help()];
      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401]);
      expect(secrets.reads(ARN) - before).toBeLessThanOrEqual(1);
    } finally {
      world.slack.regenerateSigningSecret('regenerated-signing-secret');
    }
  });
});
