import { randomUUID } from 'node:crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Logger as BoltLogger, WebClient, type WebClientOptions } from '@slack/web-api';
import { approvalIdFor } from './adapters/approval-id.ts';
import { boltLoggerFor } from './adapters/bolt-logger.ts';
import { CloudFormationChangeSets } from './adapters/cloudformation-change-sets.ts';
import { CodePipelineGateway } from './adapters/codepipeline-gateway.ts';
import { CodePipelineJobResults } from './adapters/codepipeline-job-results.ts';
import { CodePipelineReader } from './adapters/codepipeline-reader.ts';
import { CodePipelineReviewReader } from './adapters/codepipeline-review-reader.ts';
import { DynamoApprovalStore } from './adapters/dynamo-approval-store.ts';
import { DynamoDigestMarkers } from './adapters/dynamo-digest-markers.ts';
import { DynamoReleaseStore } from './adapters/dynamo-release-store.ts';
import { sharedInProcessReleaseQueue } from './adapters/in-process-release-queue.ts';
import { ResvgPngRenderer } from './adapters/png-renderer.ts';
import { powertoolsLog } from './adapters/powertools-log.ts';
import { powertoolsMetrics } from './adapters/powertools-metrics.ts';
import {
  DEFAULT_REQUEST_RATES,
  LEARNING,
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
import { AssumedRoleCredentials } from './adapters/sts-credentials.ts';
import { type Config, parseSlackSecret, type SlackCredentials } from './config.ts';
import { type AccessSession, accessSession, type GreenlightHandler } from './core/access.ts';
import type { ApprovalRecord, ApprovalRequest } from './core/approval.ts';
import type { DigestMarkers, DigestPublisher } from './core/digest-posting.ts';
import { NotPermittedError } from './core/errors.ts';
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
import { allTargets, approvalChannelFor, type PipelineTarget, productTargets, targetsFor } from './core/products.ts';
import type { ReleasePlace } from './core/release-plan.ts';
import type { JobResults, ReleaseQueue, ReleaseReporter, ReleaseStore } from './core/release-ports.ts';
import { RELEASE_SETTINGS } from './core/release-run.ts';
import type { ReviewDeps } from './core/revision-review.ts';
import { NOTIFICATION_GRACE_SECONDS, type StartedApproval } from './core/unnotified-approval.ts';
import { lazy } from './lazy.ts';
import { type FollowedDeps, followSlackSecret } from './slack-secret.ts';

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
/** SQS and Secrets Manager off the click path: patient, with the SDK's standard retries. */
const PATIENT_AWS = { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 3 };

/** How long the worker (settle jobs, CodePipeline's events, releases) looks where an approval stands. */
const WORKER_STATE_LOOK_MS = 5_000;

export const TIMEOUTS = {
  click: {
    dynamo: { connectionTimeout: 300, requestTimeout: 400, maxAttempts: 2 },
    codepipeline: { connectionTimeout: 300, requestTimeout: 700, maxAttempts: 2 },
    /**
     * AssumeRole for a pipeline in another account: once per hour per role (the credentials are
     * cached and renewed early), so only a cold click pays it, one try, within the 3 s.
     */
    sts: { connectionTimeout: 300, requestTimeout: 600, maxAttempts: 1 },
    reader: { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 4 },
    /** A release's plan job, an approval's settle job: SQS answers in milliseconds. */
    queue: { connectionTimeout: 300, requestTimeout: 800, maxAttempts: 2 },
    /**
     * Slack's credentials, once per container: one try, so a cold click still has time to answer
     * within the 3 s (the next click reads them again).
     */
    secrets: { connectionTimeout: 500, requestTimeout: 1_000, maxAttempts: 1 },
    slack: { timeout: 1_500, retries: 1 },
    /** How long a click waits for a display name before using the username. */
    peopleLookupMs: 800,
  },
  ingest: {
    dynamo: { connectionTimeout: 3_000, requestTimeout: 5_000, maxAttempts: 6 },
    queue: PATIENT_AWS,
    secrets: PATIENT_AWS,
    /** One post: longer than Slack takes, well inside the Lambda's 30 s with the waits below. */
    slackPost: { timeout: 5_000 },
    /**
     * The redraw after an auto-approval: two tries, 1 s apart (at most 7 s), inside the Lambda's 30 s
     * after the post and its waits; one Slack refuses is a settle job's (core/decide-approval.ts).
     */
    slack: { timeout: 3_000, retries: 1 },
    /** Longest wait for Slack's rate limit per post (bursts of a product's services). */
    rateLimitWaitMs: 12_000,
  },
  worker: {
    dynamo: { connectionTimeout: 3_000, requestTimeout: 3_000, maxAttempts: 6 },
    queue: PATIENT_AWS,
    secrets: PATIENT_AWS,
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
    queue: PATIENT_AWS,
    secrets: PATIENT_AWS,
    /** Reading boards and executions: patient, with the SDK's standard retries. */
    reader: { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 4 },
    slack: { timeout: 5_000, retries: 3 },
    slackPost: { timeout: 10_000 },
    rateLimitWaitMs: 30_000,
  },
} as const;

/** The way in that clients are built for: it picks the time budgets of TIMEOUTS. */
export type Path = keyof typeof TIMEOUTS;

/** The way in of each handler. */
const PATH_OF = {
  'slack-events': 'click',
  'approval-notification': 'ingest',
  'release-worker': 'worker',
  'release-action': 'worker',
  'pipeline-events': 'worker',
  'daily-digest': 'digest',
} as const satisfies Record<GreenlightHandler, Path>;

type AwsBudget = { connectionTimeout: number; requestTimeout: number; maxAttempts: number };

/** AssumeRole off the click path: patient, with the SDK's standard retries. */
const PATIENT_STS: AwsBudget = { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 3 };

/** Where a CodePipeline call goes: an approval's (or a release's) region and, in another account, its account. */
export type PipelinePlace = Pick<ApprovalRequest, 'region' | 'account'>;
type SlackBudget = { timeout: number; retries: number };

export interface ClientOverrides {
  clock?: Clock;
  ids?: IdSource;
  log?: Log;
  /** CodePipeline request rates of releases and reads (default 8 calls/s per operation). */
  requestRates?: RequestRates;
  /** The Slack credentials, already read from the secret (app/slack-secret.ts follows it). */
  slackCredentials?: SlackCredentials;
  metrics?: Metrics;
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
  readonly metrics: Metrics;
  protected readonly budget: (typeof TIMEOUTS)[Path];

  constructor(
    readonly config: Config,
    readonly path: Path,
    overrides: ClientOverrides = {},
  ) {
    this.budget = TIMEOUTS[path];
    this.#slackCredentials = overrides.slackCredentials;
    this.metrics = overrides.metrics ?? powertoolsMetrics();
    this.clock = overrides.clock ?? (() => new Date());
    this.ids = overrides.ids ?? randomUUID;
    this.log = overrides.log ?? powertoolsLog();
    this.boltLogger = boltLoggerFor(this.log);
  }

  /** The Slack credentials: from the environment, as given, or read once from Secrets Manager. */
  readonly credentials = lazy(
    async (): Promise<SlackCredentials> =>
      'credentials' in this.config.slack
        ? this.config.slack.credentials
        : (this.#slackCredentials ?? readSlackSecret(this.config, this.config.slack.secretArn, this.budget.secrets)),
  );
  readonly #slackCredentials: SlackCredentials | undefined;

  /**
   * Options of this way's Slack client. On the click path a rate-limited call fails at once rather
   * than sleeping through the 3 s; elsewhere calls wait out Retry-After.
   */
  get slackClientOptions(): WebClientOptions {
    const budget: SlackBudget = 'slack' in this.budget ? this.budget.slack : TIMEOUTS.worker.slack;
    const base = { slackApiUrl: this.config.slackApiUrl, logger: this.boltLogger, timeout: budget.timeout };
    if (this.path === 'click')
      return {
        ...base,
        retryConfig: { retries: budget.retries, factor: 1, minTimeout: 100, maxTimeout: 300 },
        rejectRateLimitedCalls: true,
      };
    // Ingest's redraw after an auto-approval must end within the notification's 30 s: a rate limit
    // fails it at once, and a settle job redraws later. Elsewhere calls wait out Retry-After.
    return {
      ...base,
      retryConfig: { retries: budget.retries },
      ...(this.path === 'ingest' ? { rejectRateLimitedCalls: true } : {}),
    };
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

  /** The handler these clients serve: its time budgets, and its role session in pipeline accounts. */
  constructor(config: Config, handler: GreenlightHandler, overrides: ClientOverrides = {}) {
    super(config, PATH_OF[handler], overrides);
    this.targets = new TargetClients(config, this, this.path, accessSession(handler, config.products));
    const rate = config.releaseRatePerSecond;
    this.#rates =
      overrides.requestRates ??
      (rate ? { perSecond: rate, burst: Math.max(1, Math.floor(rate)) } : DEFAULT_REQUEST_RATES);
    this.#limiter = new OperationRateLimiter(this.#rates);
  }

  readonly #rates: RequestRates;

  /** This way's patience for reads and the worker's decisions. */
  protected get readBudget(): AwsBudget {
    return this.path === 'worker'
      ? TIMEOUTS.worker.codepipeline
      : 'reader' in this.budget
        ? this.budget.reader
        : TIMEOUTS.digest.reader;
  }

  /** CodePipeline under the rate limit, with this way's patience (reads; the worker's decisions). */
  protected readonly limitedCodePipeline = lazy(async () => {
    const budget = this.readBudget;
    return limitRequestRate(
      withoutSdkLogging(
        new CodePipelineClient({
          ...RESOLVED_ONCE,
          ...region(this.config),
          maxAttempts: budget.maxAttempts,
          requestHandler: timeouts(budget),
        }),
      ),
      this.#limiter,
    );
  });

  /**
   * Pipelines in products' own accounts (PRODUCTS `account`, `region`, `roleArn`): one STS client,
   * one cached role per target, one CodePipeline client per account and region, each made on first
   * use. Greenlight's own account and region are served by the clients above.
   */
  readonly targets: TargetClients;

  /**
   * CodePipeline under the rate limit where `place` is: Greenlight's own client, or the target's,
   * whose limiter is its own (CodePipeline throttles each account and region on its own).
   */
  async limitedCodePipelineAt(place: PipelinePlace): Promise<CodePipelineClient> {
    if (!place.account) return this.limitedCodePipeline();
    return this.targets.client(place, this.readBudget, (client) =>
      limitRequestRate(client, new OperationRateLimiter(this.#rates)),
    );
  }

  /** Reads pipelines where `place` is (the ingest path reads an approval's pipeline for its rules). */
  async readerAt(place: PipelinePlace): Promise<PipelineReader> {
    if (!place.account) return this.reader();
    const key = placeKey(place);
    let reader = this.#readers.get(key);
    if (!reader) {
      reader = new CodePipelineReader(await this.limitedCodePipelineAt(place));
      this.#readers.set(key, reader);
    }
    return reader;
  }
  readonly #readers = new Map<string, PipelineReader>();

  /**
   * Every place a product's env lives (PRODUCTS `targets`: a production in several accounts and
   * regions), each with a reader there under that account and region's own rate limit.
   */
  readonly placesFor = async (productName: string, env: string): Promise<ReleasePlace[]> => {
    const targets = targetsFor(productName.toLowerCase(), env.toLowerCase(), this.config.products);
    return Promise.all(targets.length > 0 ? targets.map(this.placeAt) : [this.placeAt(undefined)]);
  };

  /**
   * Every place a product's pipelines live (core/products.ts productTargets), each with a reader
   * there: `/release <product> status` shows them all.
   */
  readonly productPlacesFor = (productName: string): Promise<ReleasePlace[]> =>
    Promise.all(productTargets(productName.toLowerCase(), this.config.products).map(this.placeAt));

  /** A target and a reader there; undefined: Greenlight's own account and region. */
  private readonly placeAt = async (target: PipelineTarget | undefined): Promise<ReleasePlace> =>
    target
      ? { reader: await this.readerAt(target), region: target.region, account: target.account }
      : { reader: await this.reader(), region: this.region };

  /**
   * Reads pipelines under the rate limit learnt per operation: releases and `/release` share it
   * with the fan-out, the digest has its own (its budget: patient).
   */
  readonly reader = lazy(async (): Promise<PipelineReader> => new CodePipelineReader(await this.limitedCodePipeline()));

  /**
   * What an approval asks people to approve (core/revision-review.ts), read at ingest: CodePipeline
   * under the rate limit, and CloudFormation's DescribeChangeSet with one client per region.
   */
  readonly review = lazy(
    async (): Promise<ReviewDeps> => ({
      reader: new CodePipelineReviewReader(this.reviewCodePipeline()),
      changeSets: new CloudFormationChangeSets(cloudFormationClients(this.config, TIMEOUTS.digest.reader)),
      log: this.log,
    }),
  );

  /**
   * CodePipeline for the review's reads: a release's approvals bring a burst of notifications, whose
   * reads share the account's read rate with plans, boards and the digest. At most
   * REVIEW_READS_PER_SECOND per operation in one process, backing off on throttling as the release's
   * reads do; what does not fit in the review's time is shown as not read (core/revision-review.ts,
   * REVIEW_BUDGET_MS), and the review starts no read after that.
   */
  private reviewCodePipeline(): CodePipelineClient {
    const budget = TIMEOUTS.digest.reader;
    return limitRequestRate(
      withoutSdkLogging(
        new CodePipelineClient({
          ...RESOLVED_ONCE,
          ...region(this.config),
          maxAttempts: budget.maxAttempts,
          requestHandler: timeouts(budget),
        }),
      ),
      new OperationRateLimiter({ perSecond: REVIEW_READS_PER_SECOND, burst: REVIEW_READS_PER_SECOND }, undefined, {
        ...LEARNING,
        maxPerSecond: REVIEW_READS_PER_SECOND,
      }),
    );
  }

  /**
   * The review where an approval lives: in another account its pipeline and change sets are read
   * through the role Greenlight assumes there (the GreenlightAccess role may describe change sets).
   */
  async reviewAt(place: PipelinePlace): Promise<ReviewDeps> {
    if (!place.account) return this.review();
    const key = placeKey(place);
    let review = this.#reviews.get(key);
    if (!review) {
      const target = this.targets.targetOf(place);
      const budget = TIMEOUTS.digest.reader;
      const credentials = this.targets.role(target).provide;
      const changeSets = new Map<string, CloudFormationClient>();
      review = {
        reader: new CodePipelineReviewReader(await this.limitedCodePipelineAt(place)),
        changeSets: new CloudFormationChangeSets((regionName) => {
          const name = regionName || target.region;
          let client = changeSets.get(name);
          if (!client) {
            client = withoutSdkLogging(
              new CloudFormationClient({
                ...RESOLVED_ONCE,
                region: name,
                credentials,
                maxAttempts: budget.maxAttempts,
                requestHandler: timeouts(budget),
              }),
            );
            changeSets.set(name, client);
          }
          return client;
        }),
        log: this.log,
      };
      this.#reviews.set(key, review);
    }
    return review;
  }
  readonly #reviews = new Map<string, ReviewDeps>();

  /** PutApprovalResult for the approvals Greenlight's policy approves itself at ingest (core/auto-approve.ts). */
  readonly policyDecisions = lazy(
    async (): Promise<PipelineGateway> => new CodePipelineGateway((place) => this.limitedCodePipelineAt(place)),
  );
}

/**
 * `PipelineClients` and the release queue, for the ways in that hand work to the worker: a settle
 * job when a redraw failed (ingest's auto-approvals too), and the releases and jobs below.
 */
export class QueueingClients extends PipelineClients {
  /** SQS on AWS; locally the process's in-process queue, whose worker the sandbox attaches. */
  readonly releaseQueue = (): ReleaseQueue => {
    this.#queue ??= this.config.releaseQueueUrl
      ? new SqsReleaseQueue(
          withoutSdkLogging(
            new SQSClient({
              ...RESOLVED_ONCE,
              ...region(this.config),
              maxAttempts: this.budget.queue.maxAttempts,
              requestHandler: timeouts(this.budget.queue),
            }),
          ),
          this.config.releaseQueueUrl,
        )
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
}

/** `QueueingClients`, and what decides approvals and runs releases: PutApprovalResult, job results, jobs. */
export class ReleaseClients extends QueueingClients {
  /** Only Slack (a click) and the worker's ways in decide approvals and run releases. */
  constructor(
    config: Config,
    handler: 'slack-events' | 'release-worker' | 'release-action' | 'pipeline-events',
    overrides: ClientOverrides = {},
  ) {
    super(config, handler, overrides);
  }

  /**
   * PutApprovalResult. A click gets one quick client per region (approvals name their region); a
   * release's worker decides under the rate limit, with more retries than a click can afford.
   */
  readonly pipelines = lazy(async (): Promise<PipelineGateway> => {
    if (this.path === 'worker') {
      const local = await this.limitedCodePipeline();
      // Settle jobs and CodePipeline's events look where an approval stands with time to spare.
      return new CodePipelineGateway(
        (place) => (place.account ? this.limitedCodePipelineAt(place) : local),
        WORKER_STATE_LOOK_MS,
      );
    }
    const clients = codePipelineClients(this.config, TIMEOUTS.click.codepipeline);
    return new CodePipelineGateway((place) =>
      place.account ? this.targets.client(place, TIMEOUTS.click.codepipeline) : clients(place.region),
    );
  });

  readonly jobResults = lazy(
    async (): Promise<JobResults> => new CodePipelineJobResults(await this.limitedCodePipeline()),
  );

  /** Posting an approval its notification never posted is a `post` job on the worker's queue. */
  readonly postLater = (approvalId: string): Promise<void> => this.releaseQueue().send({ kind: 'post', approvalId });

  /** An approval that started is posted from the pipeline's state if no notification brought it in time. */
  readonly checkNotifiedLater = (started: StartedApproval): Promise<void> =>
    this.releaseQueue().send({ kind: 'unnotified', ...started }, { delaySeconds: NOTIFICATION_GRACE_SECONDS });

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
      digestMarkers: await this.digestMarkers(),
      region: this.region,
      placesFor: this.placesFor,
      productPlacesFor: this.productPlacesFor,
      readerAt: (place: PipelinePlace) => this.readerAt(place),
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

const placeKey = (place: PipelinePlace): string => `${place.account ?? 'local'}/${place.region}`;

/**
 * CodePipeline clients for the products that live in other accounts: each signs with the role
 * Greenlight assumes there (with the external id), cached and renewed before it expires
 * (adapters/sts-credentials.ts). A place no product names any more is refused, never called with
 * Greenlight's own credentials.
 */
class TargetClients {
  readonly #targets: ReadonlyMap<string, PipelineTarget>;
  readonly #roles = new Map<string, AssumedRoleCredentials>();
  readonly #clients = new Map<string, CodePipelineClient>();
  #sts: STSClient | undefined;

  constructor(
    private readonly config: Config,
    private readonly clients: Pick<Clients, 'clock' | 'log' | 'metrics'>,
    private readonly path: Path,
    /** Whether this handler answers approvals there (core/access.ts): the role's trust policy holds it to this name. */
    private readonly session: AccessSession,
  ) {
    this.#targets = new Map(allTargets(config.products).map((target) => [placeKey(target), target]));
  }

  /** The target of a place, or NotPermittedError when no product names that account and region. */
  targetOf(place: PipelinePlace): PipelineTarget {
    const target = this.#targets.get(placeKey(place));
    if (!target)
      throw new NotPermittedError(
        `No product in PRODUCTS lives in account ${place.account ?? '(own)'} and region ${place.region}`,
      );
    return target;
  }

  /** One client per account, region and budget, made on first use; `wrap` adds the rate limit. */
  client(
    place: PipelinePlace,
    budget: AwsBudget,
    wrap: (client: CodePipelineClient) => CodePipelineClient = (client) => client,
  ): CodePipelineClient {
    const key = `${placeKey(place)}/${budget.requestTimeout}/${budget.maxAttempts}`;
    let client = this.#clients.get(key);
    if (!client) {
      const target = this.targetOf(place);
      client = wrap(
        withoutSdkLogging(
          new CodePipelineClient({
            ...RESOLVED_ONCE,
            region: target.region,
            credentials: this.role(target).provide,
            maxAttempts: budget.maxAttempts,
            requestHandler: timeouts(budget),
          }),
        ),
      );
      this.#clients.set(key, client);
    }
    return client;
  }

  /** One cached role per target: a click and a read of the same account share its credentials. */
  role(target: PipelineTarget): AssumedRoleCredentials {
    let role = this.#roles.get(target.roleArn);
    if (!role) {
      if (!this.config.externalId)
        throw new NotPermittedError('GREENLIGHT_EXTERNAL_ID is not set: Greenlight cannot assume product roles');
      const budget = this.path === 'click' ? TIMEOUTS.click.sts : PATIENT_STS;
      this.#sts ??= withoutSdkLogging(
        new STSClient({
          ...RESOLVED_ONCE,
          ...region(this.config),
          maxAttempts: budget.maxAttempts,
          requestHandler: timeouts(budget),
        }),
      );
      role = new AssumedRoleCredentials({
        sts: this.#sts,
        target,
        externalId: this.config.externalId,
        sessionName: this.session,
        clock: this.clients.clock,
        log: this.clients.log,
        metrics: this.clients.metrics,
      });
      this.#roles.set(target.roleArn, role);
    }
    return role;
  }
}

/** The approvals table (approvals, audit trail, releases, digest markers) and a client for it. */
async function dynamoTable(config: Config, dynamo: AwsBudget): Promise<[DynamoDBDocumentClient, string]> {
  const requestHandler = timeouts(dynamo);
  if (config.approvalsTable) {
    const client = withoutSdkLogging(
      new DynamoDBClient({ maxAttempts: dynamo.maxAttempts, requestHandler, ...region(config) }),
    );
    return [DynamoDBDocumentClient.from(client), config.approvalsTable];
  }
  // Loaded only when used: dynalite (and its native LevelDB) never ships to Lambda.
  const { localCredentials, sharedEmbeddedDynamo } = await import('./adapters/embedded-dynamo.ts');
  const embedded = await sharedEmbeddedDynamo();
  const client = withoutSdkLogging(
    new DynamoDBClient({
      endpoint: embedded.endpoint,
      region: config.region ?? 'local',
      credentials: localCredentials,
      maxAttempts: dynamo.maxAttempts,
      requestHandler,
    }),
  );
  return [DynamoDBDocumentClient.from(client), embedded.tableName];
}

/** One CodePipeline client per region, made on first use and reused (approvals name their region). */
function codePipelineClients(config: Config, budget: AwsBudget): (region: string) => CodePipelineClient {
  const clients = new Map<string, CodePipelineClient>();
  return (regionName) => {
    let client = clients.get(regionName);
    if (!client) {
      client = withoutSdkLogging(
        new CodePipelineClient({
          ...RESOLVED_ONCE,
          ...(regionName ? { region: regionName } : region(config)),
          maxAttempts: budget.maxAttempts,
          requestHandler: timeouts(budget),
        }),
      );
      clients.set(regionName, client);
    }
    return client;
  };
}

/**
 * The review's CodePipeline reads per second per operation, in one process (PipelineClients.reviewCodePipeline):
 * a product's burst of 20 approvals is read within the review's 5 s.
 */
export const REVIEW_READS_PER_SECOND = 10;

/** One CloudFormation client per region, made on first use and reused (a change set's action names its region). */
function cloudFormationClients(config: Config, budget: AwsBudget): (region: string) => CloudFormationClient {
  const clients = new Map<string, CloudFormationClient>();
  return (regionName) => {
    let client = clients.get(regionName);
    if (!client) {
      client = withoutSdkLogging(
        new CloudFormationClient({
          ...RESOLVED_ONCE,
          ...(regionName ? { region: regionName } : region(config)),
          maxAttempts: budget.maxAttempts,
          requestHandler: timeouts(budget),
        }),
      );
      clients.set(regionName, client);
    }
    return client;
  };
}

/**
 * An AWS client without the SDK's logger middleware, which filters every request's input and
 * output for sensitive fields to hand them to the client's logger even when that logger is the
 * SDK's no-op one, as on all of Greenlight's clients (our adapters log what matters, redacted). On
 * a click that was work for nobody, four times over.
 */
function withoutSdkLogging<T extends { middlewareStack: { remove(name: string): boolean } }>(client: T): T {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/**
 * Client options every AWS client here shares: each resolves its middleware stack once per command
 * type instead of on every call (the SDK's `cacheMiddleware`; about 60 µs of CPU a call here). Sound
 * because middleware is only ever added before a client's first call (withoutSdkLogging,
 * limitRequestRate). A call sent with options (an abort signal) resolves it anew, and the SDK drops
 * the client's cache then. Not for DynamoDB: the DocumentClient refuses it.
 */
const RESOLVED_ONCE = { cacheMiddleware: true } as const;

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

/**
 * A handler's deps, built by its way in's `…Deps(config, overrides)` with the Slack credentials, and
 * built again when the Slack secret changes (app/slack-secret.ts). A configuration that cannot be
 * loaded fails the call, and the next call loads it again.
 */
export function followedDeps<T>(
  handler: GreenlightHandler,
  loadConfig: () => Config,
  build: (config: Config, overrides: ClientOverrides) => Promise<T>,
): FollowedDeps<T> {
  const config = lazy(async () => loadConfig());
  return followSlackSecret(
    async () => readSlackCredentials(await config(), handler),
    async (slackCredentials) => build(await config(), slackCredentials ? { slackCredentials } : {}),
    { log: powertoolsLog() },
  );
}

/**
 * The Slack credentials in the secret now, read on `handler`'s budget; undefined when they come
 * from the environment (the sandbox, a local run), which nothing can change under a running process.
 */
export async function readSlackCredentials(
  config: Config,
  handler: GreenlightHandler,
): Promise<SlackCredentials | undefined> {
  if ('credentials' in config.slack) return undefined;
  return readSlackSecret(config, config.slack.secretArn, TIMEOUTS[PATH_OF[handler]].secrets);
}

async function readSlackSecret(config: Config, arn: string, budget: AwsBudget): Promise<SlackCredentials> {
  const client = withoutSdkLogging(
    new SecretsManagerClient({ ...region(config), maxAttempts: budget.maxAttempts, requestHandler: timeouts(budget) }),
  );
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    return parseSlackSecret(SecretString, arn);
  } finally {
    client.destroy();
  }
}
