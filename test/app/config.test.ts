import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseSlackSecret } from '../../app/config.ts';

/** What a local run needs, as `.env` would give it. */
const minimal = {
  SLACK_BOT_TOKEN: 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  APPROVALS_CHANNEL: 'C0APPROVALS',
};

/** The message loadConfig fails with. */
function failure(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('runs locally with a bot token, a signing secret and a channel', () => {
    // Act
    const config = loadConfig({ ...minimal, PATH: '/usr/bin', HOME: '/home/dev' });
    // Assess
    expect(config).toEqual({
      slack: { credentials: { botToken: minimal.SLACK_BOT_TOKEN, signingSecret: minimal.SLACK_SIGNING_SECRET } },
      slackApiUrl: 'https://slack.com/api/',
      approvalsChannel: 'C0APPROVALS',
      digestChannel: 'C0APPROVALS',
      products: {},
    });
  });

  it('reads the Lambda settings: secret ARN, table, queue, region and a digest channel', () => {
    // Act
    const config = loadConfig({
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:greenlight/slack-AbCdEf',
      APPROVALS_TABLE: 'greenlight-approvals',
      APPROVALS_CHANNEL: 'C0APPROVALS',
      DIGEST_CHANNEL: 'C0DIGEST',
      RELEASE_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/greenlight-release',
      AWS_REGION: 'eu-central-1',
    });
    // Assess
    expect(config).toMatchObject({
      slack: { secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:greenlight/slack-AbCdEf' },
      approvalsTable: 'greenlight-approvals',
      digestChannel: 'C0DIGEST',
      releaseQueueUrl: 'https://sqs.eu-central-1.amazonaws.com/123456789012/greenlight-release',
      region: 'eu-central-1',
    });
  });

  it('posts the digest to the approvals channel unless told otherwise', () => {
    // Act
    const config = loadConfig(minimal);
    // Assess
    expect(config.digestChannel).toBe('C0APPROVALS');
  });

  it('adds the trailing slash the Slack client needs to an API URL', () => {
    // Act
    const config = loadConfig({ ...minimal, SLACK_API_URL: 'http://127.0.0.1:3001/api' });
    // Assess
    expect(config.slackApiUrl).toBe('http://127.0.0.1:3001/api/');
  });

  it('takes an empty variable as unset', () => {
    // Act
    const config = loadConfig({ ...minimal, DIGEST_CHANNEL: '', SLACK_API_URL: '', APPROVALS_TABLE: '', PRODUCTS: '' });
    // Assess
    expect(config.digestChannel).toBe('C0APPROVALS');
    expect(config.slackApiUrl).toBe('https://slack.com/api/');
    expect(config).not.toHaveProperty('approvalsTable');
    expect(config.products).toEqual({});
  });

  it('reads product overrides', () => {
    // Act
    const config = loadConfig({
      ...minimal,
      PRODUCTS: JSON.stringify({ shop: { prefix: 'webshop-', envs: { qa: { stage: 'IntegrationTest' } } } }),
    });
    // Assess
    expect(config.products).toEqual({ shop: { prefix: 'webshop-', envs: { qa: { stage: 'IntegrationTest' } } } });
  });

  it('gives a configuration nobody can change', () => {
    // Act
    const config = loadConfig(minimal);
    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { approvalsChannel: string }).approvalsChannel = 'C0OTHER';
    }).toThrow(TypeError);
  });

  it.each([
    ['APPROVALS_CHANNEL is missing', { APPROVALS_CHANNEL: undefined }, 'APPROVALS_CHANNEL is required'],
    ['APPROVALS_CHANNEL is empty', { APPROVALS_CHANNEL: '' }, 'APPROVALS_CHANNEL is required'],
    [
      'APPROVALS_CHANNEL is a #name',
      { APPROVALS_CHANNEL: '#general' },
      'APPROVALS_CHANNEL must be a Slack channel ID such as C0123ABCD (not a #name)',
    ],
    ['DIGEST_CHANNEL is a #name', { DIGEST_CHANNEL: '#releases' }, 'DIGEST_CHANNEL must be a Slack channel ID'],
    ['SLACK_BOT_TOKEN is missing', { SLACK_BOT_TOKEN: undefined }, 'SLACK_BOT_TOKEN required (or SLACK_SECRET_ARN)'],
    [
      'both Slack credentials are missing',
      { SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: '' },
      'SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET required (or SLACK_SECRET_ARN)',
    ],
    ['SLACK_SECRET_ARN is no ARN', { SLACK_SECRET_ARN: 'greenlight/slack' }, 'SLACK_SECRET_ARN must be a Secrets'],
    ['SLACK_API_URL is no URL', { SLACK_API_URL: 'slack.com/api' }, 'SLACK_API_URL must be'],
    ['SLACK_API_URL is not HTTP', { SLACK_API_URL: 'ftp://slack.com/api/' }, 'SLACK_API_URL must be'],
    ['RELEASE_QUEUE_URL is a queue name', { RELEASE_QUEUE_URL: 'greenlight-release' }, 'RELEASE_QUEUE_URL must be'],
    ['PRODUCTS is not JSON', { PRODUCTS: "{shop: {prefix: 'shop-'}}" }, 'PRODUCTS must be JSON'],
    [
      'a PRODUCTS stage is no stage name',
      { PRODUCTS: JSON.stringify({ shop: { envs: { qa: { stage: 'Staging DEV' } } } }) },
      'PRODUCTS has shop.envs.qa.stage: a CodePipeline stage name',
    ],
    [
      'a PRODUCTS field is unknown',
      { PRODUCTS: JSON.stringify({ shop: { prefix: 'shop-', stages: ['StagingDEV'] } }) },
      'PRODUCTS has shop',
    ],
    [
      'a PRODUCTS channel is a #name',
      { PRODUCTS: JSON.stringify({ shop: { channel: '#shop-releases' } }) },
      'PRODUCTS has shop.channel: a Slack channel ID',
    ],
  ])('fails at start when %s, naming the variable', (_case, change, expected) => {
    // Act
    const message = failure({ ...minimal, ...change });
    // Assess
    expect(message).toContain(expected);
  });

  it('names every bad variable at once', () => {
    // Act
    const message = failure({ ...minimal, APPROVALS_CHANNEL: '#general', SLACK_API_URL: 'slack' });
    // Assess
    expect(message).toContain('APPROVALS_CHANNEL');
    expect(message).toContain('SLACK_API_URL');
  });

  it('never repeats a secret in its message', () => {
    // Act
    const message = failure({ ...minimal, APPROVALS_CHANNEL: undefined });
    // Assess
    expect(message).not.toContain(minimal.SLACK_BOT_TOKEN);
    expect(message).not.toContain(minimal.SLACK_SIGNING_SECRET);
  });
});

describe('parseSlackSecret', () => {
  const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:greenlight/slack-AbCdEf';

  it('reads the Slack credentials from the secret', () => {
    // Act
    const credentials = parseSlackSecret('{"botToken":"xoxb-1-2-abc","signingSecret":"s3cr3t"}', arn);
    // Assess
    expect(credentials).toEqual({ botToken: 'xoxb-1-2-abc', signingSecret: 's3cr3t' });
  });

  it.each([
    ['empty', undefined],
    ['not JSON', 'xoxb-1-2-abc'],
    ['missing the signing secret', '{"botToken":"xoxb-1-2-abc"}'],
  ])('names the secret and its expected shape when it is %s', (_case, secret) => {
    // Act
    const parse = () => parseSlackSecret(secret, arn);
    // Assess
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(`The secret ${arn} must hold JSON {"botToken":"xoxb-…","signingSecret":"…"}.`);
  });
});
