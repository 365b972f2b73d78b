import { expect, it, describe as suite } from 'vitest';
import { approvalSummary, checkReason, describe, REASON_LIMIT, SUMMARY_LIMIT } from '../../../app/core/approval.ts';
import { approvalRequest, slackDecision } from '../../support/fakes.ts';

const at = new Date('2025-03-04T10:15:00Z');

suite('describe', () => {
  it('names an approval by pipeline, stage and action, and never by its token', () => {
    // Prepare
    const request = approvalRequest();
    // Act
    const name = describe(request);
    // Assess
    expect(name).toBe('shop-cart › StagingDEV › ApproveIntoQA');
    expect(name).not.toContain(request.token);
  });
});

suite('approvalSummary', () => {
  it('tells CodePipeline who approved, from where', () => {
    // Prepare
    const decision = slackDecision('approve', at, { id: 'U0ALICE', name: 'Alice' });
    // Act
    const summary = approvalSummary(decision);
    // Assess
    expect(summary).toBe('Approved by Alice (U0ALICE) via Slack');
  });

  it('keeps the reason of a rejection', () => {
    // Prepare
    const decision = slackDecision('reject', at, {
      id: 'U0BOB',
      name: 'Bob',
      reason: 'Checkout fails on QA with expired cards',
    });
    // Act
    const summary = approvalSummary(decision);
    // Assess
    expect(summary).toBe('Rejected by Bob (U0BOB) via Slack: Checkout fails on QA with expired cards');
  });

  it('says when a release, not a person in Slack, approved', () => {
    // Prepare
    const decision = {
      verdict: 'approve' as const,
      actor: { id: 'release-7f3a', name: 'shop qa release', via: 'release' as const },
      at,
    };
    // Act
    const summary = approvalSummary(decision);
    // Assess
    expect(summary).toBe('Approved by shop qa release (release-7f3a) via Greenlight release');
  });

  it('cuts a summary that CodePipeline would refuse to its 512-character limit, saying so', () => {
    // Prepare: the longest reason the modal allows, from someone with a long display name
    const name = 'Maximiliane Alexandra von Hohenberg-Schwarzenfeld (Release Captain, Payments)';
    const reason = `Card-expiry suite red on QA. ${'Steps to reproduce and logs are in the ticket. '.repeat(20)}`.slice(
      0,
      REASON_LIMIT,
    );
    const decision = slackDecision('reject', at, { id: 'U07QXRELEASE', name, reason });
    // Act
    const summary = approvalSummary(decision);
    // Assess
    expect(`Rejected by ${name} (U07QXRELEASE) via Slack: ${reason}`.length).toBeGreaterThan(SUMMARY_LIMIT);
    expect(summary).toHaveLength(SUMMARY_LIMIT);
    expect(summary.startsWith(`Rejected by ${name} (U07QXRELEASE) via Slack: Card-expiry suite red on QA.`)).toBe(true);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('leaves a summary of exactly 512 characters whole', () => {
    // Prepare
    const head = 'Rejected by Bob (U0BOB) via Slack: ';
    const decision = slackDecision('reject', at, { id: 'U0BOB', name: 'Bob', reason: 'x'.repeat(512 - head.length) });
    // Act
    const summary = approvalSummary(decision);
    // Assess
    expect(summary).toHaveLength(512);
    expect(summary.endsWith('x')).toBe(true);
  });
});

suite('checkReason', () => {
  it('takes a reason, trimmed', () => {
    // Act
    const check = checkReason('  Checkout fails on QA \n');
    // Assess
    expect(check).toEqual({ ok: true, reason: 'Checkout fails on QA' });
  });

  it.each([
    ['nothing', undefined],
    ['null (Slack sends null for an untouched input)', null],
    ['blanks', '   \n\t '],
  ])('asks why when the reason is %s', (_what, raw) => {
    // Act
    const check = checkReason(raw);
    // Assess
    expect(check).toEqual({ ok: false, problem: 'Please say why you reject this change.' });
  });

  it('takes a reason of exactly 500 characters', () => {
    // Act
    const check = checkReason('r'.repeat(REASON_LIMIT));
    // Assess
    expect(check.ok).toBe(true);
  });

  it('refuses a longer reason and says how long it is', () => {
    // Act
    const check = checkReason('r'.repeat(REASON_LIMIT + 1));
    // Assess
    expect(check).toEqual({ ok: false, problem: 'Please keep the reason within 500 characters (it has 501).' });
  });
});
