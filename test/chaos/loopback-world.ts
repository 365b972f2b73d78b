import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { vi } from 'vitest';
import { currentInProcessReleaseQueue } from '../../app/adapters/in-process-release-queue.ts';
import { STALE_CLAIM_MS } from '../../app/core/approval.ts';
import { ids } from '../../app/views/ids.ts';
import type { Person } from '../../sandbox/slack/index.ts';
import type { World } from '../../sandbox/world.ts';
import type { DynamoFault, DynamoFaultProxy, DynamoOperation } from '../support/dynamo-fault-proxy.ts';
import {
  APPROVALS_CHANNEL,
  buttonsOf,
  currentMessage,
  pipelineWaitsForApproval,
  type WaitingApproval,
} from '../support/world-helpers.ts';
import { Tally } from './chaos-world.ts';

/*
 * The world of the loopback chaos suite (loopback.test.ts): the real handlers, wired by
 * sandbox/world.ts, with faults injected where the network is:
 *   - DynamoDB: dynalite behind a fault proxy (test/support/dynamo-fault-proxy.ts);
 *   - CodePipeline: the emulator's own fault hooks (errors before the call reaches the pipeline, or
 *     the call applied and its answer lost);
 *   - Slack: the simulator's fault plan (429 with Retry-After, 5xx, answers held past the timeout).
 * A schedule is a few steps; each arms its faults, starts its actions together (clicks by several
 * people over signed HTTP, settle jobs through the release-worker handler, the SNS notification
 * delivered again), waits for them, drops the faults it did not use, and moves the clock on.
 */

// Schedules

/** Slack methods a click, a rejection or a settle job calls, whose faults the schedule can name. */
const SLACK_METHODS = ['chat.update', 'chat.postEphemeral', 'views.open'] as const;

/**
 * - DynamoDB: the `nth` call of an operation (counted from the step's start) refused as throttled,
 *   answered late, or applied with its answer lost;
 * - CodePipeline: the next call of an operation throttled, failing with a 5xx, or applied with its
 *   answer lost;
 * - Slack: the next call of a method rate-limited (429, Retry-After 1 s), failing with a 503, or
 *   answered after the click path's client gave up (the call took effect).
 */
export type LoopbackFault =
  | ({ at: 'dynamo' } & DynamoFault)
  | {
      at: 'codepipeline';
      operation: 'PutApprovalResult' | 'GetPipelineState';
      kind: 'throttling' | 'internal-failure' | 'unavailable' | 'lost-answer';
    }
  | { at: 'slack'; method: (typeof SLACK_METHODS)[number]; kind: 'ratelimited' | 'unavailable' | 'slow' };

/**
 * A person's click (Approve, or Reject… and the reason modal); a person's `/release <product> qa`,
 * confirmed in its modal (the fan-out then runs as a release-worker job); a settle job; or SNS
 * delivering the notification again.
 */
export type LoopbackAction =
  | { kind: 'click'; person: number; verdict: 'approve' | 'reject' }
  | { kind: 'release'; person: number }
  | { kind: 'settle' }
  | { kind: 'redeliver' };

export interface LoopbackStep {
  actions: LoopbackAction[];
  faults: LoopbackFault[];
  advanceMs: number;
}

export const PEOPLE = 4;

const dynamoFault: fc.Arbitrary<LoopbackFault> = fc.record({
  at: fc.constant('dynamo' as const),
  operation: fc.constantFrom<DynamoOperation>('GetItem', 'PutItem', 'UpdateItem', 'Query'),
  nth: fc.nat({ max: 2 }),
  kind: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('throughput' as const, 'throttling' as const, 'lost-answer' as const) },
    { weight: 1, arbitrary: fc.constant('slow' as const) },
  ),
});

const codePipelineFault: fc.Arbitrary<LoopbackFault> = fc.record({
  at: fc.constant('codepipeline' as const),
  operation: fc.constantFrom('PutApprovalResult' as const, 'GetPipelineState' as const),
  kind: fc.constantFrom(
    'throttling' as const,
    'internal-failure' as const,
    'unavailable' as const,
    'lost-answer' as const,
  ),
});

const slackFault: fc.Arbitrary<LoopbackFault> = fc.record({
  at: fc.constant('slack' as const),
  method: fc.constantFrom(...SLACK_METHODS),
  // Held answers cost the click path's whole Slack timeout (1.5 s): rarer, to keep runs short.
  kind: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('ratelimited' as const, 'unavailable' as const) },
    { weight: 1, arbitrary: fc.constant('slow' as const) },
  ),
});

const action: fc.Arbitrary<LoopbackAction> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('click' as const),
      person: fc.nat({ max: PEOPLE - 1 }),
      verdict: fc.constantFrom('approve' as const, 'reject' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('release' as const), person: fc.nat({ max: PEOPLE - 1 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'redeliver' as const }) },
);

/** 0–90 s, with the claim's end (60 s) often crossed. */
const advanceMs = fc.oneof(
  fc.constant(0),
  fc.constantFrom(1_000, STALE_CLAIM_MS + 1_000),
  fc.integer({ min: 0, max: 90_000 }),
);

/** One to three steps of one to four actions, each step under zero to four faults. */
export const loopbackSchedules: fc.Arbitrary<LoopbackStep[]> = fc.array(
  fc.record({
    actions: fc.array(action, { minLength: 1, maxLength: 4 }),
    faults: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: dynamoFault },
        { weight: 3, arbitrary: codePipelineFault },
        { weight: 2, arbitrary: slackFault },
      ),
      { maxLength: 4 },
    ),
    advanceMs,
  }),
  { minLength: 1, maxLength: 3 },
);

// Running a schedule

const REASON = 'The card-expiry suite is red on QA';

