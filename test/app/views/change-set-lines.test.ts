import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../../app/core/approval.ts';
import { readChanges } from '../../../app/core/change-set.ts';
import type { ApprovalReview } from '../../../app/core/revision-review.ts';
import { approvalMessage } from '../../../app/views/approval-message.ts';
import { changeSetModal } from '../../../app/views/change-set-lines.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from '../../../app/views/limits.ts';

const now = new Date('2026-11-27T12:00:00Z');

const record = (review: ApprovalReview): ApprovalRecord => ({
  status: 'pending',
  request: {
    id: 'abcdefghijklmnopqrstuv',
    pipelineName: 'orders-api',
    stageName: 'StagingPROD',
    actionName: 'Approve',
    region: 'us-east-2',
    token: 'secret-token',
    expiresAt: new Date('2026-12-04T12:00:00Z'),
    consoleLink: 'https://console.aws.amazon.com/codesuite/codepipeline/pipelines/orders-api/view',
    customData: 'x'.repeat(1000),
    receivedAt: now,
    review,
  },
});

const sections = (blocks: unknown[]) =>
  blocks.flatMap((block) => {
    const text = (block as { text?: { text?: unknown } }).text?.text;
    return typeof text === 'string' ? [text] : [];
  });

describe('the change set in the approval message', () => {
  it('stays within Slack’s limits with a thousand replacements, removals and grants of the longest ids', () => {
    // Prepare: logical ids may be 255 characters (CloudFormation's limit)
    const id = (kind: string, i: number) => `${kind}${i}`.padEnd(255, 'x');
    const raw = Array.from({ length: 1200 }, (_, i) =>
      i % 3 === 0
        ? { action: 'Modify', logicalId: id('Replaced', i), type: 'AWS::DynamoDB::Table', replacement: 'True' }
        : i % 3 === 1
          ? { action: 'Remove', logicalId: id('Removed', i), type: 'AWS::SQS::Queue' }
          : { action: 'Add', logicalId: id('Grant', i), type: 'AWS::IAM::Policy' },
    );
    const review: ApprovalReview = {
      revision: {
        kind: 'known',
        revision: { revisionId: 'a'.repeat(40), message: 'm'.repeat(500) },
        production: { kind: 'none', stageName: 'StagingPROD' },
      },
      changeSet: { kind: 'read', stackName: 's', changeSetName: 'c', region: 'us-east-2', ...readChanges(raw) },
    };
    // Act
    const message = approvalMessage(record(review), now);
    const modal = changeSetModal(record(review));
    // Assess
    expect(message.blocks.length).toBeLessThanOrEqual(BLOCK_KIT.blocks);
    expect(textLength(message.blocks)).toBeLessThanOrEqual(TEXT_BUDGET);
    for (const text of sections(message.blocks)) expect(text.length).toBeLessThanOrEqual(BLOCK_KIT.text);
    const warnings = sections(message.blocks)[1] ?? '';
    expect(warnings).toContain('400 resources will be replaced');
    expect(warnings).toContain('400 resources will be removed');
    expect(warnings).toContain('400 changes to IAM or a resource policy');
    expect(modal.blocks.length).toBeLessThanOrEqual(BLOCK_KIT.modalBlocks);
    for (const text of sections(modal.blocks)) expect(text.length).toBeLessThanOrEqual(BLOCK_KIT.text);
    expect(JSON.stringify(modal.blocks)).toMatch(/…and \d+ more: see/);
  });

  it('never shows the token', () => {
    const review: ApprovalReview = { revision: { kind: 'unknown', why: 'CodePipeline did not answer' } };
    const message = approvalMessage(record(review), now);
    expect(JSON.stringify(message)).not.toContain('secret-token');
    expect(JSON.stringify(message)).toContain('*Revision* not known: CodePipeline did not answer.');
  });
});
