import { randomBytes } from 'node:crypto';
import type {
  ActionCategory,
  ApprovalStatus,
  PipelineDeclaration,
  PipelineExecutionStatus,
} from '@aws-sdk/client-codepipeline';
import type { SNSEvent } from 'aws-lambda';
import { type BoardPipeline, boardOf } from './board.ts';
import { demoPipelineNames, numberedNames, type PipelineDefinitionOptions, pipelineDefinition } from './demo.ts';
import { type CodePipelineEvent, EventWatcher } from './events.ts';
import { InvokeJobs } from './jobs.ts';

export type { InvokeJobEvent, InvokeJobInput } from './jobs.ts';

import { type PendingApprovalFacts, snsApprovalEvent } from './notification.ts';
import { operations } from './operations.ts';
import type { PendingApproval } from './records.ts';
import { EmulatorClock, type Log, WorkTracker } from './scheduler.ts';
import { type CallRecord, type Latency, ProtocolServer, type RateLimit } from './server.ts';
import { type AnsweredTokenError, type SucceededAction, World } from './world.ts';

export type { BoardExecution, BoardPipeline, BoardStage, BoardStageState } from './board.ts';
export { DEMO_PRODUCTS, type PipelineDefinitionOptions, pipelineDefinition } from './demo.ts';
export type { CodePipelineEvent } from './events.ts';
export type { ApprovalNotification } from './notification.ts';
export type { PendingApproval } from './records.ts';
export type { Log } from './scheduler.ts';
export type { CallRecord, RateLimit } from './server.ts';
export type { AnsweredTokenError, SucceededAction } from './world.ts';

export interface CodePipelineEmulatorOptions {
  /** 0 (default): a free port. */
  port?: number;
  region?: string;
  accountId?: string;
  /** Receives each approval notification as Lambda would from SNS; errors are logged, never thrown back. */
  onApprovalNotification?: (event: SNSEvent) => unknown;
  /** Receives each EventBridge event (events.ts) as a Lambda target would, asynchronously; errors are logged. */
  onPipelineEvent?: (event: CodePipelineEvent) => unknown;
  /** Told of every non-approval action that succeeded, synchronously (the CloudFormation emulator's change sets). */
  onActionSucceeded?: (facts: SucceededAction) => void;
  /** SNS delivers at least once: set 2+ to deliver each notification that many times. Default 1. */
  notificationDeliveries?: number;
  /** Delay before each API call is served, or before each call of the operations named. */
  latencyMs?: Latency;
  /** Token bucket per operation (calls per second, burst of the same size); over it: ThrottlingException. */
  rateLimitPerSecond?: RateLimit;
  /** Base clock; `advanceClock` adds to it. Default: real time. */
  clock?: () => Date;
  /** Real milliseconds non-approval actions take, overall or per category. Default 0 (next event-loop turn). */
  actionDelayMs?: number | Partial<Record<ActionCategory, number>>;
  log?: Log;
}

export interface EmulatorChange {
  readonly pipelineName: string;
}

export interface CodePipelineEmulator {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `endpoint`. */
  readonly url: string;
  readonly region: string;
  readonly accountId: string;
  close(): Promise<void>;

  createPipeline(definition: PipelineDeclaration): PipelineDeclaration;
  /**
   * UpdatePipeline: the definition (named as the pipeline) becomes the next version. Executions in
   * progress end `Cancelled` once their running actions are done; one waiting at a transition at once.
   */
  updatePipeline(definition: PipelineDeclaration): PipelineDeclaration;
  /** `count` seed-000 pipelines named `<prefix>-0001`…; returns their names. */
  createPipelines(prefix: string, count: number, options?: PipelineDefinitionOptions): string[];
  /** Products `shop` (cart, catalog, payments) and `blog` (web, api); with `activity`, one commit each. */
  seedDemoWorld(options?: { activity?: boolean }): string[];

