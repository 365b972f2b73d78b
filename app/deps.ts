import { randomUUID } from 'node:crypto';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Logger as BoltLogger, WebClient, type WebClientOptions } from '@slack/web-api';
import { approvalIdFor } from './adapters/approval-id.ts';
import { boltLoggerFor } from './adapters/bolt-logger.ts';
import { CodePipelineGateway } from './adapters/codepipeline-gateway.ts';
import { CodePipelineJobResults } from './adapters/codepipeline-job-results.ts';
import { CodePipelineReader } from './adapters/codepipeline-reader.ts';
import { DynamoApprovalStore } from './adapters/dynamo-approval-store.ts';
import { DynamoDigestMarkers } from './adapters/dynamo-digest-markers.ts';
import { DynamoReleaseStore } from './adapters/dynamo-release-store.ts';
import { sharedInProcessReleaseQueue } from './adapters/in-process-release-queue.ts';
import { ResvgPngRenderer } from './adapters/png-renderer.ts';
import { powertoolsLog } from './adapters/powertools-log.ts';
import { powertoolsMetrics } from './adapters/powertools-metrics.ts';
import {
  DEFAULT_REQUEST_RATES,
  limitRequestRate,
  OperationRateLimiter,
  type RequestRates,
} from './adapters/release-rate-limit.ts';
import { SlackApprovalNotifier } from './adapters/slack-approval-notifier.ts';
import { SlackDigestChart } from './adapters/slack-digest-chart.ts';
import { SlackDigestPublisher } from './adapters/slack-digest-publisher.ts';
import { SlackPeople } from './adapters/slack-people.ts';
import { SlackReleaseReporter } from './adapters/slack-release-reporter.ts';
import { SqsReleaseQueue } from './adapters/sqs-release-queue.ts';
import { type Config, parseSlackSecret, type SlackCredentials } from './config.ts';
import type { ApprovalRecord } from './core/approval.ts';
import type { DigestMarkers, DigestPublisher } from './core/digest-posting.ts';
import type {
  ApprovalNotifier,
  ApprovalStore,
  Clock,
  IdSource,
  Log,
  Metrics,
  PipelineGateway,
  PipelineReader,
} from './core/ports.ts';
import { approvalChannelFor } from './core/products.ts';
import type { JobResults, ReleaseQueue, ReleaseReporter, ReleaseStore } from './core/release-ports.ts';
import { RELEASE_SETTINGS } from './core/release-run.ts';
import { lazy } from './lazy.ts';

/**
 * The time budget of each way in, in one table. Each way in gets clients built for its own budget:
 * - `click` (slack-events): Slack waits 3 s, and on Lambda Bolt answers only when the listener is
 *   done: claim (DynamoDB) → PutApprovalResult (CodePipeline) → outcome (DynamoDB) → chat.update.
 *   DynamoDB answers in milliseconds, so its calls get short timeouts; CodePipeline two tries of
 *   700 ms; Slack one retry. A throttled or hung dependency costs at most ~2 s, and the person is
 *   told to try again instead of Slack showing a timeout. Reads for `/release` are bounded by the
 *   command's own deadlines (listeners/release-context.ts).
 * - `ingest` (approval-notification, 30 s Lambda): patient DynamoDB retries (a burst of approvals
 *   throttles; a loaded machine answers late), posts that wait out Slack's rate limit within the
 *   Lambda's time, and never repeat a post that may have landed.
 * - `worker` (release-worker, release-action: 5 min) and `digest` (2 min): patient everywhere.
 */
