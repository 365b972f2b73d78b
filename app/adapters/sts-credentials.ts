import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AccessSession } from '../core/access.ts';
import { AccountUnreachableError, RoleNotAssumedError, TransientError } from '../core/errors.ts';
import type { Clock, Log, Metrics } from '../core/ports.ts';
import type { PipelineTarget } from '../core/products.ts';

/**
 * STS errors that say the role will not be given to Greenlight as things stand (its trust policy,
 * the external id, a missing role, STS switched off in the region), as opposed to a passing failure
 * (a timeout, throttling) worth trying again. Names from the STS API reference's AssumeRole errors
 * and common errors (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
 */
const REFUSALS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'RegionDisabledException',
  'ExpiredTokenException',
  'MalformedPolicyDocumentException',
  'InvalidClientTokenId',
  'ValidationError',
]);

/** The credentials the SDK's `credentials` option takes (its RoleCredentials), as STS gives them. */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  accountId: string;
}

export interface AssumedRoleOptions {
  sts: STSClient;
  target: PipelineTarget;
  /** The external id the role's trust policy asks for (GREENLIGHT_EXTERNAL_ID). */
  externalId: string;
  clock: Clock;
  log: Log;
  metrics?: Metrics;
  /** How long asked-for credentials last (STS: 900 s to the role's maximum; 1 h is every role's default maximum). */
  durationSeconds?: number;
  /** Credentials are renewed this long before they expire, so no call signs with ones about to lapse. */
  refreshBeforeMs?: number;
  /**
   * The role session: shown in CloudTrail of the pipeline's account as the session that acted, and
   * what the role lets it do there (core/access.ts).
   */
  sessionName: AccessSession;
}

/**
 * Credentials of the role Greenlight assumes in a pipeline's account, for the AWS SDK's
 * `credentials` option. One AssumeRole serves every call until shortly before it expires: a warm
 * click costs nothing, a cold one one STS round trip. Calls that need credentials at the same time
 * share one AssumeRole. A role that cannot be assumed becomes RoleNotAssumedError, naming the
 * account, with a log line and a `RoleNotAssumed` metric (an alarm watches it); a passing STS
 * failure becomes TransientError. The credentials themselves are never logged.
 */
export class AssumedRoleCredentials {
  readonly #options: Required<Omit<AssumedRoleOptions, 'metrics'>> & Pick<AssumedRoleOptions, 'metrics'>;
  #current: RoleCredentials | undefined;
  #pending: Promise<RoleCredentials> | undefined;

  constructor(options: AssumedRoleOptions) {
    this.#options = {
      durationSeconds: 3600,
      refreshBeforeMs: 5 * 60_000,
      ...options,
    };
  }

  /** The SDK's credential provider: current credentials, renewed when they near their expiry. */
  readonly provide = (): Promise<RoleCredentials> => {
    const current = this.#current;
    if (
      current?.expiration &&
      current.expiration.getTime() - this.#options.refreshBeforeMs > this.#options.clock().getTime()
    )
      return Promise.resolve(current);
    this.#pending ??= this.#assume().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  };

  async #assume(): Promise<RoleCredentials> {
    const { sts, target, externalId, durationSeconds, sessionName, log } = this.#options;
    const where = { account: target.account, region: target.region, roleArn: target.roleArn };
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: target.roleArn,
          RoleSessionName: sessionName,
          ExternalId: externalId,
          DurationSeconds: durationSeconds,
        }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
        throw new TransientError(`STS answered AssumeRole for ${target.roleArn} without credentials`);
      this.#current = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
        accountId: target.account,
      };
      log.debug('Assumed role', { ...where, expires: c.Expiration.toISOString() });
      return this.#current;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown';
      if (REFUSALS.has(name)) {
        // The message of AccessDenied names the role and the caller, never a secret; the name suffices.
        log.error('Could not assume the role in a pipeline account', { ...where, error: name });
        this.#options.metrics?.count('RoleNotAssumed', { account: target.account });
        throw new RoleNotAssumedError(target.account, target.region, { cause: error });
      }
      if (error instanceof TransientError) throw error;
      log.warn('STS did not answer AssumeRole', { ...where, error: name });
      throw new AccountUnreachableError(target.account, target.region, { cause: error });
    }
  }
}
