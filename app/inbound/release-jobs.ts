import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { type Correlation, withCorrelation } from '../adapters/powertools-log.ts';
import { modalGone, slackErrorCode } from '../adapters/slack-error-code.ts';
import { SlackGroups } from '../adapters/slack-groups.ts';
import type { Config } from '../config.ts';
import type { ApprovalRecord } from '../core/approval.ts';
import { AWS_REGION, CODEPIPELINE_NAME } from '../core/codepipeline-names.ts';
import type { Digest } from '../core/digest.ts';
import { type DigestMarkers, previewDigest } from '../core/digest-posting.ts';
import { accountProblem, ClaimKeptError } from '../core/errors.ts';
import { endedHow } from '../core/pipeline-events.ts';
import type { ApprovalNotifier, PipelineReader } from '../core/ports.ts';
import type { ProductOverride } from '../core/products.ts';
import { RELEASE_ID } from '../core/release.ts';
import { type PlanReleaseDeps, placesOf, planReleaseFor, productPlacesOf } from '../core/release-plan.ts';
import type { ReleaseJob, ReleaseQueue, ReleaseReporter, ReleaseStore } from '../core/release-ports.ts';
import { type ReleaseSettings, type RunDeps, runRelease } from '../core/release-run.ts';
import { boardIn, findProductIn, findTargetIn } from '../core/release-target.ts';
import { requestApproval, WORKER_POSTING } from '../core/request-approval.ts';
import { type SettleResult, settleApproval } from '../core/settle-approval.ts';
import { postUnnotified } from '../core/unnotified-approval.ts';
import { type ClientOverrides, ReleaseClients } from '../deps.ts';
import { parseJson } from '../parse-json.ts';
import { releaseNotices } from '../views/release-help.ts';

/*
 * The way in of release jobs: SQS (or the in-process queue locally) → handlers/release-worker.ts →
 * here. Plans, boards, digest previews and fan-outs that do not fit in a click's 3 s.
 */

/** What the release worker needs, in one flat object, on the worker's budget. */
export interface WorkerDeps extends RunDeps, PlanReleaseDeps {
  config: {
    products: Record<string, ProductOverride>;
    approvalsChannel: string;
    /** Slack's Web API (SLACK_API_URL): its origin may serve response URLs too (the sandbox's do). */
    slackApiUrl?: string;
  };
  /** Redraws approval messages, and posts one whose notification never did (`post` jobs). */
  notifier: ApprovalNotifier;
  /** Reads pipelines for plans, boards, digests and the fan-out, under the rate limit. */
  reader: PipelineReader;
  releases: ReleaseStore;
  queue: ReleaseQueue;
  reporter: ReleaseReporter;
  settings: ReleaseSettings;
  /** Where the latest digest's window ended: the preview lists what the next digest would. */
  digestMarkers: Pick<DigestMarkers, 'posted'>;
}

export async function workerDeps(
  config: Config,
  overrides?: ClientOverrides,
  clients = new ReleaseClients(config, 'release-worker', overrides),
): Promise<WorkerDeps> {
  return {
    config,
    ...(await clients.decidingPorts()),
    // The worker has time to ask Slack who is in a group; a click has 800 ms (inbound/slack.ts).
    rules: { products: config.products, groups: new SlackGroups(await clients.slack(), clients.log, 5_000) },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** The remaining time of the Lambda invocation, when there is one. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

const name = z.string().regex(CODEPIPELINE_NAME);
const releaseId = z.string().regex(RELEASE_ID);
const approvalId = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

/** The jobs the listeners and the release action send, exactly. Anything else is poison. */
export const releaseJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('release'), releaseId }).strict(),
  z
    .object({
      kind: z.literal('plan'),
      releaseId,
      product: name,
      env: name,
      viewId: z.string().regex(/^[A-Z0-9]{1,40}$/),
      viewHash: z.string().max(100).optional(),
      requestedBy: z.object({
        id: z.string().min(1).max(40),
        name: z.string().min(1).max(200),
        teamId: z.string().max(40).optional(),
      }),
    })
    .strict(),
  z.object({ kind: z.literal('board'), product: name, responseUrl: z.url({ protocol: /^https?$/ }) }).strict(),
  z.object({ kind: z.literal('settle'), approvalId }).strict(),
  z.object({ kind: z.literal('post'), approvalId }).strict(),
  z
    .object({
      kind: z.literal('unnotified'),
      approvalId,
      pipelineName: name,
      stageName: name,
      actionName: name,
      region: z.string().regex(AWS_REGION),
      account: z
        .string()
        .regex(/^\d{12}$/)
        .exactOptional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('digest'),
      responseUrl: z.url({ protocol: /^https?$/ }),
      userId: z.string().min(1).max(40),
    })
    .strict(),
]);