export const TIMEOUTS = {
  click: {
    dynamo: { connectionTimeout: 300, requestTimeout: 400, maxAttempts: 2 },
    codepipeline: { connectionTimeout: 300, requestTimeout: 700, maxAttempts: 2 },
    reader: { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 4 },
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

/** The way in that clients are built for: it picks the time budgets of TIMEOUTS. */
export type Path = keyof typeof TIMEOUTS;

type AwsBudget = { connectionTimeout: number; requestTimeout: number; maxAttempts: number };
type SlackBudget = { timeout: number; retries: number };

export interface ClientOverrides {
  clock?: Clock;
  ids?: IdSource;
  log?: Log;
  /** CodePipeline request rates of releases and reads (default 8 calls/s per operation). */
  requestRates?: RequestRates;
}

/**
 * The composition root: the only place clients are constructed. One object serves one way in (a
 * Lambda handler, or the sandbox's copy of it) and builds every client for that way's budget, on
 * first use, once. The modules of app/inbound/ take from it the one flat deps object each hands to
 * the core and the listeners; nothing else constructs a client.
 *
 * Three classes, each adding AWS clients to the one before, so that a handler's bundle carries only
 * the SDK clients its way in uses (esbuild leaves out a class nothing names, and the SDK packages
 * are free of side effects):
 * - `Clients`: Slack, the approvals table and the Slack secret (approval-notification);
 * - `PipelineClients`: and CodePipeline reads (daily-digest);
 * - `ReleaseClients`: and decisions, job results and the release queue, SQS (slack-events,
 *   release-worker, release-action).
 */
export class Clients {
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Log;
  readonly boltLogger: BoltLogger;
  readonly metrics: Metrics = powertoolsMetrics();
  protected readonly budget: (typeof TIMEOUTS)[Path];

  constructor(
    readonly config: Config,
    readonly path: Path,
    overrides: ClientOverrides = {},
  ) {
    this.budget = TIMEOUTS[path];
    this.clock = overrides.clock ?? (() => new Date());
    this.ids = overrides.ids ?? randomUUID;
    this.log = overrides.log ?? powertoolsLog();
    this.boltLogger = boltLoggerFor(this.log);
  }

  /** The Slack credentials: from the environment, or read once from Secrets Manager. */
  readonly credentials = lazy(
    async (): Promise<SlackCredentials> =>
      'credentials' in this.config.slack
        ? this.config.slack.credentials
        : readSlackSecret(this.config, this.config.slack.secretArn),
  );

  /**
   * Options of this way's Slack client. On the click path a rate-limited call fails at once rather
   * than sleeping through the 3 s; elsewhere calls wait out Retry-After.
   */
  get slackClientOptions(): WebClientOptions {
    const budget: SlackBudget = 'slack' in this.budget ? this.budget.slack : TIMEOUTS.worker.slack;
    const base = { slackApiUrl: this.config.slackApiUrl, logger: this.boltLogger, timeout: budget.timeout };
    return this.path === 'click'
      ? {
          ...base,
          retryConfig: { retries: budget.retries, factor: 1, minTimeout: 100, maxTimeout: 300 },
          rejectRateLimitedCalls: true,
        }
      : { ...base, retryConfig: { retries: budget.retries } };
  }

  /** This way's Slack client (redraws, replies, lookups). */
  readonly slack = lazy(async () => new WebClient((await this.credentials()).botToken, this.slackClientOptions));

  /** Posts: never retried by the client itself, as a post whose answer was lost may have landed (postOnce). */
  readonly poster = lazy(async () => {
    const timeout = 'slackPost' in this.budget ? this.budget.slackPost.timeout : TIMEOUTS.worker.slackPost.timeout;
    return new WebClient((await this.credentials()).botToken, {
      slackApiUrl: this.config.slackApiUrl,
      logger: this.boltLogger,
      timeout,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
  });

  protected get rateLimitWaitMs(): number {
    return 'rateLimitWaitMs' in this.budget ? this.budget.rateLimitWaitMs : 0;
  }

  readonly #table = lazy(() => dynamoTable(this.config, this.budget.dynamo));
  readonly approvalStore = lazy(async (): Promise<ApprovalStore> => new DynamoApprovalStore(...(await this.#table())));
  readonly releaseStore = lazy(async (): Promise<ReleaseStore> => new DynamoReleaseStore(...(await this.#table())));
  readonly digestMarkers = lazy(async (): Promise<DigestMarkers> => new DynamoDigestMarkers(...(await this.#table())));

  /** Approval messages go to their product's channel when PRODUCTS names one. */
  readonly channelFor = (record: ApprovalRecord): string =>
    approvalChannelFor(record.request.pipelineName, this.config.products, this.config.approvalsChannel);

  readonly approvalNotifier = lazy(
    async (): Promise<ApprovalNotifier> =>
      new SlackApprovalNotifier({
        slack: await this.slack(),
        poster: await this.poster(),
        channelFor: this.channelFor,
        clock: this.clock,
        log: this.log,
        rateLimitWaitMs: this.rateLimitWaitMs,
      }),
  );

  readonly releaseReporter = lazy(
    async (): Promise<ReleaseReporter> =>
      new SlackReleaseReporter(
        await this.slack(),
        this.clock,
        this.log,
        fetch,
        await this.poster(),
        this.rateLimitWaitMs,
      ),
  );

  readonly people = lazy(async () => new SlackPeople(await this.slack(), this.log, TIMEOUTS.click.peopleLookupMs));

  /** The region Greenlight's own pipelines are in (releases read and approve there). */
  get region(): string {
    return this.config.region ?? 'us-east-1';
  }
}

/** `Clients` and CodePipeline, for the ways in that read pipelines. */
export class PipelineClients extends Clients {
  /** One request-rate limiter per operation for every CodePipeline call of a release or a read. */
  readonly #limiter: OperationRateLimiter;

  /** The digest's posts and its chart: here, not in `Clients`, so the renderer ships only where the digest runs. */
  readonly digestPublisher = lazy(
    async (): Promise<DigestPublisher> =>
      new SlackDigestPublisher(await this.slack(), await this.poster(), this.config.digestChannel, this.log, {
        rateLimitWaitMs: this.rateLimitWaitMs,
        chart: new SlackDigestChart(await this.slack(), new ResvgPngRenderer(), this.log),
      }),
  );

  constructor(config: Config, path: 'click' | 'worker' | 'digest' | 'ingest', overrides: ClientOverrides = {}) {
    super(config, path, overrides);
    const rate = config.releaseRatePerSecond;
    this.#limiter = new OperationRateLimiter(
      overrides.requestRates ??
        (rate ? { perSecond: rate, burst: Math.max(1, Math.floor(rate)) } : DEFAULT_REQUEST_RATES),
    );
  }

  /** CodePipeline under the rate limit, with this way's patience (reads; the worker's decisions). */
  protected readonly limitedCodePipeline = lazy(async () => {
    const budget: AwsBudget =
      this.path === 'worker'
        ? TIMEOUTS.worker.codepipeline
        : 'reader' in this.budget
          ? this.budget.reader
          : TIMEOUTS.digest.reader;
    return limitRequestRate(
      new CodePipelineClient({
        ...region(this.config),
        maxAttempts: budget.maxAttempts,
        requestHandler: timeouts(budget),
      }),
      this.#limiter,
    );
  });

  /**
   * Reads pipelines under the rate limit learnt per operation: releases and `/release` share it
   * with the fan-out, the digest has its own (its budget: patient).
   */
  readonly reader = lazy(async (): Promise<PipelineReader> => new CodePipelineReader(await this.limitedCodePipeline()));
}

/** `PipelineClients`, and what decides approvals and runs releases: PutApprovalResult, job results, the queue. */
export class ReleaseClients extends PipelineClients {
  /** Only Slack (a click) and the worker decide approvals and run releases. */
  constructor(config: Config, path: 'click' | 'worker', overrides: ClientOverrides = {}) {
    super(config, path, overrides);
  }

  /**
   * PutApprovalResult. A click gets one quick client per region (approvals name their region); a
   * release's worker decides under the rate limit, with more retries than a click can afford.
   */
  readonly pipelines = lazy(async (): Promise<PipelineGateway> => {
    if (this.path === 'worker') {
      const client = await this.limitedCodePipeline();
      return new CodePipelineGateway(() => client);
    }
    return new CodePipelineGateway(codePipelineClients(this.config, TIMEOUTS.click.codepipeline));
  });

  readonly jobResults = lazy(
    async (): Promise<JobResults> => new CodePipelineJobResults(await this.limitedCodePipeline()),
  );

  /** SQS on AWS; locally the process's in-process queue, whose worker the sandbox attaches. */
  readonly releaseQueue = (): ReleaseQueue => {
    this.#queue ??= this.config.releaseQueueUrl
      ? new SqsReleaseQueue(new SQSClient(region(this.config)), this.config.releaseQueueUrl)
      : sharedInProcessReleaseQueue(this.log);
    return this.#queue;
  };
  #queue: ReleaseQueue | undefined;

  /** Settling an approval later is a `settle` job on the worker's queue (core/settle-approval.ts). */
  readonly settleLater = (approvalId: string, delaySeconds: number): Promise<void> =>
    this.releaseQueue().send(
      { kind: 'settle', approvalId },
      { delaySeconds: Math.min(900, Math.max(0, delaySeconds)) },
    );

  /**
   * The ports of every way in that decides approvals and runs releases (Slack and the worker),
   * each built for this way's budget: the core's DecideDeps, RunDeps and PlanReleaseDeps share them.
   */
  async decidingPorts() {
    return {
      store: await this.approvalStore(),
      pipelines: await this.pipelines(),
      notifier: await this.approvalNotifier(),
      reader: await this.reader(),
      releases: await this.releaseStore(),
      queue: this.releaseQueue(),
      reporter: await this.releaseReporter(),
      region: this.region,
      approvalIdFor,
      settings: RELEASE_SETTINGS,
      settleLater: this.settleLater,
      clock: this.clock,
      ids: this.ids,
      log: this.log,
      metrics: this.metrics,
    };
  }
}

/** The approvals table (approvals, audit trail, releases, digest markers) and a client for it. */
async function dynamoTable(config: Config, dynamo: AwsBudget): Promise<[DynamoDBDocumentClient, string]> {
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
function codePipelineClients(config: Config, budget: AwsBudget): (region: string) => CodePipelineClient {
  const clients = new Map<string, CodePipelineClient>();
  return (regionName) => {
    let client = clients.get(regionName);
    if (!client) {
      client = new CodePipelineClient({
        ...(regionName ? { region: regionName } : region(config)),
        maxAttempts: budget.maxAttempts,
        requestHandler: timeouts(budget),
      });
      clients.set(regionName, client);
    }
    return client;
  };
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
