import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** A dead-letter queue and what the operator should do when a message waits in it. */
export interface DeadLetters {
  readonly queue: IQueue;
  /** Said in the alarm's description after what happened. */
  readonly whatToDo: string;
}

/** A queue whose oldest message must not wait longer than `maxAge`, and what to do when one does. */
export interface QueueAge {
  readonly queue: IQueue;
  readonly maxAge: Duration;
  readonly whatToDo: string;
}

/** A count Greenlight itself publishes (app/adapters/powertools-metrics.ts), and what to do when it is counted. */
export interface AppCount {
  /** The metric's name in the `Greenlight` namespace (dimension `service: greenlight`). */
  readonly metricName: string;
  readonly whatHappened: string;
  readonly whatToDo: string;
  /** Counts in 5 minutes that pass unremarked (default 0: the first one alarms). */
  readonly tolerated?: number;
}

export interface OperationalAlarmsProps {
  /** Handler name → function: Errors and Throttles alarms for each. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /**
   * Name → dead-letter queue: an alarm as soon as one message waits in it. A bare queue's alarm
   * says to inspect and redrive it; give `whatToDo` where that is not the way.
   */
  readonly deadLetterQueues: Readonly<Record<string, IQueue | DeadLetters>>;
  /** Name → queue: an alarm when its oldest message is older than `maxAge` (its consumer takes none). */
  readonly queueAges?: Readonly<Record<string, QueueAge>>;
  /** Name → a count of Greenlight's own: an alarm as soon as it is counted. */
  readonly appCounts?: Readonly<Record<string, AppCount>>;
  /** An existing SNS topic for alarm notifications (on-call, AWS Chatbot …). */
  readonly alarmTopicArn?: string;
}

/** CloudWatch takes an alarm description of at most 1024 characters (PutMetricAlarm). */
const MAX_DESCRIPTION = 1024;

/**
 * Alarms that mean "an approval, a release or a digest may have been lost or is stuck": any handler
 * error or throttle, any message in a dead-letter queue, and a queue whose jobs are not taken.
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
      this.add(
        `${name}-errors`,
        fn.metricErrors({ period }),
        `The ${name} handler failed. Its log group says why: search it for "level":"ERROR" (each such line names the approval or release it was about) or "Task timed out" around the alarm's time.`,
      );
      this.add(
        `${name}-throttles`,
        fn.metricThrottles({ period }),
        `Lambda throttled the ${name} handler: the account's concurrent executions ran out. Raise the account's concurrency quota, or find what else uses it (CloudWatch, Lambda ConcurrentExecutions).`,
      );
    }
    for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
      const { queue, whatToDo } = isQueue(dlq) ? { queue: dlq, whatToDo: 'inspect and redrive them.' } : dlq;
      this.add(
        `${name}-dlq`,
        queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        `Messages wait in the ${name} dead-letter queue: ${whatToDo}`,
      );
    }
    for (const [name, { queue, maxAge, whatToDo }] of Object.entries(props.queueAges ?? {})) {
      this.add(
        `${name}-age`,
        queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        `A message has waited over ${maxAge.toHumanString()} in the ${name} queue. ${whatToDo}`,
        maxAge.toSeconds(),
      );
    }
    for (const [name, { metricName, whatHappened, whatToDo, tolerated = 0 }] of Object.entries(props.appCounts ?? {})) {
      this.add(
        name,
        new Metric({
          namespace: 'Greenlight',
          metricName,
          dimensionsMap: { service: 'greenlight' },
          statistic: 'Sum',
          period,
        }),
        `${whatHappened} ${whatToDo}`,
        tolerated,
      );
    }
    // Told when it clears too, so on-call knows the trouble is over.
    if (action)
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
  }

  private add(id: string, metric: IMetric, description: string, threshold = 0): void {
    const alarmDescription = `Greenlight: ${description}`;
    if (alarmDescription.length > MAX_DESCRIPTION)
      throw new Error(
        `The ${id} alarm's description is ${alarmDescription.length} characters, over CloudWatch's ${MAX_DESCRIPTION}`,
      );
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription,
      }),
    );
  }
}

const isQueue = (value: IQueue | DeadLetters): value is IQueue => 'queueArn' in value;
