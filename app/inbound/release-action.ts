import * as z from 'zod';
import { withCorrelation } from '../adapters/powertools-log.ts';
import type { Config } from '../config.ts';
import type { Actor } from '../core/approval.ts';
import { CODEPIPELINE_NAME } from '../core/codepipeline-names.ts';
import { accountProblem } from '../core/errors.ts';
import { RELEASE_ID, type ReleaseCounts, type ReleaseRun, releaseCounts } from '../core/release.ts';
import { placesOf, planReleaseFor } from '../core/release-plan.ts';
import type { JobResults } from '../core/release-ports.ts';
import { type RunReport, runRelease } from '../core/release-run.ts';
import { findTargetIn, type TargetLookup } from '../core/release-target.ts';
import { type ClientOverrides, ReleaseClients } from '../deps.ts';
import { parseJson } from '../parse-json.ts';
import { type InvocationClock, type WorkerDeps, workerDeps } from './release-jobs.ts';

/*
 * The way in of a releasing pipeline: its Lambda invoke action → handlers/release-action.ts →
 * here. The same fan-out as `/release`, reported back to CodePipeline as the job's result.
 */

/** The release worker's deps and the job results, on the worker's budget. */
export interface ActionDeps extends WorkerDeps {
  jobResults: JobResults;
}

export async function actionDeps(config: Config, overrides?: ClientOverrides): Promise<ActionDeps> {
  const clients = new ReleaseClients(config, 'release-action', overrides);
  return { ...(await workerDeps(config, overrides, clients)), jobResults: await clients.jobResults() };
}

/** The CodePipeline job event a Lambda invoke action receives (the parts Greenlight reads). */
export interface CodePipelineJobEvent {
  'CodePipeline.job'?: {
    id?: string;
    accountId?: string;
    data?: {
      actionConfiguration?: { configuration?: { UserParameters?: string; FunctionName?: string } };
      continuationToken?: string;
    };
  };
}

const name = z.string().regex(CODEPIPELINE_NAME);
const userParametersSchema = z.object({ product: name, env: name }).strict();

const USAGE = 'UserParameters must be JSON like {"product":"shop","env":"prod"}.';

/**
 * A releasing pipeline's Lambda invoke action (docs/concepts.md): once the product's end-to-end tests pass,
 * it releases the product to an env with the same fan-out as `/release`, and reports the result to
 * CodePipeline. A run that nears the Lambda timeout reports success with a continuation token (the
 * release id); CodePipeline then invokes the action again and the release goes on where it stopped.
 * The release id derives from the job id, so a repeated invocation resumes instead of starting over.
 */
export async function handleReleaseAction(
  deps: ActionDeps,
  event: CodePipelineJobEvent,
  invocation: InvocationClock,
): Promise<void> {
  const job = event?.['CodePipeline.job'];
  const jobId = job?.id;
  if (!jobId) {
    // Without a job id there is nobody to report to; retrying the same event cannot help.
    deps.log.error('Dropped an invocation that is not a CodePipeline job', { keys: Object.keys(event ?? {}) });
    return;
  }
  const { jobResults, releases } = deps;
  const params = parseJson(userParametersSchema, job.data?.actionConfiguration?.configuration?.UserParameters);
  if (!params.ok) return jobResults.failed(jobId, { type: 'ConfigurationError', message: USAGE });
  const continuation = job.data?.continuationToken;
  const releaseId = continuation ?? `job-${jobId}`;
  if (!RELEASE_ID.test(releaseId))
    return jobResults.failed(jobId, {
      type: 'JobFailed',
      message: 'The continuation token is not one Greenlight gave.',
    });

  // Every line about this release carries its id.
  return withCorrelation({ releaseId }, async () => {
    try {
      const before = await releases.get(releaseId);
      // A continuation token names a release a releasing pipeline planned for this product and env:
      // never one a person planned in Slack (and perhaps never confirmed), whatever its id.
      if (
        continuation &&
        (before?.source !== 'pipeline' ||
          before.product.name !== params.value.product ||
          before.env !== params.value.env)
      ) {
        deps.log.warn('Refused a continuation token that names no release of this action', { jobId });
        return jobResults.failed(jobId, {
          type: 'JobFailed',
          message: 'The continuation token is not one Greenlight gave for this action.',
        });
      }
      if (!before) {
        const { product, env } = params.value;
        const places = await placesOf(deps, product, env);
        const found = await findTargetIn(places, deps.config.products, product, env);
        if (!found.ok) return jobResults.failed(jobId, { type: 'ConfigurationError', message: lookupProblem(found) });
        if (found.pipelines.length === 0)
          return jobResults.failed(jobId, {
            type: 'ConfigurationError',
            message: `Product ${found.product.name} has no pipelines (none is named ${found.product.prefix}…).`,
          });
        await planReleaseFor(deps, found, {
          releaseId,
          requestedBy: pipelineActor(jobId),
          source: 'pipeline',
        });
      }
      await releases.confirm(releaseId, deps.clock());
      const doneBefore = before ? releaseCounts(before).done : 0;
      const report = await runUntilProgress(deps, releaseId, invocation, doneBefore);
      if (!report.run)
        return jobResults.failed(jobId, { type: 'JobFailed', message: `Release ${releaseId} vanished.` });
      const counts = releaseCounts(report.run);
      const what = `${report.run.product.name} → ${report.run.env}`;
      if (report.status === 'stopped' || report.status === 'incomplete') {
        deps.log.info('Release action continues in the next invocation', { releaseId, jobId, ...counts.byKind });
        return jobResults.succeeded(jobId, {
          summary: `${what}: ${counts.done}/${counts.total} done so far`,
          percentComplete: percent(counts),
          continuationToken: releaseId,
        });
      }
      if (counts.byKind.failed + counts.byKind.refused > 0)
        return jobResults.failed(jobId, {
          type: 'JobFailed',
          message: `${what}: ${summary(counts)}${refusalOf(report.run)}. Retry the action to approve what is still pending.`,
        });
      return jobResults.succeeded(jobId, { summary: `${what}: ${summary(counts)}`, percentComplete: 100 });
    } catch (error) {
      // The pipeline waits for an answer until the action times out: fail now, and say how to go on.
      deps.log.error('Release action failed', { releaseId, jobId, error });
      const reason = error instanceof Error ? error.name : 'unknown error';
      // An account that could not be reached is named, so whoever reads the pipeline knows which.
      const account = accountProblem(error);
      return jobResults.failed(jobId, {
        type: 'JobFailed',
        message:
          account ??
          `Greenlight could not finish release ${releaseId} (${reason}). Retry the action to approve what is still pending.`,
      });
    }
  });
}

