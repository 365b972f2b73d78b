/*
 * What an operator sees when a release goes wrong (review: faults #5, ops M1 and M3): a releasing
 * pipeline's invocation that Lambda gave up on, a release job the worker could not read, a release
 * queue whose jobs nobody takes. Each must end in an alarm whose description says what to do.
 */
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_RECEIVES } from '../../app/adapters/in-process-release-queue.ts';
import { unreadableJobRetrySeconds } from '../../app/inbound/release-jobs.ts';
import { HANDLER_NAMES } from '../../infra/constructs/handler-function.ts';
import { allStatements, asList, handlerStatements, type Statement, synthGreenlight } from './synth.ts';

const actionsOf = (statement: Statement) => asList(statement.Action);

const { stack, template } = synthGreenlight();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
/** The logical id of the queue whose construct id is `id`. */
const logicalIdOf = (id: string): string => {
  const ids = Object.keys(resources).filter(
    (logicalId) => resources[logicalId]?.Type === 'AWS::SQS::Queue' && new RegExp(`^${id}[0-9A-F]{8}$`).test(logicalId),
  );
  expect(ids, id).toHaveLength(1);
  return ids[0] as string;
};
const alarmsOn = (metric: string, queuePrefix: string) =>
  Object.values(resources).filter(
    (resource) =>
      resource.Type === 'AWS::CloudWatch::Alarm' &&
      resource.Properties.MetricName === metric &&
      JSON.stringify(resource.Properties.Dimensions).includes(`"${logicalIdOf(queuePrefix)}"`),
  );
const releaseAction = stack.getLogicalId(stack.handlers['release-action'].fn.node.defaultChild as CfnFunction);

/** CodePipeline fails a Lambda invoke action whose function has not replied for 20 minutes (CodePipeline quotas). */
const CODEPIPELINE_REPLY_SECONDS = 20 * 60;

describe('release-action, invoked asynchronously by CodePipeline', () => {
  it('sends what Lambda gives up on to an on-failure destination, within the time a reply can still reach the job', () => {
    // Act
    const configs = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig');
    const timeout = Number(resources[releaseAction]?.Properties.Timeout);
    // Assess: one configuration, release-action's
    expect(configs).toHaveLength(1);
    const config = configs[0]?.Properties ?? {};
    expect(config).toMatchObject({
      FunctionName: { Ref: releaseAction },
      Qualifier: '$LATEST',
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf('ReleaseActionDlq'), 'Arn'] } } },
      // Both of Lambda's retries: a passing failure (PutJob*Result throttled, a timeout) resumes the same release.
      MaximumRetryAttempts: 2,
    });
    // An attempt that starts no later than this still replies (within its timeout) before the job times out …
    const maxAge = Number(config.MaximumEventAgeInSeconds);
    expect(maxAge + timeout).toBeLessThanOrEqual(CODEPIPELINE_REPLY_SECONDS);
    // … and both retries fit: the last starts by 3 timeouts and Lambda's 1 + 2 minute waits less one timeout.
    expect(maxAge).toBeGreaterThanOrEqual(2 * timeout + 3 * 60);
  });

  it('lets release-action only send to its dead-letter queue, and nobody else write to it', () => {
    // Act
    const dlq = logicalIdOf('ReleaseActionDlq');
    const naming = allStatements(template).filter(({ statement }) =>
      String(JSON.stringify(statement.Resource)).includes(dlq),
    );
    const byHandler = Object.fromEntries(
      HANDLER_NAMES.map((name) => [
        name,
        handlerStatements(template, name)
          .filter((statement) => String(JSON.stringify(statement.Resource)).includes(dlq))
          .flatMap(actionsOf),
      ]),
    );
    // Assess
    expect(byHandler).toEqual({
      'approval-notification': [],
      'slack-events': [],
      'release-worker': [],
      'release-action': ['sqs:SendMessage'],
      'daily-digest': [],
      'pipeline-events': [],
    });
    // Besides that grant, only the queue's own TLS-only denial names it.
    const allows = naming.filter(({ statement }) => statement.Effect === 'Allow');
    expect(allows.map(({ statement }) => asList(statement.Action))).toEqual([['sqs:SendMessage']]);
    expect(resources[dlq]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      // 14 days to read the record: the most SQS keeps a message.
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('alarms on any record in that queue, saying to retry the stage in CodePipeline', () => {
    // Act
    const alarms = alarmsOn('ApproximateNumberOfMessagesVisible', 'ReleaseActionDlq');
    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    const description = String(alarms[0]?.Properties.AlarmDescription);
    expect(description).toMatch(/CodePipeline\.job\.id/);
    expect(description).toMatch(/retry the failed stage in CodePipeline/);
  });
});

describe('the release queue', () => {
  it('alarms when its oldest job has waited longer than any healthy job waits, saying what to check', () => {
    // Act
    const alarms = alarmsOn('ApproximateAgeOfOldestMessage', 'ReleaseQueue');
    const workerTimeout = Number(
      resources[stack.getLogicalId(stack.handlers['release-worker'].fn.node.defaultChild as CfnFunction)]?.Properties
        .Timeout,
    );
    // Assess
    expect(alarms).toHaveLength(1);
    const alarm = alarms[0]?.Properties ?? {};
    expect(alarm).toMatchObject({
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const threshold = Number(alarm.Threshold);
    // Above a job that waits for one of the worker's two slots and then runs (two timeouts), above
    // SQS's longest message timer (900 s, a delayed settle job), and above the backoff of a failing
    // job before its third receive (after which SQS leaves it out of the metric) …
    expect(threshold).toBeGreaterThanOrEqual(2 * workerTimeout);
    expect(threshold).toBeGreaterThanOrEqual(900);
    expect(threshold).toBeGreaterThan(unreadableJobRetrySeconds(1) + unreadableJobRetrySeconds(2));
    // … and well before a job that cannot run reaches the dead letters (1 + 3 + 9 + 27 minutes of backoff).
    const toDeadLetters = Array.from({ length: MAX_RECEIVES - 1 }, (_, i) => unreadableJobRetrySeconds(i + 1)).reduce(
      (a, b) => a + b,
    );
    expect(threshold).toBeLessThan(toDeadLetters);
    expect(String(alarm.AlarmDescription)).toMatch(/SQS trigger is Enabled/);
  });

  it('has dead letters whose alarm says how to find the cause and redrive them, unreadable jobs included', () => {
    // Act
    const alarms = alarmsOn('ApproximateNumberOfMessagesVisible', 'ReleaseDlq');
    // Assess
    expect(alarms).toHaveLength(1);
    const description = String(alarms[0]?.Properties.AlarmDescription);
    expect(description).toMatch(/Could not read a queue message/);
    expect(description).toMatch(/redrive/);
  });

  it('sends the new alarms to the alarm topic like every other', () => {
    // Prepare
    const alarmTopicArn = 'arn:aws:sns:eu-central-1:123456789012:on-call';
    // Act
    const withTopic = synthGreenlight({ alarmTopicArn }).template;
    // Assess
    for (const [metric, queue] of [
      ['ApproximateAgeOfOldestMessage', 'ReleaseQueue'],
      ['ApproximateNumberOfMessagesVisible', 'ReleaseActionDlq'],
      ['ApproximateNumberOfMessagesVisible', 'ReleaseDlq'],
    ] as const)
      withTopic.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${queue}[0-9A-F]{8}$`), 'QueueName'] },
          },
        ],
        AlarmActions: [alarmTopicArn],
      });
  });
});
