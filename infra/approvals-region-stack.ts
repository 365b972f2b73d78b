import { CfnOutput, PhysicalName, Stack, type StackProps } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OperationalAlarms } from './constructs/alarms.ts';
import { deadLetterQueue } from './constructs/dead-letter-queue.ts';
import { openToPipelineAccounts } from './constructs/pipeline-accounts.ts';
import { acknowledge } from './nag.ts';

export interface ApprovalsRegionStackProps extends StackProps {
  /** The accounts whose pipelines in this region ask for approvals: the products' places here. */
  readonly publisherAccounts: readonly string[];
  /** A topic of this region for the dead-letter alarm (Greenlight's stack passes alarmTopicArn only when it is). */
  readonly alarmTopicArn?: string;
}

/**
 * Greenlight's approvals topic for the pipelines of one other region, in Greenlight's account.
 * CodePipeline publishes an approval only to a topic in the pipeline's own region (CodePipeline user
 * guide, "Manage approval actions": "You must use a topic created in the same AWS Region as the
 * pipeline"), so each region the products name gets one; Greenlight's stack subscribes its
 * approval-notification function to it across regions (SNS developer guide, "Sending Amazon SNS
 * messages to an Amazon SQS queue or AWS Lambda function in a different Region").
 *
 * The topic takes publishes from exactly the accounts whose pipelines are here, under a key they
 * may use through SNS, as Greenlight's own topic does for products in other accounts. A delivery
 * SNS cannot make waits in this region's dead-letter queue: SNS redrives only to a queue in the
 * subscription's region, which is the topic's.
 */
export class ApprovalsRegionStack extends Stack {
  readonly approvalsTopic: Topic;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ApprovalsRegionStackProps) {
    super(scope, id, props);
    this.approvalsTopic = new Topic(this, 'ApprovalsTopic', {
      displayName: 'Greenlight approval requests',
      enforceSSL: true,
      // Named at synthesis, so Greenlight's stack (another region) refers to it by ARN, with no export.
      topicName: PhysicalName.GENERATE_IF_NEEDED,
    });
    openToPipelineAccounts(this, this.approvalsTopic, props.publisherAccounts);

    this.deadLetterQueue = deadLetterQueue(this, 'NotificationDlq', PhysicalName.GENERATE_IF_NEEDED);
    acknowledge(
      this.deadLetterQueue,
      "This queue is a dead-letter queue itself (the SNS subscription of Greenlight's approval-notification function).",
      'AwsSolutions-SQS3',
    );
    new OperationalAlarms(this, 'Alarms', {
      functions: {},
      deadLetterQueues: { [`notification-${this.region}`]: this.deadLetterQueue },
      ...(props.alarmTopicArn ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    new CfnOutput(this, 'ApprovalsTopicArn', {
      value: this.approvalsTopic.topicArn,
      description: `Set it as the SNS topic of the manual approval actions of the pipelines in ${this.region}`,
    });
  }
}
