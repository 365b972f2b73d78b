import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from '../../app/views/limits.ts';
import {
  type ChangePlan,
  NO_CHANGES_REASON,
  REPLACING_CHANGES,
  SAFE_CHANGES,
} from '../../sandbox/cloudformation/demo.ts';
import type { EmulatedChange } from '../../sandbox/cloudformation/index.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { APPROVALS_CHANNEL, approvalMessages, messageApprovalId, shown, users } from '../support/world-helpers.ts';

/*
 * Issue #14, "What am I approving?", over loopback with the real SDKs: the CodePipeline emulator
 * (awsJson1_1) runs pipelines whose StagingPROD is Prepare (CHANGE_SET_REPLACE) → Approve → Deploy
 * (CHANGE_SET_EXECUTE); the CloudFormation emulator answers DescribeChangeSet in awsQuery XML; the
 * approval-notification handler reads both at ingest and posts to the Slack simulator.
 */

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
});

const sha = () => randomBytes(20).toString('hex');

/** A connection's revision summary as CodePipeline gives it for a GitHub source. */
const githubSummary = (message: string) => JSON.stringify({ ProviderType: 'GitHub', CommitMessage: message });

function gatedPipeline(name: string): void {
  world.emulator.createPipeline(pipelineDefinition(name, { region: world.emulator.region, changeSetGate: true }));
}

/** Commits `revisionId` (with its change plan) and lets it run as far as it goes; returns the execution id. */
async function commit(pipelineName: string, revisionId: string, message: string, plan?: ChangePlan): Promise<string> {
  if (plan) world.changePlans.plan(revisionId, plan);
  const executionId = world.emulator.commit(pipelineName, { revisionId, summary: githubSummary(message) });
  await world.settle();
  return executionId;
}

async function answer(pipelineName: string, stageName: string, status: 'Approved' | 'Rejected' = 'Approved') {
  world.emulator.answerInConsole(pipelineName, stageName, status, `${status} in the console`);
  await world.settle();
}

/** The message Greenlight posted for the approval this execution waits for in StagingPROD. */
function prodMessage(pipelineName: string, executionId: string): SlackMessage {
  const pending = world.emulator
    .pendingApprovals({ pipelineName, stageName: 'StagingPROD' })
    .find((approval) => approval.pipelineExecutionId === executionId);
  if (!pending) throw new Error(`${pipelineName} does not wait for approval in StagingPROD`);
  const approvalId = approvalIdFor(pending.token);
  const message = approvalMessages(world).find((candidate) => messageApprovalId(candidate) === approvalId);
  if (!message) throw new Error(`No message for ${pipelineName} › StagingPROD`);
  return message;
}

/** A commit through DEV and QA (approved in the console) to the change-set gate in StagingPROD. */
async function atTheGate(pipelineName: string, plan?: ChangePlan, message = 'Change the orders service') {
  gatedPipeline(pipelineName);
  const executionId = await commit(pipelineName, sha(), message, plan);
  await answer(pipelineName, 'StagingDEV');
  await answer(pipelineName, 'StagingQA');
  return prodMessage(pipelineName, executionId);
}

const sectionTexts = (message: Pick<SlackMessage, 'blocks'>): string[] =>
  (message.blocks ?? []).flatMap((block) => {
    const text = (block as { text?: { text?: unknown } }).text?.text;
    return typeof text === 'string' ? [text] : [];
  });

function withinSlackLimits(message: Pick<SlackMessage, 'blocks'>): void {
  const blocks = message.blocks ?? [];
  expect(blocks.length).toBeLessThanOrEqual(BLOCK_KIT.blocks);
  expect(textLength(blocks)).toBeLessThanOrEqual(TEXT_BUDGET);
  for (const text of sectionTexts(message)) expect(text.length).toBeLessThanOrEqual(BLOCK_KIT.text);
}

