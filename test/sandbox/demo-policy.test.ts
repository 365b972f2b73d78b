import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { APPROVALS_CHANNEL, currentMessage, pipelineWaitsForApproval, shown } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let world: World;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-02T09:00:00Z')); // a Wednesday morning in Berlin
  world = await startWorld({ demoPolicy: true });
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

describe('the sandbox’s demo approval rules', () => {
  it('ask two Releasers for shop prod: "1 of 2" first, then the decision', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-cart', 'StagingQA');
    // Act
    await world.slack.click('U0ALICE', APPROVALS_CHANNEL, approval.message.ts, ids.approve);
    const afterAlice = shown(currentMessage(world, approval));
    await world.slack.click('U0BOB', APPROVALS_CHANNEL, approval.message.ts, ids.approve);
    // Assess
    expect(afterAlice).toContain('1 of 2 approvals: <@U0ALICE>');
    expect(shown(currentMessage(world, approval))).toContain('*Approved* by <@U0BOB> with <@U0ALICE>');
    expect(world.emulator.calls('PutApprovalResult').filter((c) => c.input.stageName === 'StagingQA')).toHaveLength(1);
  });
});