/**
 * Where a job may post an answer: Slack's response URLs (`https://hooks.slack.com/…`), or the origin
 * of the configured Slack API, whose server issues them in the sandbox. Anything else would make
 * the worker post product boards and digests wherever a queue message says.
 */
export function isSlackResponseUrl(url: string, slackApiUrl?: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:' && parsed.host === 'hooks.slack.com') return true;
  if (!slackApiUrl) return false;
  try {
    return parsed.origin === new URL(slackApiUrl).origin;
  } catch {
    return false;
  }
}

/**
 * What a message this worker cannot read may tell the logs: its kind and the ids it names, each
 * only when it has their form. Never a response URL (a credential for 30 minutes) or free text.
 */
const unreadableJobContext = z.object({
  kind: z
    .string()
    .regex(/^[a-z][a-z-]{0,19}$/)
    .optional()
    .catch(undefined),
  releaseId: releaseId.optional().catch(undefined),
  approvalId: approvalId.optional().catch(undefined),
});

/**
 * The release worker: runs each job of an SQS batch, one after the other (they share one request
 * rate). A job that fails is reported in `batchItemFailures`, so SQS delivers it again (every job
 * is idempotent). A message this worker cannot read as a job fails too, never silently: see
 * `unreadableJobRetrySeconds`.
 */
