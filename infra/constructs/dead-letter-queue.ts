import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter queue as Greenlight keeps them: TLS only, SQS-managed encryption, 14 days (the most
 * SQS keeps a message) to inspect and redrive. `queueName`: a physical name, for a queue another
 * stack refers to (PhysicalName.GENERATE_IF_NEEDED).
 */
export function deadLetterQueue(scope: Construct, id: string, queueName?: string): Queue {
  return new Queue(scope, id, {
    enforceSSL: true,
    encryption: QueueEncryption.SQS_MANAGED,
    retentionPeriod: Duration.days(14),
    ...(queueName ? { queueName } : {}),
  });
}
