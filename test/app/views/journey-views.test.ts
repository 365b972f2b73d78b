import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../../app/core/approval.ts';
import { journeyMessage } from '../../../app/views/journey-message.ts';
import { reminderMessage } from '../../../app/views/reminder-message.ts';
import { approvalRequest } from '../../support/fakes.ts';

/** The thread replies (app/views/journey-message.ts, reminder-message.ts): plain words, escaped, mentions only where meant. */

const record = (pipelineName = 'shop-cart'): ApprovalRecord => ({
  request: approvalRequest({ pipelineName, stageName: 'StagingQA' }),
  status: 'closed',
  message: { channel: 'C0APPROVALS', ts: '1.0001' },
});
const where = { pipelineName: 'shop-cart', executionId: 'exec-1' };
const section = (message: { blocks: unknown[] }) => JSON.stringify(message.blocks);

describe('journeyMessage', () => {
  it('says a failure in plain words, escapes what CodePipeline wrote, and mentions the approver', () => {
    // Act
    const message = journeyMessage(record(), {
      ...where,
      kind: 'failed',
      stageName: 'StagingPROD',
      actionName: 'Deploy',
      summary: 'Stack <rollback> & <!channel>',
      mention: ['U0ALICE'],
      link: 'https://eu-central-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/shop-cart/executions/exec-1/timeline?region=eu-central-1',
    });
    // Assess
    expect(section(message)).toContain('Stack &lt;rollback&gt; &amp; &lt;!channel&gt;');
    expect(section(message)).toContain('|open in the AWS console>');
    expect(message.text).toBe(
      '❌ StagingPROD action Deploy failed: Stack &lt;rollback&gt; &amp; &lt;!channel&gt; (open in the AWS console) <@U0ALICE>',
    );
  });

  it('says how long the change took from approval to production', () => {
    expect(
      journeyMessage(record(), { ...where, kind: 'production', approvedAt: new Date(), elapsedMs: 83 * 60_000 }).text,
    ).toBe('🚀 shop-cart reached production, 1 h 23 min after approval');
  });
});

describe('reminderMessage', () => {
  it('calls people, groups or @here, and says when the approval expires', () => {
    // Prepare
    const at = new Date('2026-12-03T12:00:00Z');
    const expiresAt = new Date('2026-12-04T12:00:00Z');
    // Act
    const called = reminderMessage(record(), { expiresAt, at, mention: ['U0ALICE', 'S0RELEASERS'] });
    const here = reminderMessage(record(), { expiresAt, at, mention: 'here' });
    const nobody = reminderMessage(record(), { expiresAt, at, mention: [] });
    // Assess
    expect(called.text).toBe(
      '<@U0ALICE> <!subteam^S0RELEASERS> shop-cart › StagingQA still waits for approval and expires in 24 hours',
    );
    expect(here.text.startsWith('<!here> ')).toBe(true);
    expect(nobody.text).toBe('shop-cart › StagingQA still waits for approval and expires in 24 hours');
    expect(section(called)).toContain('<!date^1796385600^');
  });
});