/**
 * Runs the release; while others hold what is left (`incomplete`) and nothing moved, waits and looks
 * again, as long as the invocation has time. CodePipeline invokes a continuation job again at once:
 * returning one without progress would only spin.
 */
async function runUntilProgress(
  deps: ActionDeps,
  releaseId: string,
  invocation: InvocationClock,
  doneBefore: number,
): Promise<RunReport> {
  const { settings, sleep } = deps;
  const shouldStop = () => invocation.getRemainingTimeInMillis() < settings.stopMarginMs;
  for (;;) {
    const report = await runRelease(deps, releaseId, {
      owner: `action-${deps.ids()}`,
      shouldStop,
      drainBudgetMs: () => invocation.getRemainingTimeInMillis() - settings.stopMarginMs / 2,
    });
    if (report.status !== 'incomplete' || !report.run) return report;
    if (releaseCounts(report.run).done > doneBefore) return report;
    if (invocation.getRemainingTimeInMillis() - settings.incompleteWaitMs < settings.stopMarginMs) return report;
    deps.log.info('Others hold the rest of this release; waiting before looking again', {
      releaseId,
      waitMs: settings.incompleteWaitMs,
    });
    await sleep(settings.incompleteWaitMs);
  }
}

export const pipelineActor = (jobId: string): Actor => ({
  id: `job-${jobId}`,
  name: 'the releasing pipeline',
  via: 'release',
});

function lookupProblem(found: Exclude<TargetLookup, { ok: true }>): string {
  if (found.problem === 'unknown-product')
    return `There is no product ${found.name}. Products: ${found.known.join(', ') || 'none yet'}.`;
  return `Product ${found.product.name} has no env ${found.env}. Envs: ${found.envs.join(', ')}.`;
}

const percent = (counts: ReleaseCounts) => (counts.total === 0 ? 100 : Math.floor((counts.done / counts.total) * 100));

/** Why the env's rules kept the release from approving (the first pipeline's, as they share the rules). */
function refusalOf(run: ReleaseRun): string {
  const refused = Object.values(run.results).find((result) => result.kind === 'refused');
  return refused?.kind === 'refused' ? ` (${refused.why})` : '';
}

function summary(counts: ReleaseCounts): string {
  const parts = [
    `${counts.byKind.approved} approved`,
    counts.byKind.changed ? `${counts.byKind.changed} changed since planned` : '',
    counts.byKind['already-decided'] ? `${counts.byKind['already-decided']} already decided` : '',
    counts.byKind['not-pending'] ? `${counts.byKind['not-pending']} no longer pending` : '',
    counts.byKind.refused ? `${counts.byKind.refused} not approved under the env's approval rules` : '',
    counts.byKind.failed ? `${counts.byKind.failed} failed` : '',
  ];
  return parts.filter(Boolean).join(', ');
}
