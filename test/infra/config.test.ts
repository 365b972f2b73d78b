import { spawnSync } from 'node:child_process';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { productPrefix, readSettings, SettingsError } from '../../infra/config.ts';

/** Context as the CDK CLI passes `-c key=value`: every value a string. */
const fromContext = (context: Record<string, unknown>) => readSettings((key) => context[key]);

describe('readSettings', () => {
  it('defaults to weekday 08:00 Berlin digests, a month of logs and no demo', () => {
    // Act
    const settings = fromContext({});
    // Assess
    expect(settings).toEqual({
      products: {},
      approvalsChannel: undefined,
      digestChannel: undefined,
      digestSchedule: 'cron(0 8 ? * MON-FRI *)',
      digestTimeZone: 'Europe/Berlin',
      logRetention: RetentionDays.ONE_MONTH,
      logLevel: 'INFO',
      publisherRoleArns: [],
      alarmTopicArn: undefined,
      demo: undefined,
    });
  });

  it('reads the values the CLI passes as strings', () => {
    // Act
    const settings = fromContext({
      products: '{"shop":{},"payments":{"prefix":"pay-","channel":"C0PAYMENTS"}}',
      approvalsChannel: 'C0123456789',
      digestChannel: 'G0123456789',
      digestSchedule: 'cron(30 7 ? * MON-FRI *)',
      digestTimeZone: 'UTC',
      logRetentionDays: '90',
      logLevel: 'debug',
      publisherRoleArns: 'arn:aws:iam::123456789012:role/a, arn:aws:iam::123456789012:role/service-role/b',
      alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:on-call',
      demo: 'true',
      demoServices: '3',
    });
    // Assess
    expect(settings).toMatchObject({
      products: { shop: {}, payments: { prefix: 'pay-', channel: 'C0PAYMENTS' }, demo: {} },
      approvalsChannel: 'C0123456789',
      digestChannel: 'G0123456789',
      digestSchedule: 'cron(30 7 ? * MON-FRI *)',
      digestTimeZone: 'UTC',
      logRetention: RetentionDays.THREE_MONTHS,
      logLevel: 'DEBUG',
      publisherRoleArns: ['arn:aws:iam::123456789012:role/a', 'arn:aws:iam::123456789012:role/service-role/b'],
      demo: { product: 'demo', services: 3 },
    });
  });

  it('reads JSON values from cdk.json as they are', () => {
    // Act
    const settings = fromContext({
      products: { shop: {} },
      publisherRoleArns: ['arn:aws:iam::123456789012:role/a'],
      demo: true,
    });
    // Assess
    expect(settings.products).toEqual({ shop: {}, demo: {} });
    expect(settings.publisherRoleArns).toEqual(['arn:aws:iam::123456789012:role/a']);
  });

  it.each([
    ['products', 'not json', /products.*not valid JSON/],
    ['products', '["shop"]', /products.*JSON object/],
    ['products', '{"Shop!":{}}', /products.*product names/],
    ['products', '{"shop":{"prefix":"*"}}', /products.*prefix/],
    ['products', '{"shop":{"prefix":""}}', /products.*prefix/],
    ['products', '{"shop":true}', /products.*overrides/],
    ['products', '{"shop":{"prefx":"shop-"}}', /products.*unknown keys prefx/],
    ['approvalsChannel', '#releases', /approvalsChannel.*channel ID/],
    ['digestSchedule', '0 8 * * *', /digestSchedule/],
    ['digestTimeZone', 'Mars/Olympus', /digestTimeZone.*IANA/],
    ['logRetentionDays', '42', /logRetentionDays/],
    ['logLevel', 'LOUD', /logLevel/],
    ['publisherRoleArns', 'arn:aws:iam::123456789012:user/bob', /publisherRoleArns/],
    ['alarmTopicArn', 'on-call', /alarmTopicArn/],
    ['demo', 'yes', /demo/],
  ])('rejects %s=%s with a message naming the key', (key, value, message) => {
    // Act
    const read = () => fromContext({ [key]: value });
    // Assess
    expect(read).toThrow(SettingsError);
    expect(read).toThrow(message);
  });

  it('rejects a demo of more than ten services', () => {
    expect(() => fromContext({ demo: 'true', demoServices: '11' })).toThrow(/demoServices/);
  });

  it('scopes a product to <product>- unless it names its own prefix', () => {
    expect(productPrefix('shop', {})).toBe('shop-');
    expect(productPrefix('payments', { prefix: 'pay-' })).toBe('pay-');
  });
});

describe('the CDK app (infra/main.ts)', () => {
  it('answers a wrong -c value with its message alone and exit code 1, not a stack trace', () => {
    // Act: what `npx cdk deploy -c products=nope` hands the app
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/main.ts'], {
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ products: 'nope' }),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^Context "products": not valid JSON/);
    expect(run.stderr).toContain('README.md, "Deploy to AWS"');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
