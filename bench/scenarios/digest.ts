/**
 * The daily digest of a large installation: 200 service pipelines (five products) with 30 days of
 * executions behind them and a change waiting for approval in each, CodePipeline answering every
 * call after 50 ms. Measures the digest's wall time and the CodePipeline calls it makes, and checks
 * that no call was made twice for the same page. Runs in a process of its own: a process holds one world.
 */
import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { READ_CONCURRENCY } from '../../app/core/digest.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import { snsApprovalEvent } from '../../sandbox/codepipeline/notification.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { inChildProcess } from '../child.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const PRODUCTS: Record<string, number> = { shop: 60, blog: 50, data: 40, edge: 30, mail: 20 };
const DAYS = 30;
const LATENCY_MS = 50;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

async function measure(): Promise<BenchRow[]> {
  // The emulator starts 30 days ago and is moved forward through the history to about now.
  const world = await startWorld({ emulator: { clock: () => new Date(Date.now() - DAYS * DAY) } });
  try {
    const pipelines = Object.entries(PRODUCTS).flatMap(([product, count]) =>
      Array.from({ length: count }, (_, i) => `${product}-svc${String(i + 1).padStart(3, '0')}`),
    );
    for (const name of pipelines) world.emulator.createPipeline(silent(pipelineDefinition(name)));
    const history = await makeHistory(world, pipelines);
    await awaitApprovals(world, pipelines);

    world.emulator.configure({ latencyMs: LATENCY_MS });
    world.emulator.clearCalls();
    const slackCallsBefore = world.slack.calls().length;
    const started = performance.now();
    const result = await world.handlers.dailyDigest({});
    const wallMs = performance.now() - started;

    const calls = world.emulator.calls();
    const byOperation = new Map<string, number>();
    const seen = new Set<string>();
    let repeated = 0;
    for (const call of calls) {
      byOperation.set(call.operation, (byOperation.get(call.operation) ?? 0) + 1);
      const key = `${call.operation} ${JSON.stringify(call.input)}`;
      if (seen.has(key)) repeated++;
      seen.add(key);
    }
    // The floor: calls that must follow one another (a pipeline's pages, then its state, then the
    // revisions its stages show, looked up together), READ_CONCURRENCY pipelines at a time.
    const steps = pipelines.reduce((sum, name) => {
      const of = (op: string) =>
        calls.filter((c) => c.operation === op && (c.input.pipelineName ?? c.input.name) === name);
      return sum + of('ListPipelineExecutions').length + 1 + (of('GetPipelineExecution').length > 0 ? 1 : 0);
    }, 0);
    const floorMs = (1 + Math.ceil(steps / READ_CONCURRENCY)) * LATENCY_MS;
    const slackCalls = world.slack.calls().slice(slackCallsBefore);
    const posts = slackCalls.filter((c) => c.method === 'chat.postMessage').length;
    return [
      {
        name: `digest of ${pipelines.length} pipelines × ${DAYS} days (${history.executions} executions), ${LATENCY_MS} ms per call`,
        measured: `${(wallMs / 1000).toFixed(1)} s (${result})`,
        floor: `${(floorMs / 1000).toFixed(1)} s (${steps} calls in sequence per pipeline, ${READ_CONCURRENCY} pipelines at a time)`,
        ratio: wallMs / floorMs,
        goal: '≤ 30 s',
      },
      {
        name: 'CodePipeline calls',
        measured: `${calls.length}: ${[...byOperation].map(([op, n]) => `${op} ${n}`).join(', ')}`,
        floor: `${1 + (byOperation.get('ListPipelineExecutions') ?? 0) + pipelines.length} (ListPipelines once, every page of executions once, one GetPipelineState per pipeline: stage revisions could come from the executions listed)`,
        notes: `${history.twoPagePipelines} pipelines need two pages of executions; GetPipelineExecution once per execution a stage shows`,
      },
      {
        name: 'calls repeated for the same input',
        measured: String(repeated),
        goal: '0',
      },
      {
        name: 'Slack calls',
        measured: `${slackCalls.length}: chat.postMessage ${posts} (1 top message + ${posts - 1} thread replies), chat.getPermalink ${slackCalls.filter((c) => c.method === 'chat.getPermalink').length}`,
        notes: `every reply within Block Kit limits, in ${SANDBOX_CHANNELS.digest}`,
      },
    ];
  } finally {
    await world.close();
  }
}