  /** A source change; returns the new pipeline execution id. A string is taken as the revision id. */
  commit(pipelineName: string, revision: string | { revisionId: string; summary?: string }): string;
  /** Approves or rejects the stage's pending approval as someone in the AWS console would. */
  answerInConsole(pipelineName: string, stageName: string, status: ApprovalStatus, summary?: string): void;
  /**
   * StopPipelineExecution as someone in the console would: stop and wait (default), or with
   * `abandon`, stop and abandon. Returns the execution's status right after the call (`Stopping`, or
   * `Stopped` for one that was waiting at a transition).
   */
  stopExecution(
    pipelineName: string,
    pipelineExecutionId: string,
    options?: { abandon?: boolean; reason?: string },
  ): PipelineExecutionStatus;
  /** Makes the next `times` runs of a non-approval action fail. */
  failNext(pipelineName: string, stageName: string, actionName: string, times?: number): void;
  /**
   * The next `times` calls of `operation` answer with the error `errorType` (default
   * ThrottlingException) and change nothing; `InternalFailure` and `ServiceUnavailable` come as HTTP
   * 500 and 503, as AWS sends them.
   */
  failNextCall(operation: string, errorType?: string, times?: number, message?: string): void;
  /** The next `times` calls of `operation` take effect, but the caller never gets their answer. */
  loseNextAnswer(operation: string, times?: number): void;
  /** Drops the injected faults not used yet (failNextCall, loseNextAnswer). */
  clearInjectedFaults(): void;
  /**
   * Changes latency or rate limits while running, or which of its two documented errors
   * PutApprovalResult gives for a token already answered (`answeredTokenError`).
   */
  configure(faults: {
    latencyMs?: Latency;
    rateLimitPerSecond?: RateLimit | undefined;
    answeredTokenError?: AnsweredTokenError;
  }): void;

  /**
   * The jobs of Lambda invoke actions: `start` runs such an action (it returns the event the
   * function is invoked with), `next` is the job that ran again after a continuation token.
   */
  readonly jobs: Pick<InvokeJobs, 'start' | 'next'>;

  /** Waits until no action run or notification delivery is pending (approvals wait for people, not this). */
  settle(): Promise<void>;
  now(): Date;
  /** Moves the emulator clock; approvals past their timeout expire at once. */
  advanceClock(ms: number): void;

  calls(operation?: string): CallRecord[];
  clearCalls(): void;
  /** Every approval notification published so far, oldest first. */
  notifications(): SNSEvent[];
  /** Every EventBridge event emitted so far (Pipeline / Stage / Action Execution State Change), oldest first. */
  pipelineEvents(): CodePipelineEvent[];
  /** Pipelines named `<product>-*` (all when omitted), by name. */
  board(product?: string): BoardPipeline[];
  pendingApprovals(filter?: { pipelineName?: string; stageName?: string }): PendingApproval[];
  /** Called after every state change; returns an unsubscribe function. */
  onChange(listener: (change: EmulatorChange) => void): () => void;
}

/** How often real time is checked for expired approvals, besides every call and `advanceClock`. */
const EXPIRY_SWEEP_MS = 30_000;

