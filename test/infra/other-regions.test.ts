import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { GreenlightStack, type GreenlightStackProps } from '../../infra/greenlight-stack.ts';
import {
  A,
  B,
  BASE_PROPS,
  C,
  ENV,
  keyStatements,
  OTHER_ACCOUNT_PRODUCTS,
  publishThroughSns,
  synthChecked,
  withDeskIn,
} from './synth.ts';

/*
 * Pipelines in the products' other regions (README, "Approvals from pipelines in other regions"):
 * CodePipeline notifies only a topic in the pipeline's own region, so each such region gets an
 * approvals stack in Greenlight's account whose topic Greenlight's stack subscribes its
 * approval-notification function to, across regions.
 */

type Statement = { Sid?: string; Action: unknown; Principal?: unknown };

/** Greenlight and the stacks it makes, synthesized as `cdk synth` does, with cdk-nag's findings. */
function synth(overrides: Partial<GreenlightStackProps> = {}) {
  // Synthesis prints its warnings and notes, as `cdk synth` shows them; kept out of the test's output.
  const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
  onTestFinished(() => printed.mockRestore());
  const { stack, violations } = synthChecked(
    (app) =>
      new GreenlightStack(app, 'Greenlight', {
        ...BASE_PROPS,
        products: OTHER_ACCOUNT_PRODUCTS,
        externalId: 'greenlight-prod-7f3a',
        ...overrides,
      }),
  );
  return { stack, template: Template.fromStack(stack), violations };
}

function regional(stack: GreenlightStack, region: string) {
  const approvals = stack.approvalsElsewhere.find((s) => s.region === region);
  if (!approvals) throw new Error(`No approvals stack in ${region}`);
  const template = Template.fromStack(approvals);
  const [topicName] = Object.values(template.findResources('AWS::SNS::Topic')).map(
    (topic) => topic.Properties.TopicName as string,
  );
  const [queueName] = Object.values(template.findResources('AWS::SQS::Queue')).map(
    (queue) => queue.Properties.QueueName as string,
  );
  return {
    approvals,
    template,
    topicArn: `arn:aws:sns:${region}:${ENV.account}:${topicName}`,
    queueArn: `arn:aws:sqs:${region}:${ENV.account}:${queueName}`,
  };
}