/**
 * 30 days of work, all pipelines in step: two changes a day (four for every fifth pipeline, so its
 * executions take two pages), each approved or now and then rejected in the console, or failing its
 * DEV tests; deployed to production when approved twice.
 */
async function makeHistory(
  world: World,
  pipelines: string[],
): Promise<{ executions: number; twoPagePipelines: number }> {
  const { emulator } = world;
  let executions = 0;
  const busy = (i: number) => i % 5 === 0;
  const answer = (name: string, stageName: string, reject: boolean) => {
    if (emulator.pendingApprovals({ pipelineName: name, stageName }).length === 0) return;
    emulator.answerInConsole(name, stageName, reject ? 'Rejected' : 'Approved');
  };
  for (let day = 0; day < DAYS; day++) {
    for (let round = 0; round < 4; round++) {
      const active = pipelines.filter((_, i) => round < 2 || busy(i));
      for (const [i, name] of active.entries()) {
        if ((day + i + round) % 17 === 0) emulator.failNext(name, 'StagingDEV', 'Test');
        emulator.commit(name, { revisionId: `${name}-d${day}r${round}`, summary: `Day ${day}, change ${round}` });
        executions++;
      }
      await world.settle();
      emulator.advanceClock(HOUR / 2);
      for (const [i, name] of active.entries()) answer(name, 'StagingDEV', (day + i) % 11 === 0);
      await world.settle();
      emulator.advanceClock(1.5 * HOUR);
      for (const [i, name] of active.entries()) answer(name, 'StagingQA', (day * 3 + i) % 13 === 0);
      await world.settle();
      emulator.advanceClock(HOUR);
    }
    emulator.advanceClock(day === DAYS - 1 ? DAY - 12 * HOUR - 2 * HOUR : DAY - 12 * HOUR);
  }
  return { executions, twoPagePipelines: pipelines.filter((_, i) => busy(i)).length };
}

/** A last change in every pipeline waits in DEV, and Greenlight has posted its approval message. */
async function awaitApprovals(world: World, pipelines: string[]): Promise<void> {
  const { emulator } = world;
  for (const name of pipelines) emulator.commit(name, { revisionId: `${name}-today`, summary: 'Waiting for review' });
  await world.settle();
  emulator.advanceClock(HOUR);
  const pending = emulator.pendingApprovals({ stageName: 'StagingDEV' });
  for (let i = 0; i < pending.length; i += 20) {
    await Promise.all(
      pending.slice(i, i + 20).map((approval) =>
        world.handlers.approvalNotification(
          snsApprovalEvent(
            {
              region: emulator.region,
              accountId: emulator.accountId,
              topicArn: `arn:aws:sns:${emulator.region}:${emulator.accountId}:greenlight-approvals`,
              pipelineName: approval.pipelineName,
              stageName: approval.stageName,
              actionName: approval.actionName,
              token: approval.token,
              expiresAt: approval.expiresAt,
            },
            emulator.now(),
          ),
        ),
      ),
    );
  }
}

/** The pipeline with approval actions that publish nothing: the history's approvals are answered in the console. */
function silent(definition: PipelineDeclaration): PipelineDeclaration {
  return {
    ...definition,
    stages: definition.stages?.map((stage) => ({
      ...stage,
      actions: stage.actions?.map((action) => {
        const { NotificationArn: _topic, ...configuration } = action.configuration ?? {};
        return { ...action, configuration };
      }),
    })),
  };
}

const scenario: BenchScenario = {
  title: `Daily digest (${Object.values(PRODUCTS).reduce((a, b) => a + b)} pipelines × ${DAYS} days, ${LATENCY_MS} ms per CodePipeline call)`,
  run: inChildProcess(import.meta.url, 'digest', measure),
};
export default scenario;
