import { randomUUID } from 'node:crypto';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Logger as BoltLogger, LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';
import { approvalIdFor } from './adapters/approval-notification.ts';
import { CodePipelineGateway } from './adapters/codepipeline-gateway.ts';
import { CodePipelineReader } from './adapters/codepipeline-reader.ts';
import { DynamoApprovalStore } from './adapters/dynamo-approval-store.ts';
import { DynamoDigestMarkers } from './adapters/dynamo-digest-markers.ts';
import { DynamoReleaseStore } from './adapters/dynamo-release-store.ts';
import { sharedInProcessReleaseQueue } from './adapters/in-process-release-queue.ts';
import { powertoolsLog } from './adapters/powertools-log.ts';
import { powertoolsMetrics } from './adapters/powertools-metrics.ts';
import { CodePipelineJobResults } from './adapters/release-action.ts';
import { processReleaseJobs } from './adapters/release-jobs.ts';
import {
  DEFAULT_REQUEST_RATES,
  limitRequestRate,
  OperationRateLimiter,
  type RequestRates,
} from './adapters/release-rate-limit.ts';
import { RELEASE_SETTINGS, type ReleaseServices, type ReleaseSettings } from './adapters/release-services.ts';
import { SlackApprovalNotifier } from './adapters/slack-approval-notifier.ts';
import { SlackDigestPublisher } from './adapters/slack-digest-publisher.ts';
import { SlackReleaseReporter } from './adapters/slack-release-reporter.ts';
import { SqsReleaseQueue } from './adapters/sqs-release-queue.ts';
import { type Config, parseSlackSecret, type SlackCredentials } from './config.ts';
import type { ApprovalRecord } from './core/approval.ts';
import type {
  ApprovalNotifier,
  ApprovalStore,
  Clock,
  DigestMarkers,
  DigestPublisher,
  IdSource,
  Log,
  PipelineGateway,
  PipelineReader,
} from './core/ports.ts';
import { approvalChannelFor } from './core/products.ts';
import type { ReleaseStore } from './core/release-ports.ts';
import { lazy } from './lazy.ts';
import type { ListenerDeps } from './listeners/context.ts';

/**
 * The composition root: the only place clients are constructed. Everything else receives them.
 *
 * Each way in has its own time budget, and its clients are built for it:
 * - `click` (slack-events): Slack waits 3 s, and on Lambda Bolt answers only when the listener is
 *   done: claim (DynamoDB) → PutApprovalResult (CodePipeline) → outcome (DynamoDB) → chat.update.
 *   DynamoDB answers in milliseconds, so its calls get short timeouts; CodePipeline two tries of
 *   700 ms; Slack one retry. A throttled or hung dependency costs at most ~2 s, and the person is
 *   told to try again instead of Slack showing a timeout.
 * - `ingest` (approval-notification, 30 s Lambda): patient DynamoDB retries (a burst of approvals
 *   throttles), posts that wait out Slack's rate limit within the Lambda's time, and never repeat a
 *   post that may have landed.
 * - `worker` (release-worker, release-action: 5 min) and `digest` (2 min): patient everywhere.
 */
export const TIMEOUTS = {
  click: {
    dynamo: { connectionTimeout: 300, requestTimeout: 400, maxAttempts: 2 },
    codepipeline: { connectionTimeout: 300, requestTimeout: 700, maxAttempts: 2 },
    slack: { timeout: 1_500, retries: 1 },
    /** How long a click waits for a display name before using the username. */
    peopleLookupMs: 800,
  },
  ingest: {
    dynamo: { connectionTimeout: 3_000, requestTimeout: 5_000, maxAttempts: 6 },
    /** One post: longer than Slack takes, well inside the Lambda's 30 s with the waits below. */
    slackPost: { timeout: 5_000 },
    /** Longest wait for Slack's rate limit per post (bursts of a product's services). */
    rateLimitWaitMs: 12_000,
  },
  worker: {
    dynamo: { connectionTimeout: 3_000, requestTimeout: 3_000, maxAttempts: 6 },
    /**
     * Release fan-outs: more tries, so a throttled PutApprovalResult is backed off and retried by
     * the SDK (its throttling backoff starts at 500 ms).
     */
    codepipeline: { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 5 },
    /** Redraws and replies wait out rate limits (Retry-After) instead of failing. */
    slack: { timeout: 5_000, retries: 5 },
    slackPost: { timeout: 10_000 },
    rateLimitWaitMs: 60_000,
  },
  digest: {
    dynamo: { connectionTimeout: 3_000, requestTimeout: 3_000, maxAttempts: 6 },
    /** Reading boards and executions: patient, with the SDK's standard retries. */
    reader: { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 4 },
    slack: { timeout: 5_000, retries: 3 },
    slackPost: { timeout: 10_000 },
    rateLimitWaitMs: 30_000,
  },
} as const;