const publishers = (template: Template) =>
  Object.values(template.findResources('AWS::SNS::TopicPolicy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
    .find((statement) => statement.Sid === 'PipelineAccountsPublish')?.Principal;

describe("approvals from pipelines in the products' other regions", () => {
  it('gives each other region a stack in Greenlight’s account, whose topic only the accounts there may publish to', () => {
    // Act: Greenlight in eu-central-1; shop in eu-west-1 (account A) with prod in us-west-2 (B), blog in eu-central-1
    const { stack, violations } = synth();
    // Assess
    expect(stack.approvalsElsewhere.map((s) => [s.stackName, s.account, s.region])).toEqual([
      ['GreenlightApprovals-eu-west-1', ENV.account, 'eu-west-1'],
      ['GreenlightApprovals-us-west-2', ENV.account, 'us-west-2'],
    ]);
    const west = regional(stack, 'eu-west-1');
    expect(publishers(west.template)).toEqual({ AWS: `arn:aws:iam::${A}:root` });
    expect(publishers(regional(stack, 'us-west-2').template)).toEqual({ AWS: `arn:aws:iam::${B}:root` });
    west.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApprovalsTopicKey'), 'Arn'] },
    });
    // The key: those accounts (and Greenlight's) may use it through that region's SNS only.
    west.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(keyStatements(west.template)).toEqual(publishThroughSns([A]));
    west.template.hasOutput('ApprovalsTopicArn', { Value: { Ref: Match.stringLikeRegexp('^ApprovalsTopic') } });
    west.template.hasOutput('ApprovalsTopicKeyArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApprovalsTopicKey'), 'Arn'] },
    });
    expect(violations).toEqual([]);
  });

  it('subscribes approval-notification to each regional topic, with the dead-letter queue there, once that stack is deployed', () => {
    // Act
    const { stack, template } = synth();
    // Assess
    for (const region of ['eu-west-1', 'us-west-2']) {
      const { approvals, topicArn, queueArn, template: there } = regional(stack, region);
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        Region: region,
        TopicArn: topicArn,
        Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^approvalnotificationFunction'), 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: queueArn },
      });
      // SNS invokes it as sns.amazonaws.com, or as the region's own SNS from an opt-in region.
      for (const principal of ['sns.amazonaws.com', `sns.${region}.amazonaws.com`])
        template.hasResourceProperties('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^approvalnotificationFunction'), 'Arn'] },
          Principal: principal,
          SourceArn: topicArn,
        });
      // SNS may put what it cannot deliver in the queue, for this topic only; an alarm watches it.
      there.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'sns.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^ApprovalsTopic') } } },
            }),
          ]),
        },
      });
      there.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
      });
      expect(stack.dependencies).toContain(approvals);
    }
  });

  it('lets a topic in an opt-in region invoke the function as that region’s SNS', () => {
    // Act: shop in ap-east-1 (Hong Kong), launched after March 20, 2019
    const { stack, template } = synth({
      products: { shop: { account: A, region: 'ap-east-1', roleArn: `arn:aws:iam::${A}:role/GreenlightAccess` } },
    });
    // Assess
    const { topicArn } = regional(stack, 'ap-east-1');
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'sns.ap-east-1.amazonaws.com',
      SourceArn: topicArn,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Region: 'ap-east-1', TopicArn: topicArn });
  });

  it('lets every account of a region publish there, an env deployed to several included', () => {
    // Prepare: desk's prod in eu-west-1 in two accounts, beside shop (A) there
    const products = withDeskIn([
      [B, 'eu-west-1'],
      [C, 'eu-west-1'],
    ]);
    // Act
    const { stack } = synth({ products });
    // Assess
    expect(publishers(regional(stack, 'eu-west-1').template)).toEqual({
      AWS: [A, B, C].map((account) => `arn:aws:iam::${account}:root`),
    });
    expect(publishers(regional(stack, 'us-west-2').template)).toEqual({ AWS: `arn:aws:iam::${B}:root` });
  });

  it('notifies the alarm topic of a dead letter only from the alarm topic’s own region', () => {
    // Act
    const { stack } = synth({ alarmTopicArn: `arn:aws:sns:us-west-2:${ENV.account}:on-call` });
    // Assess
    regional(stack, 'us-west-2').template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [`arn:aws:sns:us-west-2:${ENV.account}:on-call`],
    });
    const west = regional(stack, 'eu-west-1').template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.values(west).map((alarm) => alarm.Properties.AlarmActions)).toEqual([undefined]);
    // Said at synth and deploy, naming the region whose dead letters no one hears of.
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('^The dead-letter alarms of the approvals topics in eu-west-1 notify no one'),
    );
  });

  it('warns, and makes no topic, when Greenlight is in an opt-in region, where SNS delivers from no other', () => {
    // Act: Greenlight in af-south-1 (Cape Town); shop's pipelines in eu-west-1 and us-west-2
    const { stack } = synth({ env: { account: ENV.account, region: 'af-south-1' } });
    // Assess
    expect(stack.approvalsElsewhere).toEqual([]);
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('^Pipelines in eu-central-1, eu-west-1, us-west-2: .* af-south-1, an opt-in region'),
    );
  });

  it('makes no other stack for products in Greenlight’s region, and says why it makes none offline', () => {
    // Act
    const { stack: home } = synth({ products: BASE_PROPS.products });
    const { stack: offline } = synth({ env: {} });
    // Assess
    expect(home.approvalsElsewhere).toEqual([]);
    expect(offline.approvalsElsewhere).toEqual([]);
    const unknown = Match.stringLikeRegexp("^Greenlight's account and region are unknown");
    Annotations.fromStack(offline).hasWarning('*', unknown);
    Annotations.fromStack(home).hasNoWarning('*', unknown);
  });
});