/** The clock every part of the world reads (Date is faked; timers stay real). */
export const advanceClock = (ms: number) => vi.setSystemTime(new Date(Date.now() + ms));

/** One approval under one schedule, in the shared world. */
export class LoopbackRun {
  constructor(
    readonly world: World,
    readonly proxy: DynamoFaultProxy,
    readonly people: readonly Person[],
    readonly approval: WaitingApproval,
    readonly tally: Tally,
  ) {}

  /** A commit reaches StagingDEV of a fresh pipeline and Greenlight posts its approval, all without faults. */
  static async start(
    world: World,
    proxy: DynamoFaultProxy,
    people: readonly Person[],
    pipeline: string,
    tally = new Tally(),
  ) {
    return new LoopbackRun(world, proxy, people, await pipelineWaitsForApproval(world, pipeline), tally);
  }

  async run(steps: readonly LoopbackStep[]): Promise<void> {
    for (const step of steps) {
      this.#arm(step.faults);
      await Promise.all(step.actions.map((act) => this.#act(act)));
      this.#disarm();
      advanceClock(step.advanceMs);
    }
  }

  /**
   * The system comes to rest as production's does: the faults pass, every claim runs out, and the
   * jobs the app queued (settle jobs, redraws after a Retry-After, retried deliveries) run.
   */
  async rest(): Promise<void> {
    this.#disarm();
    advanceClock(STALE_CLAIM_MS + 1_000);
    await this.world.settle();
  }

  /** A settle job through the release-worker handler, as SQS would deliver it; one it fails goes back on the queue. */
  async settleJob(): Promise<string> {
    const job = { kind: 'settle' as const, approvalId: this.approval.approvalId };
    const response = await this.world.handlers.releaseWorker(sqsEvent(JSON.stringify(job)));
    if (response.batchItemFailures.length === 0) return 'done';
    await currentInProcessReleaseQueue()?.send(job);
    return 'failed (queued again)';
  }

  #arm(faults: readonly LoopbackFault[]): void {
    const { emulator, slack } = this.world;
    this.proxy.arm(faults.flatMap((fault) => (fault.at === 'dynamo' ? [fault] : [])));
    for (const fault of faults) {
      this.tally.bump(`armed:${fault.at}:${fault.kind}`);
      if (fault.at === 'codepipeline') {
        if (fault.kind === 'lost-answer') emulator.loseNextAnswer(fault.operation, 1);
        else
          emulator.failNextCall(
            fault.operation,
            {
              throttling: 'ThrottlingException',
              'internal-failure': 'InternalFailure',
              unavailable: 'ServiceUnavailable',
            }[fault.kind],
            1,
          );
      } else if (fault.at === 'slack') {
        if (fault.kind === 'ratelimited') slack.faults.rateLimitCalls(fault.method, 1, 1);
        else if (fault.kind === 'unavailable') slack.faults.failCalls(fault.method, 503, 1);
        // Past the click path's 1.5 s Slack timeout: the call took effect, the client gave up.
        else slack.faults.holdAnswers(fault.method, 1_700, 1);
      }
    }
  }

  /** `/release <product> qa`, and a confirmation of the plan it shows; the fan-out is the worker's job. */
  async #release(person: Person): Promise<string> {
    const { world, approval } = this;
    const product = approval.pipelineName.slice(0, approval.pipelineName.indexOf('-'));
    const command = await world.slack.slashCommand(person.id, APPROVALS_CHANNEL, '/release', `${product} qa`);
    const modal = command.views.at(-1)?.view;
    if (!modal || modal.callback_id !== ids.releaseModal) return 'no modal';
    if (!modal.submit) return 'nothing to approve';
    const confirmed = await world.slack.submitView(person.id, modal.id);
    return `confirmed ${confirmed.status}`;
  }

  #disarm(): void {
    this.proxy.disarm();
    this.world.emulator.clearInjectedFaults();
    this.world.slack.faults.clear();
  }

  async #act(act: LoopbackAction): Promise<void> {
    const { world, approval } = this;
    try {
      if (act.kind === 'settle') return this.tally.bump(`settle:${await this.settleJob()}`);
      if (act.kind === 'redeliver') {
        await world.handlers.approvalNotification(structuredClone(approval.event));
        return this.tally.bump('redeliver:handled');
      }
      const person = this.people[act.person];
      if (!person) throw new Error(`No person ${act.person}`);
      if (act.kind === 'release') return this.tally.bump(`release:${await this.#release(person)}`);
      const actionId = act.verdict === 'approve' ? ids.approve : ids.reject;
      // People click what the message shows: no buttons, no click.
      if (!buttonsOf(currentMessage(world, approval)).includes(actionId)) return this.tally.bump('click:no buttons');
      const clicked = await world.slack.click(person.id, APPROVALS_CHANNEL, approval.message.ts, actionId);
      if (act.verdict === 'approve') return this.tally.bump(`click:approve ${clicked.status}`);
      const modal = clicked.views.at(-1)?.view;
      if (!modal || modal.callback_id !== ids.rejectModal) return this.tally.bump('click:reject, no modal');
      const submitted = await world.slack.submitView(person.id, modal.id, { [ids.reasonBlock]: REASON });
      this.tally.bump(`click:reject ${submitted.status}`);
    } catch (error) {
      // A delivery Lambda would retry, or a button gone between look and click: counted, not fatal.
      this.tally.bump(`${act.kind}:threw ${error instanceof Error ? error.name : 'error'}`);
    }
  }
}

/** An SQS event of one message, as Lambda's SQS event source delivers it. */
function sqsEvent(body: string): SQSEvent {
  const messageId = randomUUID();
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId,
        receiptHandle: `chaos-${messageId}`,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'chaos',
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
