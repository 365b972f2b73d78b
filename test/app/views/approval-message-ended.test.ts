import { describe, expect, it } from 'vitest';
import type { ApprovalRecord, Outcome } from '../../../app/core/approval.ts';
import { approvalMessage } from '../../../app/views/approval-message.ts';
import { approvalRequest } from '../../support/fakes.ts';

/** How an approval that ended in CodePipeline (not by a click) reads in Slack. */

const now = new Date('2025-03-04T09:30:00Z');
const at = new Date('2025-03-04T09:29:00Z');

const closed = (outcome: Outcome): ApprovalRecord => ({
  request: approvalRequest({ pipelineName: 'shop-cart', stageName: 'StagingDEV' }),
  status: 'closed',
  outcome,
});

const shown = (record: ApprovalRecord) => {
  const message = approvalMessage(record, now);
  return { message, text: JSON.stringify(message.blocks) };
};

describe('approvalMessage of an approval that ended in CodePipeline', () => {
  it('says who approved it outside Slack, readably, with the summary CodePipeline keeps', () => {
    // Act
    const { message, text } = shown(
      closed({
        kind: 'decided-elsewhere',
        at,
        verdict: 'approve',
        by: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
        summary: 'Checked *on* DEV',
      }),
    );
    // Assess
    expect(text).toContain('*Approved outside Slack* by alice (role Admin), in the console or CLI');
    expect(text).toContain('>Checked *on* DEV');
    expect(text).not.toContain('arn:aws');
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect((message.blocks[0] as { text: { text: string } }).text.text).toMatch(/^✅/);
  });

  it('marks a rejection outside Slack with ❌', () => {
    // Act
    const { message, text } = shown(
      closed({ kind: 'decided-elsewhere', at, verdict: 'reject', by: 'arn:aws:iam::123456789012:user/bob' }),
    );
    // Assess
    expect(text).toContain('*Rejected outside Slack* by bob (IAM user)');
    expect((message.blocks[0] as { text: { text: string } }).text.text).toMatch(/^❌/);
  });

  it('keeps the older wording when CodePipeline’s verdict was not read', () => {
    expect(shown(closed({ kind: 'decided-elsewhere', at })).text).toContain('*Decided outside Slack*');
  });

  it.each([
    ['stopped', '*Stopped* — the pipeline execution was stopped'],
    ['cancelled', '*Cancelled* — the pipeline was updated'],
    ['replaced', '*No longer waiting*'],
  ] as const)('says an approval %s in CodePipeline ended without a decision, without buttons', (why, line) => {
    // Act
    const { message, text } = shown(closed({ kind: 'stopped', why, at }));
    // Assess
    expect(text).toContain(line);
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(message.text).toBe('shop-cart › StagingDEV: stopped');
  });
});
