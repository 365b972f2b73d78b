import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Log } from '../core/ports.ts';
import type { ReleaseJob, ReleaseQueue } from '../core/release-ports.ts';

/** The worker: the same handler SQS invokes on AWS (handlers/release-worker.ts). */
export type SqsConsumer = (event: SQSEvent) => Promise<SQSBatchResponse>;

/**
 * Receives after which a message goes to the dead letters: the release queue's `maxReceiveCount` in
 * infra/greenlight-stack.ts (infra imports nothing from app/; test/infra checks that the two agree).
 */
export const MAX_RECEIVES = 5;

/** Delays from this long on are for time to pass, not for a retry's backoff. */
const LONG_DELAY_SECONDS = 300;

/**
 * The release queue when there is no SQS (`RELEASE_QUEUE_URL` unset: the sandbox, tests). It keeps
 * SQS's contract with the worker: each job reaches the same worker code as an SQS event, later
 * (never inside the sender's call), at least once; a job the worker fails (it throws, or reports it
 * in `batchItemFailures`) is delivered again, up to MAX_RECEIVES times, then logged as dead.
 */
export class InProcessReleaseQueue implements ReleaseQueue {
  #consumer: SqsConsumer | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly log: Log,
    private readonly retryDelayMs = 200,
    /** A job's `delaySeconds`, locally: nobody wants to wait a minute in the sandbox or a test. */
    private readonly maxDelayMs = 1_000,
  ) {}

  /** The worker that receives jobs; the first one given stays (every handler in a process runs the same code). */
  consumeWith(consumer: SqsConsumer): void {
    this.#consumer ??= consumer;
  }

  async send(job: ReleaseJob, options: { delaySeconds?: number } = {}): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) throw new Error('The in-process release queue has no worker');
    const delaySeconds = options.delaySeconds ?? 0;
    // A job delayed for minutes waits for time to pass (a notification's grace period): locally it
    // runs at once, and finds that time has not passed; brief delays (a backoff) wait a little.
    const delayMs = delaySeconds >= LONG_DELAY_SECONDS ? 0 : Math.min(this.maxDelayMs, delaySeconds * 1000);
    const delivery = (async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      await this.#deliver(consumer, randomUUID(), JSON.stringify(job), 1);
    })().finally(() => {
      this.#inFlight.delete(delivery);
    });
    this.#inFlight.add(delivery);
  }

  /** True when no job is being delivered or waits for a retry. */
  idle(): boolean {
    return this.#inFlight.size === 0;
  }

  /** Waits until every job sent so far (and every job those sent) is done. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(consumer: SqsConsumer, messageId: string, body: string, receive: number): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    let failed: boolean;
    try {
      const response = await consumer(sqsEvent(messageId, body, receive));
      failed = response.batchItemFailures.some((failure) => failure.itemIdentifier === messageId);
    } catch (error) {
      this.log.warn('Release job failed', { messageId, receive, error });
      failed = true;
    }
    if (!failed) return;
    if (receive >= MAX_RECEIVES) {
      this.log.error('Release job dead-lettered after repeated failures', { messageId, receives: receive });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * receive));
    await this.#deliver(consumer, messageId, body, receive + 1);
  }
}

/** An SQS event of one message, as Lambda's SQS event source delivers it. */
function sqsEvent(messageId: string, body: string, receive: number): SQSEvent {
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId,
        receiptHandle: `in-process-${messageId}-${receive}`,
        body,
        attributes: {
          ApproximateReceiveCount: String(receive),
          SentTimestamp: now,
          SenderId: 'in-process',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:greenlight-releases',
        awsRegion: 'local',
      },
    ],
  };
}

let shared: InProcessReleaseQueue | undefined;

/** One in-process queue per process, shared by every handler in it (like the embedded DynamoDB). */
export function sharedInProcessReleaseQueue(log: Log): InProcessReleaseQueue {
  shared ??= new InProcessReleaseQueue(log);
  return shared;
}

/** The process's queue, if anything made one: the sandbox waits on it to settle. */
export const currentInProcessReleaseQueue = (): InProcessReleaseQueue | undefined => shared;