export async function startCodePipelineEmulator(
  options: CodePipelineEmulatorOptions = {},
): Promise<CodePipelineEmulator> {
  const region = options.region ?? 'us-east-2';
  const accountId = options.accountId ?? '123456789012';
  const log: Log = options.log ?? (() => {});
  const clock = new EmulatorClock(options.clock);
  const work = new WorkTracker(log);
  const listeners = new Set<(change: EmulatorChange) => void>();
  const published: SNSEvent[] = [];
  const deliveries = Math.max(1, options.notificationDeliveries ?? 1);
  const delays = options.actionDelayMs ?? 0;

  const notifyApproval = (facts: PendingApprovalFacts) => {
    const event = snsApprovalEvent(facts, clock.now());
    published.push(event);
    const deliver = options.onApprovalNotification;
    if (!deliver) return;
    for (let i = 0; i < deliveries; i += 1) {
      work.track(
        async () => deliver(structuredClone(event)),
        (error) => log('codepipeline emulator: approval notification handler failed', { error, token: facts.token }),
      );
    }
  };

  const emitted: CodePipelineEvent[] = [];
  const events = new EventWatcher({
    region,
    accountId,
    now: () => clock.now(),
    emit: (event) => {
      emitted.push(event);
      const deliver = options.onPipelineEvent;
      if (!deliver) return;
      work.track(
        async () => deliver(structuredClone(event)),
        (error) => log('codepipeline emulator: pipeline event handler failed', { error, eventId: event.id }),
      );
    },
  });

  const world = new World({
    region,
    accountId,
    clock,
    work,
    log,
    actionDelayMs: (category) => (typeof delays === 'number' ? delays : (delays[category] ?? 0)),
    notifyApproval,
    ...(options.onActionSucceeded ? { actionSucceeded: options.onActionSucceeded } : {}),
    changed: (pipelineName) => {
      events.observe(world.pipeline(pipelineName));
      for (const listener of listeners) {
        try {
          listener({ pipelineName });
        } catch (error) {
          log('codepipeline emulator: change listener failed', { error });
        }
      }
    },
  });

  const faults = { latencyMs: options.latencyMs ?? 0, rateLimitPerSecond: options.rateLimitPerSecond };
  const pipelineArn = (name: string) => `arn:aws:codepipeline:${region}:${accountId}:${name}`;
  const jobs = new InvokeJobs(accountId);
  const server = await ProtocolServer.start({
    port: options.port ?? 0,
    operations: operations(world, pipelineArn, jobs),
    accountId,
    now: () => clock.now(),
    log,
    faults,
    beforeCall: () => world.expireApprovals(),
  });
  const sweep = setInterval(() => world.expireApprovals(), EXPIRY_SWEEP_MS);
  sweep.unref();

  const definitionOptions = (extra?: PipelineDefinitionOptions) => ({ region, accountId, ...extra });

  return {
    url: server.url,
    region,
    accountId,
    jobs,
    async close() {
      clearInterval(sweep);
      work.close();
      await server.close();
    },
    createPipeline: (definition) => world.createPipeline(definition),
    updatePipeline: (definition) => world.updatePipeline(definition),
    createPipelines(prefix, count, extra) {
      const names = numberedNames(prefix, count);
      for (const name of names) world.createPipeline(pipelineDefinition(name, definitionOptions(extra)));
      return names;
    },
    seedDemoWorld({ activity = false } = {}) {
      const names = demoPipelineNames();
      for (const name of names) {
        world.createPipeline(pipelineDefinition(name, definitionOptions()));
        if (activity) world.commit(name, { revisionId: randomBytes(20).toString('hex'), summary: 'Initial commit' });
      }
      return names;
    },
    commit: (pipelineName, revision) =>
      world.commit(pipelineName, typeof revision === 'string' ? { revisionId: revision } : revision).id,
    answerInConsole(pipelineName, stageName, status, summary = `${status} in the console`) {
      const pending = world
        .pendingApprovals()
        .find((a) => a.pipelineName === pipelineName && a.stageName === stageName);
      if (!pending) throw new Error(`No approval is pending in ${pipelineName}/${stageName}`);
      const { actionName, token } = pending;
      world.putApprovalResult(
        { pipelineName, stageName, actionName, token, status, summary },
        `arn:aws:iam::${accountId}:user/console`,
      );
    },
    stopExecution: (pipelineName, pipelineExecutionId, { abandon = false, reason } = {}) =>
      world.stopExecution(pipelineName, pipelineExecutionId, { abandon, reason }).status,
    failNext: (pipelineName, stageName, actionName, times) =>
      world.failNext(pipelineName, stageName, actionName, times),
    failNextCall: (operation, errorType = 'ThrottlingException', times, message) =>
      server.failNextCall(operation, errorType, times, message),
    loseNextAnswer: (operation, times) => server.loseNextAnswer(operation, times),
    clearInjectedFaults: () => server.clearInjectedFaults(),
    configure(change) {
      if (change.latencyMs !== undefined) faults.latencyMs = change.latencyMs;
      if ('rateLimitPerSecond' in change) faults.rateLimitPerSecond = change.rateLimitPerSecond;
      if (change.answeredTokenError) world.answeredTokenError = change.answeredTokenError;
    },
    settle: () => work.settle(),
    now: () => clock.now(),
    advanceClock(ms) {
      clock.advance(ms);
      world.expireApprovals();
    },
    calls: (operation) => server.calls(operation),
    clearCalls: () => server.clearCalls(),
    notifications: () => [...published],
    pipelineEvents: () => [...emitted],
    board: (product) =>
      boardOf(world.pipelines().filter((p) => product === undefined || p.name.startsWith(`${product}-`))),
    pendingApprovals: (filter = {}) =>
      world
        .pendingApprovals()
        .filter(
          (a) =>
            (filter.pipelineName === undefined || a.pipelineName === filter.pipelineName) &&
            (filter.stageName === undefined || a.stageName === filter.stageName),
        ),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