describe('the change set an approval gates', () => {
  it('shows a replacement first, in red, named with its logical id and type, above 3 modifications', async () => {
    // Prepare: the replacing plan holds three in-place modifications and one replacement
    expect(REPLACING_CHANGES.filter((change) => change.replacement === 'True')).toHaveLength(1);
    // Act
    const message = await atTheGate('orders-replace', { changes: [...REPLACING_CHANGES] });
    // Assess: right under the header, the red warning; then the counts
    const [header, warning, summary] = message.blocks ?? [];
    expect(header?.type).toBe('header');
    const warningText = String((warning as { text?: { text?: string } }).text?.text);
    expect(warningText).toMatch(
      /^:red_circle: :warning: \*1 resource will be replaced:\* \*OrdersTable\* \(AWS::DynamoDB::Table\)/,
    );
    expect(String((summary as { text?: { text?: string } }).text?.text)).toContain(
      '0 to add · 4 to modify · 0 to remove',
    );
    expect(shown(message)).not.toContain('OrdersFunction* (AWS::Lambda::Function) will be replaced');
    expect(
      world.cloudformation.calls('DescribeChangeSet').some((call) => call.params.StackName === 'orders-replace-prod'),
    ).toBe(true);
    withinSlackLimits(message);
  });

  it('reads 300 changes page by page and stays within Slack limits, the modal listing every one', async () => {
    // Prepare: 300 changes, 12 of them replacements and 5 removals, among modifications
    const changes: EmulatedChange[] = Array.from({ length: 300 }, (_, i) => {
      const logicalId = `Resource${String(i).padStart(3, '0')}`;
      if (i % 25 === 7) return { action: 'Modify', logicalId, type: 'AWS::SQS::Queue', replacement: 'True' };
      if (i % 60 === 13) return { action: 'Remove', logicalId, type: 'AWS::SNS::Topic' };
      return { action: 'Modify', logicalId, type: 'AWS::Lambda::Function', replacement: 'False' };
    });
    const before = world.cloudformation.calls('DescribeChangeSet').length;
    // Act
    const message = await atTheGate('orders-many', { changes });
    // Assess: three pages of 100, NextToken passed on
    const calls = world.cloudformation.calls('DescribeChangeSet').slice(before);
    expect(calls).toHaveLength(3);
    expect(calls.filter((call) => call.params.NextToken)).toHaveLength(2);
    const text = shown(message);
    expect(text).toContain('12 resources will be replaced');
    expect(text).toContain('and 4 more');
    expect(text).toContain('5 resources will be removed');
    expect(text).toContain('0 to add · 295 to modify · 5 to remove');
    withinSlackLimits(message);

    // Act: "Show all changes"
    const [person] = users(world, 1, 'reviewer');
    if (!person) throw new Error('no reviewer');
    await world.slack.click(person.id, APPROVALS_CHANNEL, message.ts, 'approval.show-changes');
    // Assess: one modal with every change, replacements first, within a modal's limits
    const modal = world.slack.openViews(person.id).at(-1)?.view;
    expect(modal?.title.text).toBe('All changes');
    const blocks = modal?.blocks ?? [];
    expect(blocks.length).toBeLessThanOrEqual(BLOCK_KIT.modalBlocks);
    const modalText = sectionTexts({ blocks }).join('\n');
    for (const text of sectionTexts({ blocks })) expect(text.length).toBeLessThanOrEqual(BLOCK_KIT.text);
    for (let i = 0; i < 300; i++) expect(modalText).toContain(`*Resource${String(i).padStart(3, '0')}*`);
    const lines = modalText.split('\n').filter((line) => line.includes('*Resource'));
    expect(lines.slice(0, 12).every((line) => line.startsWith(':red_circle: replace'))).toBe(true);
    expect(lines.slice(12, 17).every((line) => line.startsWith(':wastebasket: remove'))).toBe(true);
  });

  it('says so in one line when the change set has no changes', async () => {
    const message = await atTheGate('orders-empty', { changes: [], status: 'FAILED', statusReason: NO_CHANGES_REASON });
    expect(shown(message)).toContain('*No changes:* CloudFormation found nothing to deploy');
    expect(shown(message)).not.toContain('will be replaced');
    expect(message.blocks?.some((block) => block.type === 'actions')).toBe(true);
  });

  it('says so when the change set is gone', async () => {
    const message = await atTheGate('orders-missing', { changes: [...SAFE_CHANGES], missing: true });
    expect(shown(message)).toContain('*Change set not found:*');
    expect(shown(message)).toContain('orders-missing-prod-changes');
    expect(world.cloudformation.calls('DescribeChangeSet').some((call) => call.error === 'ChangeSetNotFound')).toBe(
      true,
    );
    expect(message.blocks?.some((block) => block.type === 'actions')).toBe(true);
  });

  it('says so when Greenlight may not read it (AccessDenied)', async () => {
    world.cloudformation.denyAccess(true);
    try {
      const message = await atTheGate('orders-denied', { changes: [...SAFE_CHANGES] });
      expect(shown(message)).toContain('*Greenlight may not read* change set `orders-denied-prod-changes`');
      expect(shown(message)).toContain('(AccessDenied)');
      expect(message.blocks?.some((block) => block.type === 'actions')).toBe(true);
    } finally {
      world.cloudformation.denyAccess(false);
    }
  });

  it('shows no change set where the approval gates none (the demo products)', async () => {
    world.emulator.createPipeline(pipelineDefinition('plain-web', { region: world.emulator.region }));
    const executionId = await commit('plain-web', sha(), 'Plain change');
    const pending = world.emulator
      .pendingApprovals({ pipelineName: 'plain-web' })
      .find((a) => a.pipelineExecutionId === executionId);
    const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalIdFor(pending?.token ?? ''));
    expect(message).toBeDefined();
    expect(shown(message as SlackMessage)).not.toContain('Change set');
    expect(shown(message as SlackMessage)).toContain('Plain change');
  });
});