export async function processReleaseJobs(
  deps: WorkerDeps,
  event: {
    Records: Array<Pick<SQSRecord, 'messageId' | 'body'> & Partial<Pick<SQSRecord, 'receiptHandle' | 'attributes'>>>;
  },
  invocation?: InvocationClock,
): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  const records: unknown = (event as { Records?: unknown } | null | undefined)?.Records;
  if (!Array.isArray(records)) {
    deps.log.error('Ignored an event that is not an SQS delivery: it has no Records list', {
      eventType: event === null ? 'null' : typeof event,
    });
    return { batchItemFailures: [] };
  }
  for (const record of records as Array<(Pick<SQSRecord, 'messageId' | 'body'> & Partial<SQSRecord>) | null>) {
    if (!record || typeof record !== 'object') {
      deps.log.warn('Dropped a queue record that is not an SQS message');
      continue;
    }
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
    const parsed = parseJson(releaseJobSchema, record.body);
    if (!parsed.ok) {
      // Perhaps a job of another version of Greenlight (a deploy or a rollback changed its format):
      // a confirmed release must not vanish. It fails like any job, so after the queue's last
      // receive SQS moves it to ReleaseDlq, which alarms and can be redriven once a worker reads it.
      const retryInSeconds = unreadableJobRetrySeconds(receiveCount);
      const context = parseJson(unreadableJobContext, record.body);
      deps.log.error(
        'Could not read a queue message as a release job; it goes to the release dead-letter queue after its last receive',
        {
          messageId: record.messageId,
          receiveCount,
          retryInSeconds,
          problem: parsed.problem,
          ...(context.ok ? context.value : {}),
        },
      );
      await deliverAgain(deps, record, retryInSeconds, failures);
      continue;
    }
    const job = parsed.value as ReleaseJob;
    if (
      (job.kind === 'board' || job.kind === 'digest') &&
      !isSlackResponseUrl(job.responseUrl, deps.config.slackApiUrl)
    ) {
      deps.log.warn('Dropped a release job whose response URL is not Slack', {
        messageId: record.messageId,
        kind: job.kind,
        host: hostOf(job.responseUrl),
      });
      continue;
    }
    // Every line about this job's release (or approval) carries its id.
    const correlation: Correlation | undefined =
      'releaseId' in job
        ? { releaseId: job.releaseId }
        : 'approvalId' in job
          ? { approvalId: job.approvalId }
          : undefined;
    const retryInSeconds = retryDelaySeconds(job, receiveCount);
    const handle = async () => {
      try {
        if (!(await runJob(deps, job, invocation))) await deliverAgain(deps, record, retryInSeconds, failures);
      } catch (error) {
        deps.log.error('Release job failed; it will be retried', {
          messageId: record.messageId,
          kind: job.kind,
          retryInSeconds,
          error,
        });
        await deliverAgain(deps, record, retryInSeconds, failures);
      }
    };
    await (correlation ? withCorrelation(correlation, handle) : handle());
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * Reported in `batchItemFailures`, and brought back after `seconds` rather than the queue's
 * visibility timeout (30 minutes).
 */
async function deliverAgain(
  deps: WorkerDeps,
  record: Pick<SQSRecord, 'messageId'> & Partial<Pick<SQSRecord, 'receiptHandle'>>,
  seconds: number,
  failures: string[],
): Promise<void> {
  failures.push(record.messageId);
  if (!record.receiptHandle) return;
  await deps.queue.retryIn?.(record.receiptHandle, seconds).catch((error: unknown) =>
    deps.log.warn('Could not bring a release job back sooner; the queue retries it later', {
      messageId: record.messageId,
      error,
    }),
  );
}

/**
 * How long a job that failed waits before it is delivered again, three times longer with each
 * receive: a plan, a board or a digest preview someone waits for in Slack comes back after 5, 15,
 * 45 and 135 s; a release or a settle job after 1, 3, 9 and 27 minutes, so the queue's five receives
 * (maxReceiveCount) span 40 minutes of an outage before the job is dead-lettered.
 */
export function retryDelaySeconds(job: ReleaseJob, receiveCount: number): number {
  const someoneWaits = job.kind === 'plan' || job.kind === 'board' || job.kind === 'digest';
  return backoffSeconds(someoneWaits ? 5 : 60, receiveCount);
}

/**
 * A message this worker cannot read comes back as a release job would (1, 3, 9 and 27 minutes): a
 * job written by a newer Greenlight while this worker's function still waits for its own update
 * is then read by the updated worker, and nothing is lost; a message no version reads is in the
 * dead-letter queue after the same 40 minutes, never retried for ever.
 */
export const unreadableJobRetrySeconds = (receiveCount: number): number => backoffSeconds(60, receiveCount);

function backoffSeconds(first: number, receiveCount: number): number {
  const earlier = Number.isFinite(receiveCount) ? Math.min(5, Math.max(0, receiveCount - 1)) : 0;
  return first * 3 ** earlier;
}

/** Runs one job; `false` asks for it to be delivered again later. */
async function runJob(deps: WorkerDeps, job: ReleaseJob, invocation?: InvocationClock): Promise<boolean> {
  switch (job.kind) {
    case 'release':
      return runReleaseJob(deps, job.releaseId, invocation);
    case 'plan':
      await planJob(deps, job);
      return true;
    case 'board':
      await boardJob(deps, job);
      return true;
    case 'digest':
      await digestJob(deps, job);
      return true;
    case 'settle':
      return settleJob(deps, job.approvalId);
    case 'post':
      await postJob(deps, job.approvalId);
      return true;
    case 'unnotified': {
      const { kind: _kind, ...started } = job;
      const readerAt = deps.readerAt ?? (async () => deps.reader);
      const result = await postUnnotified({ ...deps, readerAt }, started);
      if (result !== 'notified')
        deps.log.info('Looked for an approval no notification brought', { ...started, result });
      return true;
    }
  }
}

/**
 * An approval its notification stored but never posted (core/pipeline-events.ts `postUnposted`):
 * posted as the notification would have, under its post lease, looking for a message first, with
 * the rules and the review the request was stored with; for people to decide, never approved by
 * policy here. One that was posted or ended meanwhile is left alone; a post still in progress
 * elsewhere fails the job, which comes back after its backoff.
 */
async function postJob(deps: WorkerDeps, approvalId: string): Promise<void> {
  const record = await deps.store.get(approvalId);
  if (!record || record.message || record.status !== 'pending') return;
  // Posted for people to decide: a late post never approves by policy, which would trust the rules
  // and review stored on the record (every handler may write the table) with the worker's rights.
  const { pipelines: _notToApprove, ...poster } = deps;
  const result = await requestApproval({ ...poster, posting: WORKER_POSTING }, record.request);
  deps.log.info('Posted an approval its notification never posted', { approvalId, result });
}

/** An approval whose record or message lags behind CodePipeline (core/settle-approval.ts). */
async function settleJob(deps: WorkerDeps, approvalId: string): Promise<boolean> {
  // An approval CodePipeline no longer shows as the action's current one is closed as it ended there.
  const { readerAt, clock } = deps;
  const options = readerAt ? { endedHow: (open: ApprovalRecord) => endedHow({ readerAt, clock }, open) } : {};
  let result: SettleResult;
  try {
    result = await settleApproval(deps, approvalId, options);
  } catch (error) {
    if (!(error instanceof ClaimKeptError)) throw error;
    // Kept for the reminder schedule, which queues it again within 15 minutes while it is
    // `deciding`: retrying here too would only fill the dead-letter queue while CodePipeline
    // cannot be read (a deleted pipeline, a role that cannot be assumed).
    deps.log.warn('Left an approval deciding: CodePipeline did not say where it stands', { approvalId, error });
    return true;
  }
  if (result.status !== 'busy') return true;
  // Someone is deciding right now: look again once their claim has run out.
  const delaySeconds = Math.min(900, Math.max(1, Math.ceil((result.until.getTime() - deps.clock().getTime()) / 1000)));
  await deps.queue.send({ kind: 'settle', approvalId }, { delaySeconds });
  return true;
}

async function runReleaseJob(deps: WorkerDeps, releaseId: string, invocation?: InvocationClock): Promise<boolean> {
  const { settings, queue } = deps;
  const continueInAnotherJob = async () => {
    await queue.send({ kind: 'release', releaseId });
    deps.log.info('Release continues in another job', { releaseId });
  };
  // The run stops starting pipelines `stopMarginMs` before the Lambda's timeout. If it is still
  // going then (pipelines in flight, a slow Slack), the rest is queued at once, so a Lambda that
  // times out meanwhile loses nothing: the new job finds those pipelines leased, and looks again a
  // minute later. Otherwise the release would wait out the queue's visibility timeout (30 minutes).
  let queuedEarly: Promise<boolean> | undefined;
  let finished = false;
  const watchdog =
    invocation &&
    setTimeout(
      () => {
        // Only the last progress update is left: nothing to continue.
        if (finished) return;
        queuedEarly = continueInAnotherJob().then(
          () => true,
          (error: unknown) => {
            deps.log.warn('Could not queue the rest of the release yet; trying again when the run ends', {
              releaseId,
              error,
            });
            return false;
          },
        );
      },
      Math.max(0, invocation.getRemainingTimeInMillis() - settings.stopMarginMs),
    );
  let report: Awaited<ReturnType<typeof runRelease>>;
  try {
    report = await runRelease(deps, releaseId, {
      owner: `worker-${deps.ids()}`,
      shouldStop: () => (invocation ? invocation.getRemainingTimeInMillis() < settings.stopMarginMs : false),
      // What is left once the fan-out stops, less half the margin for what follows the run.
      ...(invocation ? { drainBudgetMs: () => invocation.getRemainingTimeInMillis() - settings.stopMarginMs / 2 } : {}),
      statusKnown: (status) => {
        finished = status === 'finished';
      },
    });
  } finally {
    clearTimeout(watchdog);
  }
  const continued = (await queuedEarly) ?? false;
  switch (report.status) {
    case 'finished':
      return true;
    case 'stopped':
      if (!continued) await continueInAnotherJob();
      return true;
    case 'incomplete':
      if (continued) return true;
      // Others hold some pipelines (a concurrent delivery, or this release's interrupted attempt):
      // look again in a minute, as a new job, rather than after the visibility timeout.
      await queue.send({ kind: 'release', releaseId }, { delaySeconds: settings.incompleteDelaySeconds });
      deps.log.info('Other workers hold pipelines of this release; checking again later', {
        releaseId,
        delaySeconds: settings.incompleteDelaySeconds,
      });
      return true;
    case 'not-found':
    case 'not-confirmed':
      deps.log.warn('Dropped a release job for a release that cannot run', { releaseId, status: report.status });
      return true;
  }
}

async function planJob(deps: WorkerDeps, job: Extract<ReleaseJob, { kind: 'plan' }>): Promise<void> {
  const { reporter } = deps;
  try {
    // A repeated job shows the plan stored the first time; it never reads the pipelines again.
    const stored = await deps.releases.get(job.releaseId);
    if (stored) {
      if (stored.state !== 'planned') {
        deps.log.info('A plan job came again after its release was confirmed; nothing to show', {
          releaseId: job.releaseId,
        });
        return;
      }
      await reporter.showPlan(job.viewId, stored, job.viewHash);
      return;
    }
    // The env's accounts and regions (PRODUCTS `account`, `region`, `targets`): looked up and planned there.
    const places = await placesOf(deps, job.product, job.env);
    const found = await findTargetIn(places, deps.config.products, job.product, job.env);
    if (!found.ok) {
      await reporter.showProblem(job.viewId, 'Release', releaseNotices.targetProblem(found), job.viewHash);
      return;
    }
    const plan = await planReleaseFor(deps, found, {
      releaseId: job.releaseId,
      requestedBy: { ...job.requestedBy, via: 'slack' },
      source: 'slack',
    });
    await reporter.showPlan(job.viewId, plan, job.viewHash);
  } catch (error) {
    // An account the env lives in could not be reached: said in the modal, naming it, not retried
    // into the dead-letter queue while the person waits on a loading modal.
    const account = accountProblem(error);
    if (account) {
      deps.log.warn('Could not plan a release: an account of the env could not be reached', {
        releaseId: job.releaseId,
        error,
      });
      await reporter.showProblem(job.viewId, 'Release', account, job.viewHash);
      return;
    }
    // The person closed the modal meanwhile, or an earlier delivery of this job drew it already:
    // nothing to show, and nothing was approved.
    if (modalGone(error)) {
      deps.log.info('The release modal was closed or redrawn before this plan job reached it', {
        releaseId: job.releaseId,
        slackError: slackErrorCode(error),
      });
      return;
    }
    throw error;
  }
}

async function boardJob(deps: WorkerDeps, job: Extract<ReleaseJob, { kind: 'board' }>): Promise<void> {
  try {
    // Every account and region the product's pipelines live in (PRODUCTS `account`, `region`, `targets`).
    const places = await productPlacesOf(deps, job.product);
    const found = await findProductIn(places, deps.config.products, job.product);
    if (!found.ok)
      return deps.reporter.respond(job.responseUrl, releaseNotices.unknownProduct(found.name, found.known));
    await deps.reporter.showBoard(job.responseUrl, await boardIn(found));
  } catch (error) {
    // An account the product lives in could not be reached: the answer names it.
    const account = accountProblem(error);
    if (!account) throw error;
    deps.log.warn('Could not show a board: an account of the product could not be reached', {
      product: job.product,
      error,
    });
    await deps.reporter.respond(job.responseUrl, account);
  }
}

/** `/release digest` for an installation too big to read within the command's 3 s. */
async function digestJob(deps: WorkerDeps, job: Extract<ReleaseJob, { kind: 'digest' }>): Promise<void> {
  let digest: Digest;
  try {
    digest = await previewDigest(deps, deps.clock());
  } catch (error) {
    deps.log.error('Could not build the digest preview', { user: job.userId, error });
    await deps.reporter.respond(job.responseUrl, releaseNotices.failed);
    return;
  }
  await deps.reporter.showDigest(job.responseUrl, digest);
}

/** The host of a URL for the logs (never its path: response URLs are credentials for 30 minutes). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'not a URL';
  }
}
