/*
 * Fuzz: a releasing pipeline's CodePipeline job → handlers/release-action.ts (app/inbound/release-action.ts).
 *
 * Its contract (docs/architecture.md, "Contracts", "Release action UserParameters"): UserParameters
 * must be exactly {"product":…,"env":…}; a bad value, an unknown product or env, or a product
 * without pipelines fails the job with ConfigurationError; a continuation token Greenlight did not
 * give fails it; the job is reported through PutJobSuccessResult / PutJobFailureResult, once per
 * invocation. An invocation without a job id has nobody to report to and is dropped.
 *
 * Job ids are jobs CodePipeline gave (the emulator's), as only those take a result.
 *
 * Runs: FUZZ_RUNS cases per property (default 40); `npm run fuzz` runs 10000.
 * Replay a failure: the report prints its seed and path, e.g.
 *   FUZZ_SEED=123 FUZZ_PATH=4:1:0 npx vitest run test/fuzz/release-action.test.ts -t "<test name>"
 * Each case stands alone (a fresh job id, counts taken around the case), so a replayed case behaves
 * as it did in the run.
 */
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodePipelineJobEvent } from '../../app/inbound/release-action.ts';
import { lambdaContext } from '../../sandbox/app/function-url-server.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { productWaitsAt } from '../support/release-world.ts';
import {
  anyJson,
  anyString,
  anyValue,
  asDelivered,
  type CapturedLogs,
  captureLogs,
  fuzz,
  isObject,
  mutated,
  notPlainWords,
  timeoutFor,
  wrongValue,
} from './fuzz-support.ts';

const FILE = 'test/fuzz/release-action.test.ts';

let world: World;
let logs: CapturedLogs;

beforeAll(async () => {
  logs = captureLogs();
  world = await startWorld({ env: { RELEASE_RATE_PER_SECOND: '100' } });
  // Product `fuzz` waits for approval in StagingDEV (env qa): the one release no case below may make.
  await productWaitsAt(world, 'fuzz', ['api', 'web'], 'StagingDEV');
});

afterAll(async () => {
  await world?.close();
  logs?.restore();
});

/** The action's five minutes ahead of it. */
const plentyOfTime = (): Context => ({ ...lambdaContext('release-action'), getRemainingTimeInMillis: () => 300_000 });

const jobResults = (jobId: string) =>
  world.emulator
    .calls()
    .filter((call) => call.operation.startsWith('PutJob') && call.input.jobId === jobId)
    .map((call) => ({ operation: call.operation, ok: call.ok, input: call.input }));

// Inputs

const productName = fc.oneof(
  fc.constantFrom('fuzz', 'FUZZ', 'shop', 'nightly'),
  fc.stringMatching(/^[A-Za-z0-9.@_-]{1,20}$/),
);
const envName = fc.oneof(
  fc.constantFrom('prod', 'PROD', 'constructor', '__proto__', 'toString', 'staging'),
  fc.stringMatching(/^[A-Za-z0-9.@_-]{1,20}$/),
);

/** Parameters that would release product fuzz to qa, which waits: a real request, not one to fuzz. */
const releasesWaitingFuzz = (text: unknown): boolean => {
  if (typeof text !== 'string') return false;
  try {
    const value = JSON.parse(text) as unknown;
    return (
      isObject(value) && String(value.product).toLowerCase() === 'fuzz' && String(value.env).toLowerCase() === 'qa'
    );
  } catch {
    return false;
  }
};