describe('the revision under review', () => {
  it('names the commit, and how many revisions lie between it and production, with a compare link', async () => {
    // Prepare: A reaches production; B is rejected in QA; C comes to the production gate
    const pipelineName = 'orders-revisions';
    gatedPipeline(pipelineName);
    const [a, b, c] = [sha(), sha(), sha()];
    await commit(pipelineName, a, 'Start the orders service');
    await answer(pipelineName, 'StagingDEV');
    await answer(pipelineName, 'StagingQA');
    const first = prodMessage(
      pipelineName,
      world.emulator.pendingApprovals({ pipelineName })[0]?.pipelineExecutionId ?? '',
    );
    expect(shown(first)).toContain('Nothing has reached production (StagingPROD) yet.');
    await answer(pipelineName, 'StagingPROD');
    await commit(pipelineName, b, 'Try a new total');
    await answer(pipelineName, 'StagingDEV');
    await answer(pipelineName, 'StagingQA', 'Rejected');
    // Act
    const executionId = await commit(pipelineName, c, 'Fix the checkout total\n\nThe long explanation.');
    await answer(pipelineName, 'StagingDEV');
    await answer(pipelineName, 'StagingQA');
    const message = prodMessage(pipelineName, executionId);
    // Assess
    const text = shown(message);
    expect(text).toContain(
      `<https://github.com/example/${pipelineName}/commit/${c}|${c.slice(0, 7)}> Fix the checkout total`,
    );
    expect(text).not.toContain('The long explanation');
    expect(text).toContain(`*2 revisions since production* (\`${a.slice(0, 7)}\`)`);
    expect(text).toContain(`<https://github.com/example/${pipelineName}/compare/${a}...${c}|compare>`);
  });

  it('says production runs this revision already when it does', async () => {
    const pipelineName = 'orders-same';
    gatedPipeline(pipelineName);
    const revision = sha();
    await commit(pipelineName, revision, 'Once');
    await answer(pipelineName, 'StagingDEV');
    await answer(pipelineName, 'StagingQA');
    await answer(pipelineName, 'StagingPROD');
    // The same revision again (StartPipelineExecution re-runs the latest source revision)
    const executionId = await commit(pipelineName, revision, 'Once');
    await answer(pipelineName, 'StagingDEV');
    await answer(pipelineName, 'StagingQA');
    expect(shown(prodMessage(pipelineName, executionId))).toContain('Production runs this revision already.');
  });
});

