import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';

let world: World;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  world = await startWorld();
  world.emulator.seedDemoWorld();
});
afterAll(() => world?.close());

describe("a click within Slack's 3 seconds", () => {
  it('answers in time and asks to try again when CodePipeline hangs, then lets the next click decide', async () => {
    // Prepare
    world.emulator.commit('shop-payments', 'p1');
    await world.settle();
    const message = world.slack.messages(SANDBOX_CHANNELS.approvals).find((m) => m.text.includes('shop-payments'));
    if (!message) throw new Error('no approval message for shop-payments');
    world.emulator.configure({ latencyMs: 10_000 });

    // Act
    const hung = await world.slack.click('U0BOB', SANDBOX_CHANNELS.approvals, message.ts, 'approval.approve');
    world.emulator.configure({ latencyMs: 0 });
    const retried = await world.slack.click('U0BOB', SANDBOX_CHANNELS.approvals, message.ts, 'approval.approve');

    // Assess
    expect(hung.status).toBe(200);
    expect(hung.elapsedMs).toBeLessThan(3_000);
    expect(hung.ephemerals.map((e) => e.text).join('\n')).toMatch(/try again/);
    expect(retried.message?.text).toMatch(/approved/);
    expect(world.emulator.pendingApprovals({ pipelineName: 'shop-payments', stageName: 'StagingDEV' })).toEqual([]);
  });
});