/** The way in that deps are built for: it picks the time budgets of TIMEOUTS. */
export type Path = keyof typeof TIMEOUTS;

export interface Deps extends ListenerDeps {
  config: Config;
  credentials: SlackCredentials;
  slack: WebClient;
  slackClientOptions: WebClientOptions;
  log: Log & { boltLogger: BoltLogger };
  notifier: ApprovalNotifier;
  reader: PipelineReader;
  digestMarkers: DigestMarkers;
  digestPublisher: DigestPublisher;
  releases: ReleaseServices;
}

export interface DepsOverrides {
  /** The way in these deps serve (default `click`): picks the time budgets of TIMEOUTS. */
  path?: Path;
  clock?: Clock;
  ids?: IdSource;
  log?: Log;
  store?: ApprovalStore;
  pipelines?: PipelineGateway;
  reader?: PipelineReader;
  digestMarkers?: DigestMarkers;
  releaseStore?: ReleaseStore;
  /** CodePipeline request rates of releases (default 8 calls/s per operation). */
  requestRates?: RequestRates;
  releaseSettings?: Partial<ReleaseSettings>;
}

type DynamoBudget = { connectionTimeout: number; requestTimeout: number; maxAttempts: number };
type Table = () => Promise<[DynamoDBDocumentClient, string]>;

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const path = overrides.path ?? 'click';
  const budget = TIMEOUTS[path];
  const clock = overrides.clock ?? (() => new Date());
  const log = withBoltLogger(overrides.log ?? powertoolsLog());
  const credentials =
    'credentials' in config.slack ? config.slack.credentials : await readSlackSecret(config, config.slack.secretArn);
  const slackClient = (options: Omit<WebClientOptions, 'slackApiUrl' | 'logger'>) =>
    new WebClient(credentials.botToken, { slackApiUrl: config.slackApiUrl, logger: log.boltLogger, ...options });

  // Bolt's client and the redraws of a click: a rate-limited call fails at once rather than
  // sleeping through the click's 3 s.
  const { click } = TIMEOUTS;
  const slackClientOptions: WebClientOptions = {
    slackApiUrl: config.slackApiUrl,
    timeout: click.slack.timeout,
    retryConfig: { retries: click.slack.retries, factor: 1, minTimeout: 100, maxTimeout: 300 },
    rejectRateLimitedCalls: true,
    logger: log.boltLogger,
  };
  const slack = new WebClient(credentials.botToken, slackClientOptions);
  // Off the click path, Slack calls are patient: they wait out Retry-After.
  const patientSlack =
    'slack' in budget && path !== 'click'
      ? slackClient({ timeout: budget.slack.timeout, retryConfig: { retries: budget.slack.retries } })
      : slack;
  // Posts never retry by themselves: a post whose answer was lost may have landed (see postOnce).
  const poster = slackClient({
    timeout: 'slackPost' in budget ? budget.slackPost.timeout : TIMEOUTS.ingest.slackPost.timeout,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const rateLimitWaitMs = 'rateLimitWaitMs' in budget ? budget.rateLimitWaitMs : 0;

  const table = lazy(() => dynamoTable(config, budget.dynamo));
  const store = overrides.store ?? new DynamoApprovalStore(...(await table()));
  const digestMarkers = overrides.digestMarkers ?? new DynamoDigestMarkers(...(await table()));
  const pipelines = overrides.pipelines ?? new CodePipelineGateway(codePipelineClients(config));
  const reader = overrides.reader ?? new CodePipelineReader(readerClient(config));
  // Approval messages go to their product's channel when PRODUCTS names one.
  const channelFor = (record: ApprovalRecord) =>
    approvalChannelFor(record.request.pipelineName, config.products, config.approvalsChannel);
  const notifier = new SlackApprovalNotifier({ slack, poster, channelFor, clock, log, rateLimitWaitMs });

  const releases = await releaseServices(config, { slackClient, log, clock, table, channelFor }, overrides);
  const deps: Deps = {
    config,
    credentials,
    slack,
    slackClientOptions,
    log,
    clock,
    ids: overrides.ids ?? randomUUID,
    store,
    pipelines,
    notifier,
    reader,
    digestMarkers,
    digestPublisher: new SlackDigestPublisher(patientSlack, poster, config.digestChannel, log, {
      rateLimitWaitMs: TIMEOUTS.digest.rateLimitWaitMs,
    }),
    metrics: powertoolsMetrics(),
    ...slackPeople(slack, log),
    releases,
  };
  // Locally the queue hands jobs to the same worker code SQS invokes (handlers/release-worker.ts).
  if (!(releases.queue instanceof SqsReleaseQueue))
    releases.queue.consumeWith(async (event) => processReleaseJobs(await workerDeps(config, overrides, deps), event));
  return deps;
}

/** The in-process queue's consumer runs on the worker's budgets, as the release-worker Lambda does. */
const workerDeps = (() => {
  let built: Promise<Deps> | undefined;
  return (config: Config, overrides: DepsOverrides, self: Deps): Promise<Deps> => {
    if (overrides.path === 'worker') return Promise.resolve(self);
    built ??= createDeps(config, { ...overrides, path: 'worker' });
    return built;
  };
})();

/**
 * Releases get their own CodePipeline client: rate-limited per operation (one limiter for its
 * reader, gateway and job results), with the patient retries of TIMEOUTS.worker; and their own
 * Slack client, which waits out Slack's rate limits. Clicks keep the fast clients above.
 */
async function releaseServices(
  config: Config,
  base: {
    slackClient: (options: Omit<WebClientOptions, 'slackApiUrl' | 'logger'>) => WebClient;
    log: Log & { boltLogger: BoltLogger };
    clock: Clock;
    table: Table;
    channelFor: (record: ApprovalRecord) => string;
  },
  overrides: DepsOverrides,
) {
  const { worker } = TIMEOUTS;
  const limiter = new OperationRateLimiter(
    overrides.requestRates ??
      (config.releaseRatePerSecond
        ? { perSecond: config.releaseRatePerSecond, burst: Math.max(1, Math.floor(config.releaseRatePerSecond)) }
        : DEFAULT_REQUEST_RATES),
  );
  const client = limitRequestRate(
    new CodePipelineClient({
      ...region(config),
      maxAttempts: worker.codepipeline.maxAttempts,
      requestHandler: timeouts(worker.codepipeline),
    }),
    limiter,
  );
  const slack = base.slackClient({ timeout: worker.slack.timeout, retryConfig: { retries: worker.slack.retries } });
  const poster = base.slackClient({
    timeout: worker.slackPost.timeout,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  return {
    store: overrides.releaseStore ?? new DynamoReleaseStore(...(await base.table())),
    queue: config.releaseQueueUrl
      ? new SqsReleaseQueue(new SQSClient(region(config)), config.releaseQueueUrl)
      : sharedInProcessReleaseQueue(base.log),
    reader: overrides.reader ?? new CodePipelineReader(client),
    pipelines: overrides.pipelines ?? new CodePipelineGateway(() => client),
    notifier: new SlackApprovalNotifier({
      slack,
      poster,
      channelFor: base.channelFor,
      clock: base.clock,
      log: base.log,
      rateLimitWaitMs: worker.rateLimitWaitMs,
    }),
    reporter: new SlackReleaseReporter(slack, base.clock, base.log, fetch, poster, worker.rateLimitWaitMs),
    jobResults: new CodePipelineJobResults(client),
    region: config.region ?? 'us-east-1',
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    settings: { ...RELEASE_SETTINGS, ...overrides.releaseSettings },
    approvalIdFor,
  } satisfies ReleaseServices;
}

/** The approvals table (approvals, audit trail, digest markers) and a client for it. */
async function dynamoTable(config: Config, dynamo: DynamoBudget): Promise<[DynamoDBDocumentClient, string]> {
  const requestHandler = timeouts(dynamo);
  if (config.approvalsTable) {
    const client = new DynamoDBClient({ maxAttempts: dynamo.maxAttempts, requestHandler, ...region(config) });
    return [DynamoDBDocumentClient.from(client), config.approvalsTable];
  }
  // Loaded only when used: dynalite (and its native LevelDB) never ships to Lambda.
  const { localCredentials, sharedEmbeddedDynamo } = await import('./adapters/embedded-dynamo.ts');
  const embedded = await sharedEmbeddedDynamo();
  const client = new DynamoDBClient({
    endpoint: embedded.endpoint,
    region: config.region ?? 'local',
    credentials: localCredentials,
    maxAttempts: dynamo.maxAttempts,
    requestHandler,
  });
  return [DynamoDBDocumentClient.from(client), embedded.tableName];
}

/** One CodePipeline client per region, made on first use and reused (approvals name their region). */
function codePipelineClients(config: Config): (region: string) => CodePipelineClient {
  const clients = new Map<string, CodePipelineClient>();
  const { codepipeline } = TIMEOUTS.click;
  return (regionName) => {
    let client = clients.get(regionName);
    if (!client) {
      client = new CodePipelineClient({
        region: regionName || config.region,
        maxAttempts: codepipeline.maxAttempts,
        requestHandler: timeouts(codepipeline),
      });
      clients.set(regionName, client);
    }
    return client;
  };
}

function readerClient(config: Config): CodePipelineClient {
  const { reader } = TIMEOUTS.digest;
  return new CodePipelineClient({
    ...region(config),
    maxAttempts: reader.maxAttempts,
    requestHandler: timeouts(reader),
  });
}

/**
 * HTTP timeouts for an AWS client. The SDK only warns when a request outlives `requestTimeout`
 * unless told to throw; we need it to throw, or a hung call would eat the whole click.
 */
const timeouts = (t: { connectionTimeout: number; requestTimeout: number }) => ({
  connectionTimeout: t.connectionTimeout,
  requestTimeout: t.requestTimeout,
  throwOnRequestTimeout: true,
});

const region = (config: Config) => (config.region ? { region: config.region } : {});

async function readSlackSecret(config: Config, arn: string): Promise<SlackCredentials> {
  const client = new SecretsManagerClient(region(config));
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    return parseSlackSecret(SecretString, arn);
  } finally {
    client.destroy();
  }
}

/**
 * Display names for summaries, cached for the life of the process: people rarely rename, and a
 * users.info call on every click would spend the 3-second budget. Falls back to the Slack username.
 */
function slackPeople(slack: WebClient, log: Log): Pick<ListenerDeps, 'displayName' | 'isGuest'> {
  const cache = new Map<string, { name?: string; guest: boolean }>();
  const pending = new Map<string, Promise<{ name?: string; guest: boolean }>>();
  const fetchPerson = (userId: string) => {
    let lookup = pending.get(userId);
    if (!lookup) {
      lookup = slack.users
        .info({ user: userId })
        .then(({ user }) => {
          const person = {
            name: user?.profile?.display_name || user?.real_name || user?.name || undefined,
            guest: Boolean(user?.is_restricted || user?.is_ultra_restricted),
          };
          cache.set(userId, person);
          return person;
        })
        .finally(() => pending.delete(userId));
      pending.set(userId, lookup);
    }
    return lookup;
  };
  // On the click path: a slow users.info must not spend the 3 s. Past the deadline the caller
  // goes on without it (the username; not a guest) and the lookup still fills the cache.
  const lookUp = async (userId: string) =>
    cache.get(userId) ??
    Promise.race([
      fetchPerson(userId),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('users.info took too long')), TIMEOUTS.click.peopleLookupMs).unref(),
      ),
    ]);
  return {
    displayName: async (userId, fallback) => {
      try {
        return (await lookUp(userId)).name ?? fallback;
      } catch (error) {
        log.warn('Could not look up a display name; using the username', { user: userId, error });
        return fallback;
      }
    },
    // Unknown when Slack does not answer in time: the guard then asks the person to try again
    // (the lookup goes on and fills the cache), rather than letting a guest decide.
    isGuest: async (userId) => {
      try {
        return (await lookUp(userId)).guest;
      } catch (error) {
        log.warn('Could not tell whether a person is a guest', { user: userId, error });
        return undefined;
      }
    },
  };
}

/** Bolt and the Slack SDK log through our structured logger too. */
function withBoltLogger(log: Log): Log & { boltLogger: BoltLogger } {
  let level = LogLevel.INFO;
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const at =
    (wanted: LogLevel, write: (message: string) => void) =>
    (...parts: unknown[]) => {
      if (order.indexOf(wanted) >= order.indexOf(level))
        write(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
    };
  const boltLogger: BoltLogger = {
    debug: at(LogLevel.DEBUG, (m) => log.debug(m, { source: 'slack-sdk' })),
    info: at(LogLevel.INFO, (m) => log.info(m, { source: 'slack-sdk' })),
    warn: at(LogLevel.WARN, (m) => log.warn(m, { source: 'slack-sdk' })),
    error: at(LogLevel.ERROR, (m) => log.error(m, { source: 'slack-sdk' })),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
  return {
    debug: (message, context) => log.debug(message, context),
    info: (message, context) => log.info(message, context),
    warn: (message, context) => log.warn(message, context),
    error: (message, context) => log.error(message, context),
    boltLogger,
  };
}
