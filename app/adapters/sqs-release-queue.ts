import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ReleaseJob, ReleaseQueue } from '../core/release-ports.ts';

/** Release jobs on SQS, for handlers/release-worker.ts. A job names a release; tokens stay in DynamoDB. */
export class SqsReleaseQueue implements ReleaseQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: ReleaseJob, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(job),
        ...(options.delaySeconds ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(options.delaySeconds))) } : {}),
      }),
    );
  }
}
