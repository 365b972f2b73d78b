import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssumedRoleCredentials } from '../../../app/adapters/sts-credentials.ts';
import { RoleNotAssumedError, TransientError } from '../../../app/core/errors.ts';
import type { PipelineTarget } from '../../../app/core/products.ts';
import { type StsEmulator, startStsEmulator } from '../../../sandbox/sts/index.ts';
import { fixedClock, memoryLog } from '../../support/fakes.ts';

/*
 * The role Greenlight assumes in a pipeline's account, through the real @aws-sdk/client-sts over
 * loopback against the STS emulator (awsQuery: form-encoded POST, XML answers).
 */

const target: PipelineTarget = {
  account: '111122223333',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::111122223333:role/GreenlightAccess',
};
const EXTERNAL_ID = 'greenlight-test';

let sts: StsEmulator;
let client: STSClient;

beforeAll(async () => {
  sts = await startStsEmulator({ roles: [{ roleArn: target.roleArn, externalId: EXTERNAL_ID }] });
  client = new STSClient({
    endpoint: sts.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAGREENLIGHT', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await sts?.close();
});

function role(overrides: Partial<PipelineTarget> & { externalId?: string } = {}) {
  const clock = fixedClock(new Date().toISOString());
  const log = memoryLog();
  const counted: Array<{ name: string; dimensions?: Record<string, string> }> = [];
  const credentials = new AssumedRoleCredentials({
    sts: client,
    target: { ...target, ...overrides },
    externalId: overrides.externalId ?? EXTERNAL_ID,
    sessionName: 'greenlight-read',
    clock,
    log,
    metrics: { count: (name, dimensions) => counted.push({ name, ...(dimensions ? { dimensions } : {}) }) },
  });
  return { credentials, clock, log, counted };
}

const assumeCalls = () => sts.calls('AssumeRole').length;

describe('AssumedRoleCredentials', () => {
  it('assumes the role with the external id and gives the SDK its temporary credentials', async () => {
    // Prepare
    const { credentials } = role();
    // Act
    const identity = await credentials.provide();
    // Assess
    expect(identity.accessKeyId).toMatch(/^ASIA/);
    expect(identity.sessionToken).not.toBe('');
    expect(identity.accountId).toBe(target.account);
    expect(sts.issued(identity.accessKeyId)).toMatchObject({ account: target.account, roleArn: target.roleArn });
    expect(identity.expiration.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
  });

  it('asks STS once for calls at the same time and while the credentials last, and again shortly before they expire', async () => {
    // Prepare
    const { credentials, clock } = role();
    const before = assumeCalls();
    // Act
    const together = await Promise.all([credentials.provide(), credentials.provide(), credentials.provide()]);
    clock.advance(50 * 60_000);
    const warm = await credentials.provide();
    clock.advance(6 * 60_000);
    const renewed = await credentials.provide();
    // Assess
    expect(new Set(together.map((c) => c.accessKeyId)).size).toBe(1);
    expect(warm.accessKeyId).toBe(together[0]?.accessKeyId);
    expect(renewed.accessKeyId).not.toBe(warm.accessKeyId);
    expect(assumeCalls() - before).toBe(2);
  });

  it('names the account, logs and counts a role that does not trust Greenlight with this external id', async () => {
    // Prepare
    const { credentials, log, counted } = role({ externalId: 'someone-else' });
    // Act
    const failure = await credentials.provide().catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(RoleNotAssumedError);
    expect((failure as RoleNotAssumedError).message).toContain('AWS account 111122223333');
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        context: expect.objectContaining({ account: target.account, roleArn: target.roleArn, error: 'AccessDenied' }),
      }),
    );
    expect(counted).toEqual([{ name: 'RoleNotAssumed', dimensions: { account: target.account } }]);
  });

  it('tries again on the next call after a failure instead of remembering it', async () => {
    // Prepare
    const missing = 'arn:aws:iam::111122223333:role/NotYetDeployed';
    const { credentials } = role({ roleArn: missing });
    await expect(credentials.provide()).rejects.toBeInstanceOf(RoleNotAssumedError);
    // Act: the access stack gets deployed
    sts.putRole({ roleArn: missing, externalId: EXTERNAL_ID });
    const identity = await credentials.provide();
    // Assess
    expect(sts.issued(identity.accessKeyId)?.roleArn).toBe(missing);
  });

  it('treats an STS that does not answer as a passing failure, not a refusal', async () => {
    // Prepare
    const unreachable = new STSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAGREENLIGHT', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    const credentials = new AssumedRoleCredentials({
      sts: unreachable,
      target,
      externalId: EXTERNAL_ID,
      sessionName: 'greenlight-read',
      clock: () => new Date(),
      log: memoryLog(),
    });
    // Act
    const failure = await credentials.provide().catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(TransientError);
    expect(failure).not.toBeInstanceOf(RoleNotAssumedError);
    unreachable.destroy();
  });

  it('never writes the secret key or session token into a log line', async () => {
    // Prepare
    const { credentials, log } = role();
    // Act
    const identity = await credentials.provide();
    // Assess: the capture worked (a line was written) before looking for an absence
    expect(log.lines.length).toBeGreaterThan(0);
    for (const line of log.lines) {
      expect(line).not.toContain(identity.secretAccessKey);
      expect(line).not.toContain(identity.sessionToken);
    }
  });
});
