import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { REPLACING_CHANGES, SAFE_CHANGES } from '../../sandbox/cloudformation/demo.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  approvalMessages,
  auditOf,
  buttonsOf,
  messageApprovalId,
  shown,
  stageStatuses,
} from '../support/world-helpers.ts';

/*
 * `"autoApprove": "safe-changes"` (issue #14) over loopback: CodePipeline's notification of the
 * StagingPROD gate reaches the real approval-notification handler three times at once (SNS delivers
 * at least once), the change set is read from the CloudFormation emulator, and Greenlight's policy
 * approves through the same conditional claim as a click.
 */

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const live = (extra: Record<string, unknown> = {}) => ({
  envs: {
    qa: { stage: 'StagingDEV' },
    prod: { stage: 'StagingQA' },
    live: { stage: 'StagingPROD', autoApprove: 'safe-changes', ...extra },
  },
});

const PRODUCTS = {
  auto: live(),
  pair: live({ required: 2 }),
  frozen: live({
    freezes: [{ from: '2020-01-01T00:00', to: '2099-01-01T00:00', timeZone: 'UTC', reason: 'Holidays' }],
  }),
};

let world: World;

beforeAll(async () => {
  world = await startWorld({
    emulator: { notificationDeliveries: 3 },
    env: { PRODUCTS: JSON.stringify(PRODUCTS) },
  });
});

afterAll(async () => {
  await world?.close();
});

/** A commit through DEV and QA (approved in the console) to the change-set gate; its StagingPROD token and message. */
async function atTheGate(pipelineName: string, changes: typeof SAFE_CHANGES) {
  world.emulator.createPipeline(
    pipelineDefinition(pipelineName, { region: world.emulator.region, changeSetGate: true }),
  );
  const revisionId = randomBytes(20).toString('hex');
  world.changePlans.plan(revisionId, { changes: [...changes] });
  const executionId = world.emulator.commit(pipelineName, { revisionId, summary: 'Change' });
  await world.settle();
  for (const stage of ['StagingDEV', 'StagingQA']) {
    world.emulator.answerInConsole(pipelineName, stage, 'Approved');
    await world.settle();
  }
  const notification = world.emulator
    .notifications()
    .map(
      (event) =>
        JSON.parse(event.Records[0]?.Sns.Message ?? '{}') as {
          approval: { token: string; stageName: string; pipelineName: string };
        },
    )
    .find((n) => n.approval.pipelineName === pipelineName && n.approval.stageName === 'StagingPROD');
  if (!notification) throw new Error(`No StagingPROD notification for ${pipelineName}`);
  const approvalId = approvalIdFor(notification.approval.token);
  const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalId);
  if (!message) throw new Error(`No message for ${pipelineName}`);
  return { approvalId, executionId, message };
}

const current = (message: SlackMessage) => approvalMessages(world).find((m) => m.ts === message.ts) ?? message;

const putsFor = (pipelineName: string) =>
  world.emulator.calls('PutApprovalResult').filter((call) => call.input.pipelineName === pipelineName);

describe('auto-approve of safe change sets', () => {
  it('approves a change set of three modifications once, as Greenlight policy, with the reason in the audit trail', async () => {
    // Act: every notification is delivered three times at once
    const { approvalId, message } = await atTheGate('auto-orders', SAFE_CHANGES);
    // Assess: one PutApprovalResult, applied; the pipeline deploys
    const puts = putsFor('auto-orders');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.ok).toBe(true);
    expect((puts[0]?.input.result as { summary?: string } | undefined)?.summary).toBe(
      'Approved by Greenlight policy (safe-changes) via Greenlight policy: Safe changes: 3 modifications, no replacements',
    );
    expect((await stageStatuses(world, 'auto-orders')).StagingPROD).toBe('Succeeded');
    const trail = await auditOf(approvalId);
    const outcomes = trail.filter((event) => event.type === 'outcome');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.actor).toMatchObject({ name: 'Greenlight policy', via: 'policy' });
    expect(outcomes[0]?.reason).toBe('Safe changes: 3 modifications, no replacements');
    expect(trail.filter((event) => event.type === 'decision-attempted')).toHaveLength(1);
    // The message says who approved and why, and offers no buttons
    const now = current(message);
    expect(shown(now)).toContain('*Approved* by *Greenlight policy*');
    expect(shown(now)).toContain('Safe changes: 3 modifications, no replacements');
    expect(buttonsOf(now).filter((id) => id === 'approval.approve')).toHaveLength(0);
  });

  it('does not approve twice when the notification comes again later', async () => {
    // Prepare
    const { approvalId } = await atTheGate('auto-again', SAFE_CHANGES);
    const event = world.emulator
      .notifications()
      .find(
        (e) => e.Records[0]?.Sns.Message.includes('"auto-again"') && e.Records[0]?.Sns.Message.includes('StagingPROD'),
      );
    if (!event) throw new Error('no notification');
    // Act: SNS delivers it twice more, at once
    await Promise.all([
      world.handlers.approvalNotification(structuredClone(event)),
      world.handlers.approvalNotification(structuredClone(event)),
    ]);
    await world.settle();
    // Assess
    expect(putsFor('auto-again')).toHaveLength(1);
    expect((await auditOf(approvalId)).filter((event) => event.type === 'outcome')).toHaveLength(1);
  });

  it('leaves a change set that replaces a resource to a person, saying why, in the message and the audit trail', async () => {
    const { approvalId, message } = await atTheGate('auto-replace', REPLACING_CHANGES);
    // SNS delivers the notification once more: the refusal is audited once all the same
    const event = world.emulator
      .notifications()
      .find(
        (e) =>
          e.Records[0]?.Sns.Message.includes('"auto-replace"') && e.Records[0]?.Sns.Message.includes('StagingPROD'),
      );
    if (!event) throw new Error('no notification');
    await world.handlers.approvalNotification(structuredClone(event));
    expect(putsFor('auto-replace')).toHaveLength(0);
    const now = current(message);
    expect(buttonsOf(now)).toContain('approval.approve');
    expect(shown(now)).toContain('*Auto-approve declined:* 1 replacement: OrdersTable. A person decides.');
    const declined = (await auditOf(approvalId)).filter((event) => event.result === 'auto-approve-declined');
    expect(declined).toEqual([
      expect.objectContaining({
        type: 'decision-refused',
        actor: expect.objectContaining({ name: 'Greenlight policy' }),
        detail: '1 replacement: OrdersTable',
      }),
    ]);
  });

  it('refuses where the env needs two approvers, or is frozen', async () => {
    const pair = await atTheGate('pair-orders', SAFE_CHANGES);
    const frozen = await atTheGate('frozen-orders', SAFE_CHANGES);
    expect(putsFor('pair-orders')).toHaveLength(0);
    expect(putsFor('frozen-orders')).toHaveLength(0);
    expect(shown(current(pair.message))).toContain('*Auto-approve declined:* live needs 2 approvers');
    expect(shown(current(frozen.message))).toContain('*Auto-approve declined:* live is frozen (Holidays)');
  });
});
