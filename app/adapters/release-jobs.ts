import { z } from 'zod';
import { productBoard } from '../core/product-board.ts';
import { RELEASE_ID } from '../core/release.ts';
import type { ReleaseJob } from '../core/release-ports.ts';
import { runRelease } from '../core/release-run.ts';
import { findProduct, findTarget } from '../core/release-target.ts';
import { productBoardMessage } from '../views/product-board.ts';
import { releaseNotices } from '../views/release-help.ts';
import { planAndSave, type ReleaseDeps, runDeps } from './release-services.ts';

/** Just what the worker reads of an SQS event (Lambda's SQSEvent has more). */
export interface SqsEvent {
  Records: Array<{
    messageId: string;
    body: string;
    attributes?: { ApproximateReceiveCount?: string };
    eventSource?: string;
  }>;
}

/** Partial batch response: only these messages are retried (`ReportBatchItemFailures`). */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** The remaining time of the Lambda invocation, when there is one. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

const name = z.string().regex(/^[A-Za-z0-9.@\-_]{1,100}$/);
const releaseId = z.string().regex(RELEASE_ID);

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
      requestedBy: z.object({
        id: z.string().min(1).max(40),
        name: z.string().min(1).max(200),
        teamId: z.string().max(40).optional(),
      }),
    })
    .strict(),
  z.object({ kind: z.literal('board'), product: name, responseUrl: z.url({ protocol: /^https?$/ }) }).strict(),
]);

export function parseReleaseJob(body: string): { ok: true; job: ReleaseJob } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = releaseJobSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    return { ok: false, problem: `not a release job: bad or missing ${[...new Set(fields)].join(', ')}` };
  }
  return { ok: true, job: parsed.data as ReleaseJob };
}

/**
 * The release worker: runs each job of an SQS batch, one after the other (they share one request
 * rate). A job that fails is reported in `batchItemFailures`, so SQS delivers it again (every job
 * is idempotent); a message that is not a job is logged and dropped, as retrying cannot help.
 */
export async function processReleaseJobs(
  deps: ReleaseDeps,
  event: SqsEvent,
  invocation?: InvocationClock,
): Promise<SqsBatchResponse> {
  const failures: string[] = [];
  for (const record of event.Records ?? []) {
    const parsed = parseReleaseJob(record.body ?? '');
    if (!parsed.ok) {
      deps.log.warn('Dropped a queue message that is not a release job', {
        messageId: record.messageId,
        problem: parsed.problem,
      });
      continue;
    }
    try {
      const done = await runJob(deps, parsed.job, invocation);
      if (!done) failures.push(record.messageId);
    } catch (error) {
      deps.log.error('Release job failed; it will be retried', {
        messageId: record.messageId,
        kind: parsed.job.kind,
        ...('releaseId' in parsed.job ? { releaseId: parsed.job.releaseId } : {}),
        error,
      });
      failures.push(record.messageId);
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Runs one job; `false` asks for it to be delivered again later. */
async function runJob(deps: ReleaseDeps, job: ReleaseJob, invocation?: InvocationClock): Promise<boolean> {
  switch (job.kind) {
    case 'release':
      return runReleaseJob(deps, job.releaseId, invocation);
    case 'plan':
      await planJob(deps, job);
      return true;
    case 'board':
      await boardJob(deps, job);
      return true;
  }
}

async function runReleaseJob(deps: ReleaseDeps, releaseId: string, invocation?: InvocationClock): Promise<boolean> {
  const { settings, queue } = deps.releases;
  const report = await runRelease(runDeps(deps), releaseId, {
    owner: `worker-${deps.ids()}`,
    shouldStop: () => (invocation ? invocation.getRemainingTimeInMillis() < settings.stopMarginMs : false),
  });
  switch (report.status) {
    case 'finished':
      return true;
    case 'stopped':
      // Out of time: the rest goes on in a fresh invocation, without waiting for the visibility timeout.
      await queue.send({ kind: 'release', releaseId });
      deps.log.info('Release continues in another job', { releaseId });
      return true;
    case 'incomplete':
      deps.log.info('Other workers hold pipelines of this release; checking again later', { releaseId });
      return false;
    case 'not-found':
    case 'not-confirmed':
      deps.log.warn('Dropped a release job for a release that cannot run', { releaseId, status: report.status });
      return true;
  }
}

async function planJob(deps: ReleaseDeps, job: Extract<ReleaseJob, { kind: 'plan' }>): Promise<void> {
  const { releases } = deps;
  const found = await findTarget(releases.reader, deps.config.products, job.product, job.env);
  try {
    if (!found.ok) {
      const text =
        found.problem === 'unknown-product'
          ? releaseNotices.unknownProduct(found.name, found.known)
          : releaseNotices.unknownEnv(found.product, found.env, found.envs);
      await releases.reporter.showProblem(job.viewId, 'Release', text);
      return;
    }
    const plan = await planAndSave(deps, found, {
      releaseId: job.releaseId,
      requestedBy: { ...job.requestedBy, via: 'slack' },
      source: 'slack',
    });
    await releases.reporter.showPlan(job.viewId, plan);
  } catch (error) {
    // The person closed the modal meanwhile: nothing to show, and nothing was approved.
    if (slackError(error) === 'not_found') {
      deps.log.info('The release modal was closed before its plan was ready', { releaseId: job.releaseId });
      return;
    }
    throw error;
  }
}

async function boardJob(deps: ReleaseDeps, job: Extract<ReleaseJob, { kind: 'board' }>): Promise<void> {
  const { releases } = deps;
  const found = await findProduct(releases.reader, deps.config.products, job.product);
  const message = found.ok
    ? productBoardMessage(
        await productBoard(releases.reader, found.product, { pipelines: found.pipelines }),
        deps.clock(),
      )
    : { text: releaseNotices.unknownProduct(found.name, found.known), blocks: [] };
  await releases.reporter.respond(job.responseUrl, message);
}

const slackError = (error: unknown): string | undefined =>
  (error as { data?: { error?: string } } | undefined)?.data?.error;
