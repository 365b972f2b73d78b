import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { MAX_RECEIVES } from '../../app/adapters/in-process-release-queue.ts';
import { ENDING_STATES } from '../../app/inbound/pipeline-events.ts';
import { HANDLER_NAMES, type HandlerName } from '../../infra/constructs/handler-function.ts';
import { GreenlightStack } from '../../infra/greenlight-stack.ts';
import { slackManifestSchema } from '../../infra/slack-manifest.ts';
import { allStatements, asList, BASE_PROPS, ENV, handlerStatements, type Statement, synthGreenlight } from './synth.ts';

const { stack, template } = synthGreenlight();
const json = JSON.stringify(template.toJSON());
const actions = (statement: Statement) => asList(statement.Action);
const pipelineArn = (prefix: string) => `arn:aws:codepipeline:eu-central-1:123456789012:${prefix}`;
const functionProperties = (name: HandlerName): Record<string, unknown> =>
  template.toJSON().Resources[stack.getLogicalId(stack.handlers[name].fn.node.defaultChild as CfnFunction)].Properties;

describe('GreenlightStack', () => {
  it('keeps approvals in an on-demand table with the keys and indexes of every earlier version, retained on deletion', () => {
    // Prepare
    const expectedIndex = (name: string, pk: string, sk: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: pk, KeyType: 'HASH' },
        { AttributeName: sk, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    // Act
    const tables = template.findResources('AWS::DynamoDB::Table');
    // Assess: the same resource (logical id) with the same keys as every earlier version, so an
    // upgrade never has CloudFormation replace the table with an empty one (README, "Upgrades")
    expect(Object.keys(tables)).toEqual(['Approvals8537C562']);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith(
          ['pk', 'sk', 'dayPk', 'daySk', 'pendingPk', 'pendingSk'].map((name) => ({
            AttributeName: name,
            AttributeType: 'S',
          })),
        ),
        GlobalSecondaryIndexes: [
          expectedIndex('byDay', 'dayPk', 'daySk'),
          expectedIndex('pending', 'pendingPk', 'pendingSk'),
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('runs each of the six handlers on Node.js 24, arm64, as minified ESM with JSON logs and the app environment', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    // Act
    const environments = functions.map((fn) => fn.Properties.Environment.Variables as Record<string, unknown>);
    // Assess
    expect(functions).toHaveLength(HANDLER_NAMES.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: {
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          LogGroup: { Ref: expect.stringMatching(/Logs/) },
        },
      });
    }
    for (const environment of environments) {
      expect(Object.keys(environment).sort()).toEqual([
        'APPROVALS_CHANNEL',
        'APPROVALS_TABLE',
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'PRODUCTS',
        'RELEASE_QUEUE_URL',
        'SLACK_SECRET_ARN',
      ]);
      expect(environment).toMatchObject({
        APPROVALS_CHANNEL: 'C0123456789',
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'greenlight',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_NAMESPACE: 'Greenlight',
        PRODUCTS: '{"shop":{},"payments":{"prefix":"pay-"}}',
        SLACK_SECRET_ARN: { Ref: expect.stringMatching(/^SlackSecret/) },
      });
    }
  });

  it('gives each handler its own log group, kept for a month', () => {
    // Act
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    // Assess
    expect(groups).toHaveLength(HANDLER_NAMES.length);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('sizes each handler for its trigger: Slack answers within 3 s, fan-outs may take minutes', () => {
    // Act
    const sizes = Object.fromEntries(
      HANDLER_NAMES.map((name) => {
        const { MemorySize, Timeout } = functionProperties(name);
        return [name, [MemorySize, Timeout]];
      }),
    );
    // Assess
    expect(sizes).toEqual({
      'approval-notification': [512, 30],
      'slack-events': [512, 10],
      'release-worker': [512, 300],
      'release-action': [256, 300],
      'daily-digest': [256, 120],
      'pipeline-events': [256, 300],
    });
  });

  it('exposes slack-events through a public Function URL, Slack signatures being the authentication', () => {
    // Assess
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^slackevents'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
    for (const output of ['SlackEventsUrl', 'InteractivityRequestUrl', 'SlashCommandRequestUrl']) {
      template.hasOutput(output, {
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^slackeventsFunctionFunctionUrl'), 'FunctionUrl'] },
      });
    }
  });

  it('delivers approval requests from an SSL-only, encrypted topic to approval-notification, with a DLQ', () => {
    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: 'alias/aws/sns' });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^approvalnotification'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationDlq'), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('approval request'),
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationDlq'), 'Arn'] } },
    });
    template.hasOutput('ApprovalsTopicArn', { Value: { Ref: Match.stringLikeRegexp('^ApprovalsTopic') } });
  });

  it('queues release jobs for release-worker: SSL only, a DLQ after 5 receives, partial batch failures', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 1800,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReleaseDlq'), 'Arn'] },
        // The in-process queue the sandbox runs on dead-letters after as many receives.
        maxReceiveCount: MAX_RECEIVES,
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('^releaseworker') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const sslDenials = queuePolicies.filter((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).some(
        (statement) => statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      ),
    );
    // The release queue and the five dead-letter queues.
    expect(sslDenials).toHaveLength(6);
  });

  it('posts the digest on weekdays at 08:00 Berlin time, with retries and a DLQ', () => {
    // Act
    const [schedule] = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    // Assess
    expect(schedule?.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 8 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/^dailydigest/), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^DigestDlq/), 'Arn'] } },
      },
    });
    expect(JSON.parse(schedule?.Properties.Target.Input)).toMatchObject({
      'detail-type': 'Scheduled Event',
      time: '<aws.scheduler.scheduled-time>',
    });
  });

  it("sends the products' CodePipeline events to pipeline-events, with retries, a DLQ and its alarm", () => {
    // Act
    const rules = Object.values(template.findResources('AWS::Events::Rule'))
      .map((rule) => rule.Properties)
      .filter((rule) => rule.EventPattern !== undefined);
    // Assess: the default bus, CodePipeline's three detail types, the products' pipelines only
    expect(rules).toEqual([
      expect.objectContaining({
        State: 'ENABLED',
        EventPattern: {
          source: ['aws.codepipeline'],
          'detail-type': [
            'CodePipeline Pipeline Execution State Change',
            'CodePipeline Stage Execution State Change',
            'CodePipeline Action Execution State Change',
          ],
          detail: {
            pipeline: [{ prefix: 'shop-' }, { prefix: 'pay-' }],
            state: [...ENDING_STATES, 'STARTED'],
          },
        },
        Targets: [
          expect.objectContaining({
            Arn: { 'Fn::GetAtt': [expect.stringMatching(/^pipelineevents/), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^PipelineEventsDlq/), 'Arn'] } },
          }),
        ],
      }),
    ]);
    expect(rules[0]?.EventBusName).toBeUndefined();
    // EventBridge may put what it could not deliver into the DLQ, and the DLQ alarms.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } }),
        ]),
      },
      Queues: [{ Ref: Match.stringLikeRegexp('^PipelineEventsDlq') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelineEventsDlq'), 'QueueName'] } },
      ],
    });
  });

  it('takes the digest schedule and time zone from props', () => {
    // Act
    const { template: custom } = synthGreenlight({
      digestSchedule: 'cron(30 9 ? * MON *)',
      digestTimeZone: 'America/New_York',
      digestChannel: 'C0DIGEST00',
    });
    // Assess
    custom.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 9 ? * MON *)',
      ScheduleExpressionTimezone: 'America/New_York',
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DIGEST_CHANNEL: 'C0DIGEST00' }) },
    });
  });

  it.each([
    ['DEBUG', 'DEBUG'],
    // The metric lines (EMF) carry no level and count as INFO: Lambda must keep them for the alarms.
    ['ERROR', 'INFO'],
  ] as const)('with -c logLevel=%s, has Lambda keep the functions’ lines from %s up', (asked, kept) => {
    // Act
    const { template: custom } = synthGreenlight({ logLevel: asked });
    const functions = Object.values(custom.findResources('AWS::Lambda::Function'));
    // Assess: Lambda filters JSON logs by level itself (INFO by default), Powertools defers to it
    expect(functions).toHaveLength(HANDLER_NAMES.length);
    for (const fn of functions) {
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: kept });
      expect(fn.Properties.Environment.Variables).toMatchObject({ POWERTOOLS_LOG_LEVEL: asked });
    }
  });

  it('creates the Slack secret with its shape only: no credential in code or template', () => {
    // Assess
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: '{"botToken":""}',
        GenerateStringKey: 'signingSecret',
      },
    });
    template.hasOutput('SlackSecretArn', { Value: { Ref: Match.stringLikeRegexp('^SlackSecret') } });
    const [secret] = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secret?.Properties.SecretString).toBeUndefined();
    // Asserted as booleans: a failure should not print the whole template.
    expect(/xox[abpr]-/.test(json)).toBe(false);
    expect(/SLACK_(BOT_TOKEN|SIGNING_SECRET)/.test(json)).toBe(false);
  });

  it('allows no wildcard action, and denies only what is not sent over TLS', () => {
    // Act
    const statements = allStatements(template).map(({ statement }) => statement);
    // Assess
    expect(statements.length).toBeGreaterThan(20);
    for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
      for (const action of actions(statement)) expect(action).not.toContain('*');
    }
    for (const statement of statements.filter((s) => s.Effect === 'Deny')) {
      expect(statement.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    }
  });

  it('lets only slack-events, release-worker and release-action approve, on the products’ pipelines only', () => {
    // Act
    const approvals = Object.fromEntries(
      HANDLER_NAMES.map((name) => [
        name,
        handlerStatements(template, name)
          .filter((statement) => actions(statement).includes('codepipeline:PutApprovalResult'))
          .map((statement) => statement.Resource),
      ]),
    );
    // Assess
    const approvable = [[pipelineArn('pay-*/*'), pipelineArn('shop-*/*')]];
    expect(approvals).toEqual({
      'approval-notification': [],
      'slack-events': approvable,
      'release-worker': approvable,
      'release-action': approvable,
      'daily-digest': [],
      'pipeline-events': [],
    });
    for (const { statement } of allStatements(template)) {
      if (actions(statement).includes('codepipeline:PutApprovalResult')) {
        expect(actions(statement)).toEqual(['codepipeline:PutApprovalResult']);
      }
    }
  });

  it('scopes pipeline reads to the product prefixes and uses "*" only where CodePipeline allows nothing else', () => {
    // Prepare
    const unscopable = [
      'codepipeline:ListPipelines',
      'codepipeline:PutJobFailureResult',
      'codepipeline:PutJobSuccessResult',
    ];
    // Act
    const statements = allStatements(template).map(({ statement }) => statement);
    const reads = statements.filter((statement) => actions(statement).includes('codepipeline:GetPipelineState'));
    const everywhere = statements.filter((s) => s.Effect === 'Allow' && asList(s.Resource).includes('*'));
    // Assess
    expect(reads).toHaveLength(HANDLER_NAMES.length);
    for (const read of reads) {
      expect(read.Action).toEqual([
        'codepipeline:GetPipeline',
        'codepipeline:GetPipelineExecution',
        'codepipeline:GetPipelineState',
        'codepipeline:ListPipelineExecutions',
      ]);
      expect(read.Resource).toEqual([pipelineArn('pay-*'), pipelineArn('shop-*')]);
    }
    for (const statement of everywhere) {
      expect(unscopable).toEqual(expect.arrayContaining(actions(statement)));
    }
    expect(
      handlerStatements(template, 'release-action').some((s) =>
        actions(s).includes('codepipeline:PutJobSuccessResult'),
      ),
    ).toBe(true);
  });

  it('grants the release queue to its producers and its consumer only', () => {
    // Act
    const queueActions = Object.fromEntries(
      HANDLER_NAMES.map((name) => [
        name,
        handlerStatements(template, name)
          .filter((s) => JSON.stringify(s.Resource).includes('ReleaseQueue'))
          .flatMap(actions)
          .sort(),
      ]),
    );
    // Assess
    const send = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
    expect(queueActions).toEqual({
      // A settle job for an auto-approved message whose redraw failed.
      'approval-notification': send,
      'slack-events': send,
      // The worker consumes jobs and queues the rest of a long release as a new job.
      'release-worker': [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ],
      'release-action': send,
      'daily-digest': [],
      // The reminder schedule queues the decisions never finished for the worker to settle.
      'pipeline-events': send,
    });
  });

  it('lets every handler read the Slack secret and use the table and its two indexes, nothing more', () => {
    for (const name of HANDLER_NAMES) {
      // Act
      const statements = handlerStatements(template, name);
      const table = statements.filter((s) =>
        actions(s).some((action) => action.startsWith('dynamodb:') && action !== 'dynamodb:DeleteItem'),
      );
      const secret = statements.filter((s) => actions(s).some((action) => action.startsWith('secretsmanager:')));
      // Assess
      expect(table).toHaveLength(1);
      expect(table[0]?.Action).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      expect(JSON.stringify(table[0]?.Resource)).toMatch(/\/index\/byDay.*\/index\/pending/);
      expect(secret).toEqual([
        expect.objectContaining({
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: { Ref: expect.stringMatching(/^SlackSecret/) },
        }),
      ]);
    }
  });

  it('lets only the handlers that save release plans delete, and only release items', () => {
    for (const name of HANDLER_NAMES) {
      // Act
      const deletes = handlerStatements(template, name).filter((s) => actions(s).includes('dynamodb:DeleteItem'));
      // Assess
      if (['slack-events', 'release-worker', 'release-action'].includes(name)) {
        expect(deletes).toEqual([
          expect.objectContaining({
            Action: 'dynamodb:DeleteItem',
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RELEASE#*'] } },
          }),
        ]);
      } else expect(deletes).toEqual([]);
    }
  });

  it('alarms on every handler error and throttle, on any message in a DLQ, on a stuck release queue, on an approval never posted and on failing Slack requests', () => {
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties);
    const count = (metric: string) => alarms.filter((alarm) => alarm.MetricName === metric).length;
    // Assess
    expect(count('Errors')).toBe(6);
    expect(count('Throttles')).toBe(6);
    expect(count('ApproximateNumberOfMessagesVisible')).toBe(5);
    expect(count('ApproximateAgeOfOldestMessage')).toBe(1);
    // Counted by the reminder schedule when it has the worker post an approval its notification never did.
    expect(alarms.filter((alarm) => alarm.MetricName === 'ApprovalNotPosted')).toEqual([
      expect.objectContaining({
        Namespace: 'Greenlight',
        Dimensions: [{ Name: 'service', Value: 'greenlight' }],
        Statistic: 'Sum',
        AlarmDescription: expect.stringContaining('NotificationDlq'),
      }),
    ]);
    // An approval that started with no notification: posted from the state, and the notification path needs fixing.
    expect(alarms.find((alarm) => alarm.MetricName === 'ApprovalNotNotified')).toMatchObject({
      Threshold: 0,
      AlarmDescription: expect.stringContaining('NotificationArn'),
    });
    // A click that failed with a fault of ours; many requests refused for their signature (a few are the internet's).
    expect(alarms.find((alarm) => alarm.MetricName === 'SlackActionFailed')).toMatchObject({ Threshold: 0 });
    expect(alarms.find((alarm) => alarm.MetricName === 'SlackRequestRefused')).toMatchObject({
      Threshold: 10,
      AlarmDescription: expect.stringContaining('signing secret'),
    });
    for (const alarm of alarms) {
      const threshold =
        alarm.MetricName === 'ApproximateAgeOfOldestMessage'
          ? 900
          : alarm.MetricName === 'SlackRequestRefused'
            ? 10
            : 0;
      expect(alarm).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold' });
      expect(alarm.AlarmActions).toBeUndefined();
    }
    // Without a topic they notify no one: said at synth and deploy.
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp("^Greenlight's alarms .* notify no one"));
  });

  it('sends alarms, and their clearing, to an existing topic when given one', () => {
    // Prepare
    const alarmTopicArn = 'arn:aws:sns:eu-central-1:123456789012:on-call';
    // Act
    const withTopic = synthGreenlight({ alarmTopicArn });
    // Assess
    const alarms = Object.values(withTopic.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(22);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([alarmTopicArn]);
      expect(alarm.Properties.OKActions).toEqual([alarmTopicArn]);
    }
    Annotations.fromStack(withTopic.stack).hasNoWarning('*', Match.stringLikeRegexp('notify no one'));
  });

  it('stops synthesis, saying what to shorten, when the environment would exceed the 4 KB Lambda allows', () => {
    // Prepare: 30 products, each with its own approvers and display name
    const products = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [
        `product${i}`,
        {
          displayName: `Product number ${i}`,
          envs: { prod: { stage: 'StagingQA', approvers: ['U0ALICE01', 'U0BOB0002'] } },
        },
      ]),
    );
    // Act / Assess
    expect(() => synthGreenlight({ products })).toThrow(/over the 4096 bytes Lambda allows; PRODUCTS is \d+ of them/);
    expect(() =>
      synthGreenlight({ products: Object.fromEntries(Object.entries(products).slice(0, 10)) }),
    ).not.toThrow();
  });

  it('lets the configured pipeline roles publish, through the topic policy, without touching the roles', () => {
    // Prepare
    const publisher = 'arn:aws:iam::123456789012:role/shop-cart-pipeline-role';
    // Act
    const { template: withPublishers } = synthGreenlight({ publisherRoleArns: [publisher] });
    // Assess
    withPublishers.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { AWS: publisher } }),
        ]),
      },
    });
  });

  it('grants publishing to a pipeline role of another stack through the role’s own policy (grantPublish)', () => {
    // Prepare
    const app = new App();
    const greenlight = new GreenlightStack(app, 'Greenlight', BASE_PROPS);
    const pipelines = new Stack(app, 'Pipelines', { env: ENV });
    const role = new Role(pipelines, 'PipelineRole', { assumedBy: new ServicePrincipal('codepipeline.amazonaws.com') });
    // Act
    greenlight.grantPublish(role);
    // Assess
    Template.fromStack(pipelines).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: { 'Fn::ImportValue': Match.anyValue() } }],
      },
    });
  });

  it('asks for the approvals channel as a parameter when it is not given', () => {
    // Prepare
    const { approvalsChannel: _, ...withoutApprovalsChannel } = BASE_PROPS;
    // Act
    const { template: withoutChannel } = synthGreenlight({}, withoutApprovalsChannel);
    // Assess
    withoutChannel.hasParameter('ApprovalsChannel', { Type: 'String', AllowedPattern: '^[CGD][A-Z0-9]{8,}$' });
    withoutChannel.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ APPROVALS_CHANNEL: { Ref: 'ApprovalsChannel' } }) },
    });
  });

  it('approves nothing and says so when no product is configured', () => {
    // Prepare: synthesis prints its warnings, as `cdk synth` shows them; kept here, out of the test's output
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => printed.mockRestore());
    // Act
    const { stack: bare, template: withoutProducts } = synthGreenlight({ products: {} });
    // Assess
    const statements = allStatements(withoutProducts).map(({ statement }) => statement);
    expect(statements.filter((s) => actions(s).includes('codepipeline:PutApprovalResult'))).toEqual([]);
    expect(statements.filter((s) => actions(s).includes('codepipeline:GetPipelineState'))).toEqual([]);
    Annotations.fromStack(bare).hasWarning('*', Match.stringLikeRegexp('No products configured'));
    expect(printed.mock.calls.flat().join('\n')).toMatch(
      /WARNING No products configured: Greenlight may approve no pipeline/,
    );
  });

  it('prints the Slack manifest with the Function URL as a stack output', () => {
    // Prepare
    const url = 'https://abc123.lambda-url.eu-central-1.on.aws/';
    const joined = template.findOutputs('SlackManifest').SlackManifest?.Value['Fn::Join'] as [string, unknown[]];
    // Act
    const manifest = JSON.parse(joined[1].map((part) => (typeof part === 'string' ? part : url)).join(joined[0]));
    // Assess
    expect(slackManifestSchema.parse(manifest)).toMatchObject({
      features: { slash_commands: [{ command: '/release', url }] },
      settings: { interactivity: { is_enabled: true, request_url: url } },
    });
  });
});
