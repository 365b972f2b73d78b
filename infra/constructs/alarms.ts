import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface OperationalAlarmsProps {
  /** Handler name → function: Errors and Throttles alarms for each. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Name → dead-letter queue: an alarm as soon as one message waits in it. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** An existing SNS topic for alarm notifications (on-call, AWS Chatbot …). */
  readonly alarmTopicArn?: string;
}

/**
 * Alarms that mean "an approval or a digest may have been lost": any handler error or
 * throttle, and any message in a dead-letter queue.
 */
export class OperationalAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    const action = props.alarmTopicArn
      ? new SnsAction(Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn))
      : undefined;
    const period = Duration.minutes(5);

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}-errors`, fn.metricErrors({ period }), `The ${name} handler failed.`);
      this.add(`${name}-throttles`, fn.metricThrottles({ period }), `Lambda throttled the ${name} handler.`);
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.add(
        `${name}-dlq`,
        queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        `Messages wait in the ${name} dead-letter queue: inspect and redrive them.`,
      );
    }
    if (action) for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }

  private add(id: string, metric: IMetric, description: string): void {
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `Greenlight: ${description}`,
      }),
    );
  }
}
