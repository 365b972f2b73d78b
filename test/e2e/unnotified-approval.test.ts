import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { ids } from '../../app/views/ids.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import {
  approvalMessages,
  auditStore,
  buttonsOf,
  messageApprovalId,
  withoutNotifications,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * An approval action whose notification never reaches Greenlight (here: it names no topic, as one
 * whose topic policy or key refuses the pipeline's role would publish nothing Greenlight sees).
 * CodePipeline's own event says the approval started; Greenlight looks again later and posts it
 * from the pipeline's state, and people decide it from Slack as any other.
 */

let world: World;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

describe('an approval CodePipeline never notified Greenlight of', () => {
  it('is posted from the pipeline state once it has waited, and can be approved from Slack', async () => {
    // Prepare: the approval starts; the look that follows its start event finds it too young to tell
    const definition = withoutNotifications(pipelineDefinition('silent-cart', { region: world.emulator.region }));
    world.emulator.createPipeline(definition);
    world.emulator.commit('silent-cart', { revisionId: 'a1b2c3d', summary: 'Quiet change' });
    await world.settle();
    const pending = world.emulator.pendingApprovals({ pipelineName: 'silent-cart', stageName: 'StagingDEV' })[0];
    if (!pending) throw new Error('No approval waits in silent-cart');
    const approvalId = approvalIdFor(pending.token);
    expect(approvalMessages(world).filter((m) => messageApprovalId(m) === approvalId)).toEqual([]);

    // Act: its start event comes again (EventBridge delivers at least once) after ten minutes
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const started = world.emulator
      .pipelineEvents()
      .filter(
        (event) =>
          event['detail-type'] === 'CodePipeline Action Execution State Change' &&
          event.detail.pipeline === 'silent-cart' &&
          event.detail.state === 'STARTED' &&
          (event.detail.type as { category?: string } | undefined)?.category === 'Approval',
      )
      .at(-1);
    if (!started) throw new Error('No approval start event for silent-cart');
    await world.handlers.pipelineEvents(started);
    await world.settle();

    // Assess: one message with its buttons, recorded with a request found in the pipeline state
    const messages = approvalMessages(world).filter((m) => messageApprovalId(m) === approvalId);
    expect(messages).toHaveLength(1);
    expect(buttonsOf(messages[0] ?? { blocks: [] })).toEqual([ids.approve, ids.reject]);
    const record = await (await auditStore()).get(approvalId);
    expect(record?.message?.ts).toBe(messages[0]?.ts);
    expect(record?.request).toMatchObject({
      pipelineName: 'silent-cart',
      stageName: 'StagingDEV',
      token: pending.token,
    });

    // Act: Alice approves it from Slack
    await world.slack.click('U0ALICE', SANDBOX_CHANNELS.approvals, messages[0]?.ts ?? '', ids.approve);
    await world.settle();
    // Assess
    expect(world.emulator.calls('PutApprovalResult').filter((call) => call.ok)).toHaveLength(1);
    expect((await (await auditStore()).get(approvalId))?.outcome?.kind).toBe('approved');
  });
});
