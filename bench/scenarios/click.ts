/**
 * The approve click: 200 clicks on 200 approval messages, one after the other, through the real
 * slack-events handler (signed request → Bolt → claim in DynamoDB → PutApprovalResult → outcome →
 * chat.update), with CodePipeline answering each call after 50 ms. Reported: the handler's time
 * minus that injected latency, i.e. what Greenlight itself adds to a click (Slack allows 3 s).
 * Runs in a process of its own: a process holds one world.
 */
import { ids } from '../../app/views/ids.ts';
import { SANDBOX_CHANNELS, startWorld } from '../../sandbox/world.ts';
import { inChildProcess } from '../child.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const CLICKS = 200;
const LATENCY_MS = 50;
const PEOPLE = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'];

async function measure(): Promise<BenchRow[]> {
  const world = await startWorld();
  try {
    const pipelines = world.emulator.createPipelines('click', CLICKS);
    // In batches: 200 notifications at once would be a load test of the notification handler instead.
    for (let i = 0; i < pipelines.length; i += 20) {
      for (const pipeline of pipelines.slice(i, i + 20)) world.emulator.commit(pipeline, `${pipeline}-c1`);
      await world.settle();
    }
    const messages = world.slack
      .messages(SANDBOX_CHANNELS.approvals)
      .filter((message) => message.metadata?.event_type === ids.metadataEvent);
    if (messages.length !== CLICKS) throw new Error(`Expected ${CLICKS} approval messages, got ${messages.length}`);

    world.emulator.configure({ latencyMs: LATENCY_MS });
    world.emulator.clearCalls();
    const own: number[] = [];
    let refused = 0;
    for (const [i, message] of messages.entries()) {
      const callsBefore = world.emulator.calls().length;
      const click = await world.slack.click(
        PEOPLE[i % PEOPLE.length] as string,
        SANDBOX_CHANNELS.approvals,
        message.ts,
        ids.approve,
      );
      const remote = (world.emulator.calls().length - callsBefore) * LATENCY_MS;
      own.push(click.elapsedMs - remote);
      if (click.status !== 200 || click.ephemerals.length > 0) refused += 1;
    }
    await world.settle();
    const approved = world.emulator.calls('PutApprovalResult').filter((call) => call.ok).length;
    const sorted = [...own].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
    const ms = (value: number) => `${value.toFixed(0)} ms`;
    return [
      {
        name: `approve click, handler time minus ${LATENCY_MS} ms of CodePipeline latency: p50`,
        measured: ms(at(0.5)),
        goal: 'well under 3 s',
      },
      {
        name: 'approve click: p99',
        measured: ms(at(0.99)),
        notes: `max ${ms(sorted.at(-1) ?? 0)}, first (cold) ${ms(own[0] ?? 0)}; ${approved}/${CLICKS} approved, ${refused} answered with an error`,
      },
    ];
  } finally {
    await world.close();
  }
}

const scenario: BenchScenario = {
  title: `Approve click (${CLICKS} clicks, ${LATENCY_MS} ms per CodePipeline call)`,
  run: inChildProcess(import.meta.url, 'click', measure),
};
export default scenario;