/** The message Greenlight posted for what waits for approval in `stageName` (the only one waiting there). */
function waitingMessage(pipelineName: string, stageName: string): SlackMessage {
  const pending = world.emulator.pendingApprovals({ pipelineName, stageName })[0];
  if (!pending) throw new Error(`${pipelineName} does not wait for approval in ${stageName}`);
  const approvalId = approvalIdFor(pending.token);
  const message = approvalMessages(world).find((candidate) => messageApprovalId(candidate) === approvalId);
  if (!message) throw new Error(`No message for ${pipelineName} › ${stageName}`);
  return message;
}

describe('the revision under review, along the product releasing scenario (docs/concepts.md)', () => {
  it('names each change in its DEV and QA messages, and counts from what reached production', async () => {
    // Prepare: shop-cart as the scenario plays it, commits c1 … c4 (the demo pipeline: no change set)
    const pipelineName = 'shop-scenario';
    world.emulator.createPipeline(pipelineDefinition(pipelineName, { region: world.emulator.region }));
    const [c1, c2, c3, c4, c5] = [sha(), sha(), sha(), sha(), sha()] as [string, string, string, string, string];
    const short = (revision: string) => revision.slice(0, 7);
    const seen: Record<string, string> = {};
    // Act: the scenario's steps 1–11, reading each message as it appears
    await commit(pipelineName, c1, 'c1: add the cart'); // 1
    seen.dev1 = shown(waitingMessage(pipelineName, 'StagingDEV'));
    await answer(pipelineName, 'StagingDEV'); // 2
    seen.qa1 = shown(waitingMessage(pipelineName, 'StagingQA'));
    await commit(pipelineName, c2, 'c2: discount codes'); // 3
    await answer(pipelineName, 'StagingDEV'); // 4
    await commit(pipelineName, c3, 'c3: fix totals'); // 5
    seen.dev3 = shown(waitingMessage(pipelineName, 'StagingDEV'));
    await answer(pipelineName, 'StagingQA', 'Rejected'); // 6
    seen.qa2 = shown(waitingMessage(pipelineName, 'StagingQA'));
    await commit(pipelineName, c4, 'c4: new checkout'); // 7
    await answer(pipelineName, 'StagingDEV'); // 8
    await answer(pipelineName, 'StagingDEV', 'Rejected'); // 9
    await answer(pipelineName, 'StagingQA', 'Rejected'); // 10
    seen.qa3 = shown(waitingMessage(pipelineName, 'StagingQA'));
    await answer(pipelineName, 'StagingQA'); // 11: c3 reaches production
    await commit(pipelineName, c5, 'c5: after the release');
    seen.dev5 = shown(waitingMessage(pipelineName, 'StagingDEV'));
    // Assess: each message names its own change …
    expect(seen.dev1).toContain(`|${short(c1)}> c1: add the cart`);
    expect(seen.qa1).toContain(`|${short(c1)}> c1: add the cart`);
    expect(seen.dev3).toContain(`|${short(c3)}> c3: fix totals`);
    expect(seen.qa2).toContain(`|${short(c2)}> c2: discount codes`);
    expect(seen.qa3).toContain(`|${short(c3)}> c3: fix totals`);
    // … before anything reached production, says so; after c3 did, counts c4 and c5 since it
    expect(seen.qa3).toContain('Nothing has reached production (StagingPROD) yet.');
    expect(seen.dev5).toContain(`*2 revisions since production* (\`${short(c3)}\`)`);
    expect(seen.dev5).toContain(`<https://github.com/example/${pipelineName}/compare/${c3}...${c5}|compare>`);
  });
});
