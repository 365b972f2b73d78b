/**
 * The daily digest of a large installation: 200 service pipelines (five products) with 30 days of
 * executions behind them and a change waiting for approval in each, CodePipeline answering every
 * call after 50 ms and allowing 10 calls per second per operation (a token bucket with a burst of
 * 10, ThrottlingException beyond it). Measures the digest's wall time against the floor that limit
 * sets, the CodePipeline calls it makes against the fewest it could, and checks that no call was
 * made twice for the same input. Runs in a process of its own: a process holds one world.
 */
import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import { snsApprovalEvent } from '../../sandbox/codepipeline/notification.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { inChildProcess } from '../child.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const PRODUCTS: Record<string, number> = { shop: 60, blog: 50, data: 40, edge: 30, mail: 20 };
const DAYS = 30;
const LATENCY_MS = 50;
const LIMIT = 10;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

async function measure(): Promise<BenchRow[]> {
  // The emulator starts 30 days ago and is moved forward through the history to about now.
  // Without CodePipeline's events: the history's approvals are answered in the console, and their
  // handler has nothing to do with the digest's reads.
  const world = await startWorld({
    emulator: { clock: () => new Date(Date.now() - DAYS * DAY) },
    pipelineEvents: false,
  });
  try {
    const pipelines = Object.entries(PRODUCTS).flatMap(([product, count]) =>
      Array.from({ length: count }, (_, i) => `${product}-svc${String(i + 1).padStart(3, '0')}`),
    );
    for (const name of pipelines) world.emulator.createPipeline(silent(pipelineDefinition(name)));
    const history = await makeHistory(world, pipelines);
    await awaitApprovals(world, pipelines);

    world.emulator.configure({ latencyMs: LATENCY_MS, rateLimitPerSecond: LIMIT });
    world.emulator.clearCalls();
    const slackCallsBefore = world.slack.calls().length;
    const started = performance.now();
    const result = await world.handlers.dailyDigest({});
    const wallMs = performance.now() - started;
    world.emulator.configure({ latencyMs: 0, rateLimitPerSecond: undefined });

    const calls = world.emulator.calls();
    // A throttled call is refused, not answered: the one sent again after it is no repeat.
    const answered = calls.filter((call) => call.error !== 'ThrottlingException');
    const throttled = calls.length - answered.length;
    const byOperation = new Map<string, number>();
    const seen = new Set<string>();
    let repeated = 0;
    for (const call of answered) {
      byOperation.set(call.operation, (byOperation.get(call.operation) ?? 0) + 1);
      const key = `${call.operation} ${JSON.stringify(call.input)}`;
      if (seen.has(key)) repeated++;
      seen.add(key);
    }
    const pages = pipelines.length + history.twoPagePipelines;
    const fewest = 1 + pages + pipelines.length;
    // The floor: ListPipelines, then the busiest operation's calls at the limit (a full bucket lets
    // LIMIT through at once, then one per 1/LIMIT s), then the last page's answer and its pipeline's state.
    const busiest = Math.max(pages, pipelines.length);
    const floorMs = 3 * LATENCY_MS + ((busiest - LIMIT) / LIMIT) * 1000;
    const slackCalls = world.slack.calls().slice(slackCallsBefore);
    const posts = slackCalls.filter((c) => c.method === 'chat.postMessage').length;
    return [
      {
        name: `digest of ${pipelines.length} pipelines × ${DAYS} days (${history.executions} executions), ${LATENCY_MS} ms per call, ${LIMIT} calls/s per operation`,
        measured: `${(wallMs / 1000).toFixed(1)} s (${result})`,
        floor: `${(floorMs / 1000).toFixed(1)} s (${busiest} ListPipelineExecutions at ${LIMIT}/s, after ListPipelines, before the last GetPipelineState)`,
        ratio: wallMs / floorMs,
        goal: '≤ 1.2',
      },
      {
        name: 'CodePipeline calls answered',
        measured: `${answered.length}: ${[...byOperation].map(([op, n]) => `${op} ${n}`).join(', ')}`,
        floor: `${fewest} (ListPipelines once, every page of executions once, one GetPipelineState per pipeline)`,
        ratio: answered.length / fewest,
        notes: `${throttled} more throttled and sent again; ${history.twoPagePipelines} pipelines need two pages of executions`,
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
  title: `Daily digest (${Object.values(PRODUCTS).reduce((a, b) => a + b)} pipelines × ${DAYS} days, ${LATENCY_MS} ms per CodePipeline call, ${LIMIT} calls/s per operation)`,
  run: inChildProcess(import.meta.url, 'digest', measure),
};
export default scenario;
