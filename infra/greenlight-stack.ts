import {
  Annotations,
  Arn,
  ArnFormat,
  Aws,
  CfnOutput,
  CfnParameter,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Stage,
  TimeZone,
  Token,
} from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule as RuleSchedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import {
  ArnPrincipal,
  type Grant,
  type IGrantable,
  type IRole,
  PolicyStatement,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, type Code, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type CfnTopic, Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { Construct } from 'constructs';
// Like infra/config.ts: which products live elsewhere is read by the app's own pure rules.
import { answersApprovals } from '../app/core/access.ts';
import { allTargets, ownAccountProblems, type ProductOverride } from '../app/core/products.ts';
import { ApprovalsRegionStack } from './approvals-region-stack.ts';
import {
  DEFAULT_DIGEST_SCHEDULE,
  DEFAULT_DIGEST_TIME_ZONE,
  DEFAULT_LOG_RETENTION,
  type DemoSettings,
  type LogLevel,
  type ProductSettings,
  productPrefix,
  SettingsError,
} from './config.ts';
import { OperationalAlarms } from './constructs/alarms.ts';
import { deadLetterQueue } from './constructs/dead-letter-queue.ts';
import { DemoProduct } from './constructs/demo-product.ts';
import { HandlerFunction, type HandlerName } from './constructs/handler-function.ts';
import { PipelineAccounts, pipelineEventPattern } from './constructs/pipeline-accounts.ts';
import { acknowledge, wildcardResource } from './nag.ts';
import { readManifest, withRequestUrl } from './slack-manifest.ts';

export interface GreenlightStackProps extends StackProps {
  /** Product name → overrides, passed to the app as `PRODUCTS`; prefixes scope the CodePipeline grants. */
  readonly products: Readonly<Record<string, ProductSettings>>;
  /** @default - a required CloudFormation parameter, ApprovalsChannel */
  readonly approvalsChannel?: string;
  /** @default - the app posts the digest to the approvals channel */
  readonly digestChannel?: string;
  /** @default 'cron(0 8 ? * MON-FRI *)' */
  readonly digestSchedule?: string;
  /** @default 'Europe/Berlin' */
  readonly digestTimeZone?: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default 'INFO' */
  readonly logLevel?: LogLevel;
  /** IAM roles allowed to publish to the approvals topic (CodePipeline publishes as the pipeline's service role). */
  readonly publisherRoleArns?: readonly string[];
  /** An existing SNS topic for alarm notifications. */
  readonly alarmTopicArn?: string;
  /** A demo product of service pipelines that publish to the approvals topic. */
  readonly demo?: DemoSettings;
  /** The external id for the GreenlightAccess roles of products in other accounts (GREENLIGHT_EXTERNAL_ID). */
  readonly externalId?: string;
  /** Replaces the esbuild bundles of all handlers: template tests synthesize without bundling. */
  readonly handlerCode?: Code;
}

/**
 * The lowest level of the functions' own lines Lambda keeps, for Powertools' (POWERTOOLS_LOG_LEVEL).
 * With the JSON log format Lambda filters them itself (INFO by default) and Powertools defers to it
 * (AWS_LAMBDA_LOG_LEVEL), so `-c logLevel=DEBUG` lowers both. It never goes above INFO: the metric
 * lines (CloudWatch EMF) carry no level, Lambda reads them as INFO, and several alarms count them.
 * So WARN and above log as INFO does (Powertools follows Lambda's level).
 */
const LAMBDA_LOG_LEVEL: Readonly<Record<LogLevel, ApplicationLogLevel>> = {
  TRACE: ApplicationLogLevel.TRACE,
  DEBUG: ApplicationLogLevel.DEBUG,
  INFO: ApplicationLogLevel.INFO,
  WARN: ApplicationLogLevel.INFO,
  ERROR: ApplicationLogLevel.INFO,
  CRITICAL: ApplicationLogLevel.INFO,
  SILENT: ApplicationLogLevel.INFO,
};

/** How long each handler may run; the release queue's visibility timeout derives from the worker's. */
const WORKER_TIMEOUT = Duration.minutes(5);

/**
 * CodePipeline fails a Lambda invoke action whose function has sent no reply for 20 minutes
 * (CodePipeline user guide, "Quotas in AWS CodePipeline": "If the Lambda function has sent no reply
 * after 20 minutes, the action times out"). Every invocation of release-action replies within its
 * own timeout (a result, or success with a continuation token), so each CodePipeline job has this long.
 */
const CODEPIPELINE_JOB_REPLY_TIMEOUT = Duration.minutes(20);

/**
 * How old the release queue's oldest job may grow before it alarms: then the worker takes no jobs
 * (its trigger disabled, its role unable to receive, both slots held). A healthy queue stays under it:
 * - a job waits at most for one of the worker's two slots (WORKER_TIMEOUT each) and runs at most as
 *   long: 10 minutes;
 * - a job that fails comes back after 1, then 3 minutes (app/inbound/release-jobs.ts, as does one
 *   the worker cannot read), and once a message is received three times SQS leaves it out of
 *   ApproximateAgeOfOldestMessage (SQS developer guide, "Available CloudWatch metrics for Amazon
 *   SQS"); from the fifth receive on, ReleaseDlq alarms instead;
 * - a delayed job (a settle job waiting for a claim, `incomplete` re-checks) waits 60 s in practice,
 *   900 s at most (SQS's longest message timer).
 */
const RELEASE_QUEUE_MAX_AGE = Duration.minutes(15);

/** The approval audit trail, idempotency markers and fan-out jobs are single items: no scans, no batch writes. */
const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
const PIPELINE_READ_ACTIONS = [
  'codepipeline:GetPipeline',
  'codepipeline:GetPipelineExecution',
  'codepipeline:GetPipelineState',
  'codepipeline:ListPipelineExecutions',
];

/**
 * Greenlight in one stack: the approvals table, the approval topic, the five handlers with their
 * triggers (SNS, Function URL, SQS, CodePipeline, EventBridge Scheduler), the Slack credentials
 * secret and the alarms.
 */
export class GreenlightStack extends Stack {
  readonly table: Table;
  readonly approvalsTopic: Topic;
  readonly releaseQueue: Queue;
  readonly slackSecret: Secret;
  readonly handlers: Readonly<Record<HandlerName, HandlerFunction>>;
  readonly functionUrl: string;
  /** The approvals stack of each other region the products name, made with this one. */
  readonly approvalsElsewhere: readonly ApprovalsRegionStack[];

  constructor(scope: Construct, id: string, props: GreenlightStackProps) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    // Synth refuses a product that names this stack's own account as another one, as the app does at start.
    if (!Token.isUnresolved(this.account)) {
      const problems = ownAccountProblems(props.products as Readonly<Record<string, ProductOverride>>, this.account);
      if (problems.length > 0) throw new SettingsError('products', problems.join('; '));
    }

    this.table = new Table(this, 'Approvals', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      // The audit trail outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'byDay',
      partitionKey: { name: 'dayPk', type: AttributeType.STRING },
      sortKey: { name: 'daySk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'pending',
      partitionKey: { name: 'pendingPk', type: AttributeType.STRING },
      sortKey: { name: 'pendingSk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    this.slackSecret = new Secret(this, 'SlackSecret', {
      description:
        'Greenlight Slack credentials {"botToken","signingSecret"}: put the real ones with aws secretsmanager put-secret-value.',
      // Only the shape lives in the template. The random signing secret makes every Slack
      // request fail verification until the operator puts the real values. CloudFormation
      // generates it once: changing these options would replace the secret.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ botToken: '' }),
        generateStringKey: 'signingSecret',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    acknowledge(
      this.slackSecret,
      'Slack issues the bot token and signing secret; a rotation Lambda cannot obtain new ones (rotate them in Slack, then put-secret-value).',
      'AwsSolutions-SMG4',
    );

    this.approvalsTopic = new Topic(this, 'ApprovalsTopic', {
      displayName: 'Greenlight approval requests',
      enforceSSL: true,
    });
    // Encrypted with the AWS-managed key, whose policy lets every principal of the account that
    // may publish do so through SNS: publishers (pipeline service roles) need sns:Publish only.
    // Set on the L1 resource: grants then add no kms:GenerateDataKey*, which this key does not need.
    (this.approvalsTopic.node.defaultChild as CfnTopic).kmsMasterKeyId = 'alias/aws/sns';
    for (const arn of props.publisherRoleArns ?? []) this.grantPublish(new ArnPrincipal(arn));

    const notificationDlq = deadLetterQueue(this, 'NotificationDlq');
    const releaseDlq = deadLetterQueue(this, 'ReleaseDlq');
    const digestDlq = deadLetterQueue(this, 'DigestDlq');
    const pipelineEventsDlq = deadLetterQueue(this, 'PipelineEventsDlq');
    acknowledge(
      pipelineEventsDlq,
      'This queue is a dead-letter queue itself (the CodePipeline events rule and asynchronous invocations of pipeline-events).',
      'AwsSolutions-SQS3',
    );
    acknowledge(
      notificationDlq,
      'This queue is a dead-letter queue itself (SNS subscription and asynchronous invocations of approval-notification).',
      'AwsSolutions-SQS3',
    );
    acknowledge(
      digestDlq,
      'This queue is a dead-letter queue itself (EventBridge Scheduler and asynchronous invocations of daily-digest).',
      'AwsSolutions-SQS3',
    );
    const releaseActionDlq = deadLetterQueue(this, 'ReleaseActionDlq');
    acknowledge(
      releaseActionDlq,
      'This queue is a dead-letter queue itself (the on-failure destination of asynchronous invocations of release-action).',
      'AwsSolutions-SQS3',
    );
    this.releaseQueue = new Queue(this, 'ReleaseQueue', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      // AWS's advice for SQS event sources: six times the function timeout.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      // The in-process queue (app/adapters/in-process-release-queue.ts, MAX_RECEIVES) mirrors this locally.
      // Five receives, as AWS advises for a Lambda event source (throttles count too); the worker
      // brings a failed job back after a growing backoff (app/inbound/release-jobs.ts).
      deadLetterQueue: { queue: releaseDlq, maxReceiveCount: 5 },
    });

    const approvalsChannel =
      props.approvalsChannel ??
      new CfnParameter(this, 'ApprovalsChannel', {
        type: 'String',
        description: 'Slack channel ID for approval requests (or deploy with -c approvalsChannel=C…)',
        allowedPattern: '^[CGD][A-Z0-9]{8,}$',
      }).valueAsString;
    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: 'greenlight',
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'Greenlight',
      SLACK_SECRET_ARN: this.slackSecret.secretArn,
      APPROVALS_TABLE: this.table.tableName,
      APPROVALS_CHANNEL: approvalsChannel,
      ...(props.digestChannel ? { DIGEST_CHANNEL: props.digestChannel } : {}),
      PRODUCTS: JSON.stringify(props.products),
      RELEASE_QUEUE_URL: this.releaseQueue.queueUrl,
      ...(props.externalId ? { GREENLIGHT_EXTERNAL_ID: props.externalId } : {}),
      // With products in other accounts: the app refuses one that names Greenlight's own.
      ...(allTargets(props.products as Readonly<Record<string, ProductOverride>>).length > 0
        ? { GREENLIGHT_ACCOUNT_ID: Aws.ACCOUNT_ID }
        : {}),
    };
    // SNS and EventBridge Scheduler invoke asynchronously: after Lambda's retries, the event goes here.
    const asyncDeadLetterQueues: Partial<Record<HandlerName, Queue>> = {
      'approval-notification': notificationDlq,
      'daily-digest': digestDlq,
      'pipeline-events': pipelineEventsDlq,
    };
    const handler = (name: HandlerName, description: string, memorySize: number, timeout: Duration) => {
      const deadLetterQueue = asyncDeadLetterQueues[name];
      return new HandlerFunction(this, name, {
        name,
        description,
        memorySize,
        timeout,
        environment,
        logRetention,
        applicationLogLevel: LAMBDA_LOG_LEVEL[props.logLevel ?? 'INFO'],
        ...(props.handlerCode ? { code: props.handlerCode } : {}),
        ...(deadLetterQueue ? { deadLetterQueue } : {}),
      });
    };
    this.handlers = {
      'approval-notification': handler(
        'approval-notification',
        'Greenlight: posts a CodePipeline approval request to Slack',
        512,
        Duration.seconds(30),
      ),
      // Slack waits 3 s for an answer; memory buys CPU, which shortens the cold start.
      'slack-events': handler(
        'slack-events',
        'Greenlight: Slack buttons, modals and /release',
        512,
        Duration.seconds(10),
      ),
      'release-worker': handler('release-worker', 'Greenlight: runs product release fan-outs', 512, WORKER_TIMEOUT),
      'release-action': handler(
        'release-action',
        'Greenlight: releases a product from a releasing pipeline (CodePipeline Lambda invoke action)',
        256,
        WORKER_TIMEOUT,
      ),
      'daily-digest': handler('daily-digest', 'Greenlight: posts the daily digest', 256, Duration.minutes(2)),
      // The worker's budgets (core/reminders.ts posts one reminder after another, waiting out
      // Slack's rate limit): its time too.
      'pipeline-events': handler(
        'pipeline-events',
        'Greenlight: closes approvals that ended in CodePipeline (its EventBridge events)',
        256,
        WORKER_TIMEOUT,
      ),
    };

    this.grantAccess(props.products);
    this.failReleaseActionsInto(releaseActionDlq);
    this.approvalsElsewhere = this.approveInOtherRegions(props.products, props.alarmTopicArn);
    // Products in other accounts: the topic takes their publishes, these handlers assume their roles
    // (every handler that calls CodePipeline: the releasing pipeline's action releases where an env
    // lives, pipeline-events looks an approval up in its own account, the digest reads each product's
    // board and metrics where it lives); those that answer approvals there are named apart.
    const assumers = [
      'approval-notification',
      'slack-events',
      'release-worker',
      'release-action',
      'pipeline-events',
      'daily-digest',
    ] as const;
    new PipelineAccounts(this, 'PipelineAccounts', {
      products: props.products,
      approvalsTopic: this.approvalsTopic,
      assumers: assumers.map((name) => this.handlers[name].role),
      approvers: assumers
        .filter((name) => answersApprovals(name, props.products as Readonly<Record<string, ProductOverride>>))
        .map((name) => this.handlers[name].role),
      ...(props.alarmTopicArn ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });
    this.connectTriggers(notificationDlq, digestDlq, props);
    this.followPipelines(pipelineEventsDlq, props.products);
    this.remindBeforeExpiry(pipelineEventsDlq);

    const url = this.handlers['slack-events'].fn.addFunctionUrl({
      // Public on purpose: Slack cannot sign requests with AWS credentials. Every request is
      // authenticated by Slack's HMAC signature (X-Slack-Signature), checked with the signing
      // secret before anything else happens.
      authType: FunctionUrlAuthType.NONE,
    });
    this.functionUrl = url.url;

    if (!props.alarmTopicArn)
      Annotations.of(this).addWarningV2(
        'greenlight:alarmsUnwatched',
        "Greenlight's alarms (handler errors and throttles, messages in its dead-letter queues, a stuck release queue) notify no one: deploy with -c alarmTopicArn=<an SNS topic your on-call watches> (README.md, settings).",
      );
    new OperationalAlarms(this, 'Alarms', {
      functions: Object.fromEntries(Object.entries(this.handlers).map(([name, h]) => [name, h.fn])),
      deadLetterQueues: {
        notification: {
          queue: notificationDlq,
          whatToDo:
            "approval notifications failed every try (Slack down, a revoked token, an archived channel, the table unreachable): see approval-notification's logs. " +
            'Nothing to redrive (no queue feeds the function): the reminder schedule posts each stored approval within 15 minutes, or one its start event names ' +
            '6 minutes after it started. Fix the cause, then delete the messages.',
        },
        release: {
          queue: releaseDlq,
          whatToDo:
            "release jobs failed on all 5 receives (about 40 minutes), or this worker could not read them (another Greenlight version's format). " +
            "Find each message id in release-worker's logs ('Release job failed' or 'Could not read a queue message'), fix the cause " +
            '(or finish the deploy or rollback), then redrive the queue to the release queue (SQS console, Start DLQ redrive): jobs are idempotent.',
        },
        digest: {
          queue: digestDlq,
          whatToDo:
            "the day's digest failed every try: see daily-digest's logs. Fix the cause, then invoke daily-digest once " +
            '(aws lambda invoke, no payload): it posts that day if nothing was posted, and lists everything since the last digest. Then delete the message.',
        },
        'pipeline-events': {
          queue: pipelineEventsDlq,
          whatToDo:
            "CodePipeline events or reminder runs failed every try (CodePipeline or the table unreachable, a role not assumable): see pipeline-events' logs. " +
            'Nothing to redrive: the reminder schedule asks CodePipeline about open approvals every 15 minutes and runs again. Fix the cause, then delete the messages.',
        },
        'release-action': {
          queue: releaseActionDlq,
          whatToDo:
            "a releasing pipeline's invocation of release-action failed 3 times or waited too long, so its action fails when CodePipeline's 20 minutes run out. " +
            "The message names the job (requestPayload CodePipeline.job.id) and the error (responsePayload); see release-action's logs. " +
            'Fix the cause, then retry the failed stage in CodePipeline, which approves what still waits. Nothing to redrive: then delete the message.',
        },
      },
      appCounts: {
        'slack-actions-failed': {
          metricName: 'SlackActionFailed',
          whatHappened:
            "A click, modal or command failed with an error of Greenlight's own; the person was told it went wrong and to try again.",
          whatToDo:
            "Find 'Deciding an approval failed' or 'Unhandled error in a Slack listener' in slack-events' logs, with the approval id. " +
            'A decision refused or throttled by CodePipeline is not counted here; this is a fault to fix.',
        },
        'slack-requests-refused': {
          metricName: 'SlackRequestRefused',
          // A public URL: the odd unsigned request from a scanner is refused and is no one's concern.
          tolerated: 10,
          whatHappened: 'Many requests to the Slack URL were refused for a bad or stale signature.',
          whatToDo:
            "If people's clicks and /release fail in Slack, the signing secret in Greenlight's Slack secret is not the app's " +
            '(Slack app settings, Basic Information, App Credentials): put the right one; Greenlight reads it again within a minute. ' +
            "Otherwise someone is sending requests that are not Slack's; they change nothing.",
        },
        'approvals-not-notified': {
          metricName: 'ApprovalNotNotified',
          whatHappened:
            "CodePipeline started an approval whose notification never reached Greenlight; Greenlight posted it from the pipeline's state 6 minutes later.",
          whatToDo:
            "Look at the approval action (release-worker's log line 'CodePipeline started an approval whose notification never reached Greenlight' names it): its NotificationArn must be Greenlight's " +
            'ApprovalsTopicArn (the regional topic in another region); the topic policy must let its account or role publish; in another account its role ' +
            'needs kms:GenerateDataKey* and kms:Decrypt on ApprovalsTopicKeyArn.',
        },
        'approvals-not-posted': {
          metricName: 'ApprovalNotPosted',
          whatHappened:
            'An approval waited 10 minutes without its Slack message (its notification failed every try); the reminder schedule had the worker post it.',
          whatToDo:
            "Find why in approval-notification's logs and NotificationDlq: Slack down, a revoked bot token, an archived channel or a bot not invited. " +
            'Fix that; the schedule posts the next ones within 15 minutes. The messages in NotificationDlq are then posted: delete them.',
        },
      },
      queueAges: {
        release: {
          queue: this.releaseQueue,
          maxAge: RELEASE_QUEUE_MAX_AGE,
          whatToDo:
            "The release worker takes no jobs: confirmed releases, plans and boards wait. Check that release-worker's SQS trigger is Enabled with no error in its last result " +
            '(Lambda console, Configuration, Triggers), that its role may receive from the queue, and its Throttles and Errors alarms. ' +
            'Waiting jobs run once it takes them again; nothing to redrive.',
        },
      },
      ...(props.alarmTopicArn ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    if (props.demo) {
      const product = props.products[props.demo.product] ?? {};
      const demo = new DemoProduct(this, 'Demo', {
        prefix: productPrefix(props.demo.product, product),
        services: props.demo.services,
        notificationTopic: this.approvalsTopic,
      });
      new CfnOutput(this, 'DemoBucketName', {
        value: demo.bucket.bucketName,
        description: 'Upload <service>/source.zip here, then release a demo pipeline',
      });
    }

    this.addOutputs();
  }

  /**
   * Lets `grantee` publish approval requests. CodePipeline publishes as the pipeline's service
   * role, so that is the role to pass. Principals without a policy of their own in this stack
   * (imported roles, ARNs) are added to the topic's resource policy.
   */
  grantPublish(grantee: IGrantable): Grant {
    return this.approvalsTopic.grantPublish(grantee);
  }

  /**
   * CodePipeline publishes an approval only to a topic in the pipeline's own region (CodePipeline
   * user guide, "Manage approval actions": "You must use a topic created in the same AWS Region as
   * the pipeline"): each other region the products name gets an approvals stack of its own
   * (`<id>Approvals-<region>`, in Greenlight's account), whose topic this stack subscribes the
   * approval-notification function to. Their names and ARNs need Greenlight's account and region,
   * which an offline synthesis does not know.
   */
  private approveInOtherRegions(
    products: Readonly<Record<string, ProductSettings>>,
    alarmTopicArn?: string,
  ): ApprovalsRegionStack[] {
    const places = allTargets(products as Readonly<Record<string, ProductOverride>>);
    if (Token.isUnresolved(this.region) || Token.isUnresolved(this.account)) {
      // A template synthesized offline and deployed later would lack them: said, not just noted.
      if (places.length > 0)
        Annotations.of(this).addWarningV2(
          'greenlight:regionsUnknown',
          "Greenlight's account and region are unknown (no AWS credentials), so this synthesis has no approvals stacks for the products' other regions: deploy with credentials (npm run deploy), which makes them.",
        );
      return [];
    }
    const accountsByRegion = new Map<string, Set<string>>();
    for (const { region, account } of places)
      if (region !== this.region)
        accountsByRegion.set(region, (accountsByRegion.get(region) ?? new Set()).add(account));
    const elsewhere = [...accountsByRegion.keys()].sort();
    if (elsewhere.length === 0) return [];
    // SNS delivers across regions except into an opt-in region from any other (SNS developer guide,
    // "Sending Amazon SNS messages to an Amazon SQS queue or AWS Lambda function in a different Region").
    if (RegionInfo.get(this.region).isOptInRegion) {
      Annotations.of(this).addWarningV2(
        'greenlight:approvalsInOtherRegions',
        `Pipelines in ${elsewhere.join(', ')}: CodePipeline notifies only a topic in the pipeline's own region, and SNS does not deliver from another region into ${this.region}, an opt-in region. Their approvals cannot reach Greenlight here: deploy it in a region enabled by default (README.md, "Approvals from pipelines in other regions").`,
      );
      return [];
    }
    const notification = this.handlers['approval-notification'].fn;
    const stage = Stage.of(this);
    if (!stage) throw new Error('GreenlightStack must be in a CDK App or Stage, beside its approvals stacks');
    const unwatched = alarmTopicArn
      ? elsewhere.filter((region) => Arn.split(alarmTopicArn, ArnFormat.NO_RESOURCE_NAME).region !== region)
      : [];
    if (unwatched.length > 0)
      Annotations.of(this).addWarningV2(
        'greenlight:deadLettersUnwatched',
        `The dead-letter alarms of the approvals topics in ${unwatched.join(', ')} notify no one: alarmTopicArn is in another region, and Greenlight gives an alarm only a topic of its own region. Watch them in that region (README.md, "Approvals from pipelines in other regions").`,
      );
    return elsewhere.map((region) => {
      const approvals = new ApprovalsRegionStack(stage, `${this.node.id}Approvals-${region}`, {
        env: { account: this.account, region },
        publisherAccounts: [...(accountsByRegion.get(region) ?? [])].sort(),
        ...(alarmTopicArn && !unwatched.includes(region) ? { alarmTopicArn } : {}),
        description: `Greenlight: the approvals topic of the products' pipelines in ${region}`,
      });
      // The subscription lives in the topic's region (CloudFormation's Region).
      new Subscription(this, `ApprovalsFrom-${region}`, {
        topic: approvals.approvalsTopic,
        protocol: SubscriptionProtocol.LAMBDA,
        endpoint: notification.functionArn,
        region,
        deadLetterQueue: approvals.deadLetterQueue,
      });
      // SNS in an opt-in region invokes a function elsewhere as that region's own service principal
      // (SNS developer guide, "Prerequisites for integrating Amazon SNS with Lambda functions across
      // regions"). Which regions are opt-in is not something to guess (lists differ and grow), so
      // both principals may invoke it, each from this topic only.
      for (const [id, principal] of [
        ['', 'sns.amazonaws.com'],
        ['-regional', `sns.${region}.amazonaws.com`],
      ] as const)
        notification.addPermission(`ApprovalsFrom-${region}${id}`, {
          principal: ServicePrincipal.fromStaticServicePrincipleName(principal),
          sourceArn: approvals.approvalsTopic.topicArn,
        });
      this.addStackDependency(approvals, 'Greenlight subscribes its approval-notification function to the topic there');
      return approvals;
    });
  }

  private grantAccess(products: Readonly<Record<string, ProductSettings>>): void {
    const prefixes = Object.entries(products).map(([name, product]) => productPrefix(name, product));
    if (prefixes.length === 0) {
      Annotations.of(this).addWarningV2(
        'greenlight:noProducts',
        'No products configured: Greenlight may approve no pipeline. Deploy with -c products=\'{"shop":{}}\'.',
      );
    }
    const pipelineArns = prefixes.map((prefix) => this.formatArn({ service: 'codepipeline', resource: `${prefix}*` }));
    // PutApprovalResult authorizes on the action: pipeline/stage/action.
    const actionArns = pipelineArns.map((arn) => `${arn}/*`);
    const tableResources = [
      this.table.tableArn,
      `${this.table.tableArn}/index/byDay`,
      `${this.table.tableArn}/index/pending`,
    ];
    // Those that save releases: a release saved twice deletes the losing copy of its plan.
    const releasers = new Set<HandlerName>(['slack-events', 'release-worker', 'release-action']);
    // The worker queues the rest of a long release as a new job before its timeout; the reminder
    // schedule (pipeline-events) queues the decisions never finished for the worker to settle.
    // approval-notification queues settle jobs only: an auto-approved message whose redraw failed.
    const enqueuers = new Set<HandlerName>([
      'approval-notification',
      'slack-events',
      'release-action',
      'release-worker',
      'pipeline-events',
    ]);

    for (const [name, handler] of Object.entries(this.handlers) as [HandlerName, HandlerFunction][]) {
      const role = handler.role;
      this.slackSecret.grantRead(role);
      allow(role, TABLE_ACTIONS, tableResources);
      allow(role, ['codepipeline:ListPipelines'], ['*']);
      const findings = [wildcardResource(handler, '*')];
      if (pipelineArns.length > 0) {
        allow(role, PIPELINE_READ_ACTIONS, pipelineArns);
        findings.push(...pipelineArns.map((arn) => wildcardResource(handler, arn)));
        // The same handlers as in the products' other accounts (core/access.ts): at ingest, policy
        // auto-approve decides only where an env opts in.
        if (answersApprovals(name, products as Readonly<Record<string, ProductOverride>>)) {
          allow(role, ['codepipeline:PutApprovalResult'], actionArns);
          findings.push(...actionArns.map((arn) => wildcardResource(handler, arn)));
        }
        if (releasers.has(name)) {
          // Nothing but the losing copy of a plan may be deleted, so the audit trail stays append-only.
          role.addToPrincipalPolicy(
            new PolicyStatement({
              actions: ['dynamodb:DeleteItem'],
              resources: [this.table.tableArn],
              conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RELEASE#*'] } },
            }),
          );
        }
      }
      if (enqueuers.has(name)) this.releaseQueue.grantSendMessages(role);
      if (name === 'approval-notification' && pipelineArns.length > 0) {
        // What an approval asks to approve (docs/what-am-i-approving.md): the change set its pipeline's
        // CHANGE_SET_REPLACE action created. Stack names are the pipelines' own choice, in any region
        // their actions name, so the stacks of this account are named by wildcard; reading is all it may.
        const stacks = this.formatArn({ service: 'cloudformation', region: '*', resource: 'stack', resourceName: '*' });
        allow(role, ['cloudformation:DescribeChangeSet'], [stacks]);
        acknowledge(
          handler,
          "cloudformation:DescribeChangeSet (read only) on this account's stacks: the stacks a pipeline's change-set action names are the pipeline's own choice, in any region its actions name.",
          wildcardResource(handler, stacks),
        );
      }
      if (name === 'release-action') {
        allow(role, ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], ['*']);
      }
      acknowledge(
        handler,
        'CodePipeline ListPipelines and PutJobSuccessResult/PutJobFailureResult allow no resource but "*". ' +
          "Pipeline access is scoped to the configured products' name prefixes (<prefix>* and <prefix>*/* for approval actions), " +
          'the only way to cover pipelines that do not exist yet.',
        ...new Set(findings),
      );
    }
  }

  /**
   * CodePipeline invokes release-action asynchronously. The handler reports to CodePipeline whatever
   * it understands; what throws is passing (a PutJob*Result call throttled, a cold start that could
   * not read its secret, a timeout), so Lambda retries it twice, 1 and then 2 minutes later (Lambda
   * developer guide, "How Lambda handles errors and retries with asynchronous invocation"), and a
   * retry resumes the same release (its id is the job's). An event older than the job's 20 minutes
   * less one invocation could not answer its job in time, so it stops there; retries still fit
   * (attempts start by 0, 6 and 13 minutes). What is left goes to the on-failure destination: its
   * record carries the job and the error, where a dead-letter queue would keep only the event
   * ("Capturing records of Lambda asynchronous invocations"). Its alarm says what to do.
   */
  private failReleaseActionsInto(deadLetters: Queue): void {
    const { fn, role } = this.handlers['release-action'];
    fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.minutes(CODEPIPELINE_JOB_REPLY_TIMEOUT.toMinutes() - WORKER_TIMEOUT.toMinutes()),
      // Lambda sends the record with the function's role: it needs sqs:SendMessage there and nothing
      // more (SqsDestination would grant GetQueueAttributes and GetQueueUrl too).
      onFailure: {
        bind: () => {
          allow(role, ['sqs:SendMessage'], [deadLetters.queueArn]);
          return { destination: deadLetters.queueArn };
        },
      },
    });
  }

  private connectTriggers(notificationDlq: Queue, digestDlq: Queue, props: GreenlightStackProps): void {
    this.approvalsTopic.addSubscription(
      new LambdaSubscription(this.handlers['approval-notification'].fn, { deadLetterQueue: notificationDlq }),
    );
    this.handlers['release-worker'].fn.addEventSource(
      new SqsEventSource(this.releaseQueue, {
        // One job per invocation: a plan or board someone waits for in Slack never queues behind a
        // fan-out of the same batch, and each fan-out gets the invocation's whole time.
        batchSize: 1,
        reportBatchItemFailures: true,
        // Fan-outs call CodePipeline for every pipeline of a product: two at a time avoids throttling.
        maxConcurrency: 2,
      }),
    );
    const digest = this.handlers['daily-digest'].fn;
    new Schedule(this, 'DailyDigest', {
      description: 'Greenlight daily digest',
      schedule: ScheduleExpression.expression(
        props.digestSchedule ?? DEFAULT_DIGEST_SCHEDULE,
        TimeZone.of(props.digestTimeZone ?? DEFAULT_DIGEST_TIME_ZONE),
      ),
      target: new LambdaInvoke(digest, {
        // The shape of an EventBridge "Scheduled Event"; `time` is the scheduled time, the same on
        // every retry: the digest posts for that time's UTC day and ends its window there
        // (app/inbound/daily-digest.ts, scheduledTimeOf), so a late retry posts the day it was meant for.
        input: ScheduleTargetInput.fromObject({
          version: '0',
          id: ContextAttribute.executionId,
          'detail-type': 'Scheduled Event',
          source: 'aws.scheduler',
          time: ContextAttribute.scheduledTime,
          resources: [ContextAttribute.scheduleArn],
          detail: {},
        }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: digestDlq,
      }),
    });
    // The scheduler's role is a stack-level singleton, hence the acknowledgement on the stack.
    acknowledge(
      this,
      "The scheduler role aws-cdk-lib creates may invoke daily-digest's versions and aliases (<arn>:*), no other function.",
      wildcardResource(this, `${digest.functionArn}:*`),
    );
  }

  /**
   * CodePipeline's own events (default bus, `source: aws.codepipeline`) of the configured products'
   * pipelines (`detail.pipeline` prefix match) go to pipeline-events, which closes approvals that
   * ended in CodePipeline and follows a change Greenlight approved into its thread. EventBridge's
   * retries (up to 2 hours) cover handing the event to Lambda; an invocation that fails is Lambda's
   * to retry (twice, 1 and 2 minutes apart), then the event is in the dead-letter queue (which
   * alarms). The reminder schedule asks CodePipeline about open approvals itself every 15 minutes
   * (core/pipeline-events.ts, reconcileOpen), so a lost event leaves no approval open for long.
   */
  private followPipelines(deadLetterQueue: Queue, products: Readonly<Record<string, ProductSettings>>): void {
    const prefixes = Object.entries(products).map(([name, product]) => productPrefix(name, product));
    if (prefixes.length === 0) return;
    new Rule(this, 'PipelineEvents', {
      description: "Greenlight: CodePipeline state changes of the products' pipelines",
      // No `account` in the pattern: it matches the events the pipeline accounts forward to this bus
      // too (PipelineAccounts lets exactly them put events here), each with its own `account`.
      eventPattern: pipelineEventPattern(prefixes),
      targets: [
        new LambdaFunction(this.handlers['pipeline-events'].fn, {
          deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  /**
   * Reminders before expiry (core/reminders.ts): every 15 minutes a scheduled rule hands
   * pipeline-events its "Scheduled Event", and it reminds each open approval within its product's
   * `reminderHours` once; first it queues the decisions whose Lambda died half-way for the worker
   * to settle. A light path of the function that already reads open approvals and posts in their
   * threads, not a function of its own. A missed run is made up by the next one, so
   * retries stop after 15 minutes; what still fails waits in the pipeline-events dead-letter queue.
   * The rule may invoke only pipeline-events (the target's permission names the rule as its source).
   */
  private remindBeforeExpiry(deadLetterQueue: Queue): void {
    new Rule(this, 'Reminders', {
      description: 'Greenlight: reminders before approvals expire; decisions never finished queued to settle',
      schedule: RuleSchedule.rate(Duration.minutes(15)),
      targets: [
        new LambdaFunction(this.handlers['pipeline-events'].fn, {
          deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(15),
        }),
      ],
    });
  }

  private addOutputs(): void {
    const slackUrl = this.functionUrl;
    new CfnOutput(this, 'ApprovalsTopicArn', {
      value: this.approvalsTopic.topicArn,
      description: "Set it as the SNS topic of each pipeline's manual approval action",
    });
    new CfnOutput(this, 'SlackSecretArn', {
      value: this.slackSecret.secretArn,
      description: 'aws secretsmanager put-secret-value --secret-id <this> --secret-string \'{"botToken":…}\'',
    });
    new CfnOutput(this, 'SlackEventsUrl', { value: slackUrl, description: 'The slack-events Function URL' });
    new CfnOutput(this, 'InteractivityRequestUrl', {
      value: slackUrl,
      description: 'Slack: Interactivity request URL',
    });
    new CfnOutput(this, 'SlashCommandRequestUrl', { value: slackUrl, description: 'Slack: /release request URL' });
    new CfnOutput(this, 'SlackManifest', {
      value: this.toJsonString(withRequestUrl(readManifest(), slackUrl)),
      description: 'Slack app manifest (JSON) with the request URLs filled in',
    });
    new CfnOutput(this, 'ReleaseActionFunctionName', {
      value: this.handlers['release-action'].fn.functionName,
      description: "A releasing pipeline's Lambda invoke action calls this function",
    });
    new CfnOutput(this, 'ApprovalsTableName', { value: this.table.tableName });
  }
}

function allow(role: IRole, actions: string[], resources: string[]): void {
  role.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
}