const userParameters = fc
  .oneof(
    {
      weight: 3,
      arbitrary: mutated(fc.record({ product: productName, env: envName }), [['product'], ['env'], ['extra']]).map(
        (v) => JSON.stringify(v),
      ),
    },
    { weight: 2, arbitrary: fc.record({ product: productName, env: envName }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: anyValue },
  )
  .filter((value) => !releasesWaitingFuzz(value));

const continuationToken = fc.oneof(
  fc.constant(undefined),
  anyString,
  fc.uuid().map((id) => `job-${id}`),
  fc.stringMatching(/^[A-Za-z0-9_-]{6,80}$/),
);

/** A job event as CodePipeline sends it, then with one to three of its parts broken. */
const jobData = mutated(
  fc.record(
    {
      actionConfiguration: fc.record({
        configuration: fc.record(
          { FunctionName: fc.constant('greenlight-release-action'), UserParameters: userParameters },
          { requiredKeys: ['FunctionName'] },
        ),
      }),
      inputArtifacts: fc.constant([]),
      outputArtifacts: fc.constant([]),
      continuationToken,
    },
    { requiredKeys: ['actionConfiguration'] },
  ),
  [['actionConfiguration'], ['actionConfiguration', 'configuration'], ['continuationToken'], ['extra']],
  fc.oneof(wrongValue, userParameters),
);

const jobEvent = fc.record({
  id: fc.uuid(),
  accountId: fc.oneof(fc.constant('123456789012'), anyString),
  data: fc.oneof({ weight: 4, arbitrary: jobData }, { weight: 1, arbitrary: anyValue }),
});

/**
 * CodePipeline runs the action: a job it will take one result for (the emulator refuses a result for
 * a job it never gave). A fresh one per case, so a shrunk or replayed case stands alone.
 */
const startJob = (): string =>
  world.emulator.jobs.start({ configuration: { FunctionName: 'greenlight-release-action' } })['CodePipeline.job'].id;

// Properties

describe('the release action, fuzzed', () => {
  const reports = 'reports every job exactly once, in plain words, and approves nothing it was not asked to';
  it(
    reports,
    async () => {
      await fuzz(
        { file: FILE, test: reports },
        fc.asyncProperty(jobEvent, async (delivered) => {
          // Prepare: CodePipeline runs the action (a job of its own); its event, as delivered, says anything
          const decisions = world.emulator.calls('PutApprovalResult').length;
          const job = { ...delivered, id: startJob() };
          const reported = jobResults(job.id).length;
          const event = asDelivered({ 'CodePipeline.job': job }) as unknown as CodePipelineJobEvent;
          // Act
          const handled = await world.handlers.releaseAction(event, plentyOfTime()).then(
            () => 'resolved',
            (error: unknown) => error,
          );
          await world.settle();
          // Assess: no throw, and exactly one result that CodePipeline took …
          expect(handled).toBe('resolved');
          const results = jobResults(job.id).slice(reported);
          expect(results).toHaveLength(1);
          const [result] = results;
          expect(result?.ok).toBe(true);
          // … a failure of a kind the docs name, told in plain words …
          if (result?.operation === 'PutJobFailureResult') {
            const details = result.input.failureDetails as { type?: unknown; message?: unknown };
            expect(['ConfigurationError', 'JobFailed']).toContain(details.type);
            expect(notPlainWords(details.message), String(details.message)).toBeUndefined();
          } else {
            const details = result?.input.executionDetails as { summary?: unknown } | undefined;
            expect(notPlainWords(details?.summary), String(details?.summary)).toBeUndefined();
          }
          // … and nothing approved (the only approvals waiting were not asked for).
          expect(world.emulator.calls('PutApprovalResult').length).toBe(decisions);
        }),
      );
    },
    timeoutFor(150),
  );

  const dropped = 'drops an invocation without a job id, reporting nothing and throwing nothing';
  it(
    dropped,
    async () => {
      const noJobId = fc.oneof(
        anyValue,
        fc.record({ 'CodePipeline.job': anyValue }, { requiredKeys: [] }),
        fc.record({
          'CodePipeline.job': fc.record(
            { id: fc.constantFrom(undefined, null, '', 0, false), data: fc.oneof(jobData, anyValue) },
            { requiredKeys: [] },
          ),
        }),
      );
      const withoutJobId = noJobId.filter((event) => {
        const job = isObject(event) ? event['CodePipeline.job'] : undefined;
        return !(isObject(job) && job.id);
      });
      await fuzz(
        { file: FILE, test: dropped },
        fc.asyncProperty(withoutJobId, async (event) => {
          // Prepare
          const before = world.emulator.calls().length;
          // Act
          const handled = await world.handlers
            .releaseAction(asDelivered(event) as CodePipelineJobEvent, plentyOfTime())
            .then(
              () => 'resolved',
              (error: unknown) => error,
            );
          await world.settle();
          // Assess
          expect(handled).toBe('resolved');
          expect(world.emulator.calls().length).toBe(before);
        }),
      );
    },
    timeoutFor(50),
  );

  const unknown =
    'fails the job with a ConfigurationError, approving nothing, for a product or env that does not exist';
  it(
    unknown,
    async () => {
      // JS prototype keys among them: `constructor` and `__proto__` were once taken for envs, and the job succeeded.
      const env = fc
        .oneof(
          fc.constantFrom('constructor', '__proto__', 'staging', 'live', 'dev'),
          fc.stringMatching(/^[a-z0-9._-]{1,20}$/),
        )
        .filter((e) => e !== 'qa' && e !== 'prod');
      const product = fc.oneof(
        fc.constant('fuzz'),
        fc.stringMatching(/^[a-z0-9]{1,12}$/).filter((p) => p !== 'fuzz'),
      );
      await fuzz(
        { file: FILE, test: unknown },
        fc.asyncProperty(product, env, async (name, wanted) => {
          // Prepare
          const decisions = world.emulator.calls('PutApprovalResult').length;
          const jobId = startJob();
          const reported = jobResults(jobId).length;
          const event = {
            'CodePipeline.job': {
              id: jobId,
              data: {
                actionConfiguration: {
                  configuration: { UserParameters: JSON.stringify({ product: name, env: wanted }) },
                },
              },
            },
          };
          // Act
          await world.handlers.releaseAction(event, plentyOfTime());
          await world.settle();
          // Assess
          expect(jobResults(jobId).slice(reported)).toEqual([
            {
              operation: 'PutJobFailureResult',
              ok: true,
              input: {
                jobId,
                failureDetails: {
                  type: 'ConfigurationError',
                  message: expect.stringMatching(name === 'fuzz' ? /has no env/ : /There is no product/),
                },
              },
            },
          ]);
          expect(world.emulator.calls('PutApprovalResult').length).toBe(decisions);
        }),
      );
    },
    timeoutFor(100),
  );
});
