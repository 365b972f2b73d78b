import { describe, expect, it } from 'vitest';
import type { Actor, ApprovalRecord } from '../../../app/core/approval.ts';
import { notices } from '../../../app/views/notices.ts';
import { approvalRequest } from '../../support/fakes.ts';

const now = new Date('2025-03-04T10:20:00Z');
const at = new Date('2025-03-04T10:15:00Z');

/** A display name someone chose so that Greenlight would post a link and a ping in its name. */
const hostileName = '<https://evil.example|Greenlight admin> <!channel>';

/** A release's actor: its name quotes the display name of the person who asked for it. */
const release: Actor = { id: 'release-1', name: `shop → prod by ${hostileName}`, via: 'release' };

const record = (overrides: Partial<ApprovalRecord>): ApprovalRecord => ({
  request: approvalRequest(),
  status: 'closed',
  message: { channel: 'C0APPROVALS', ts: '1741080612.000100' },
  ...overrides,
});

describe('notices name who acted as text, never as markup', () => {
  it('escapes the name of the release that already decided', () => {
    // Prepare
    const decided = record({
      outcome: { kind: 'approved', decision: { verdict: 'approve', actor: release, at }, at },
    });
    // Act
    const notice = notices.alreadyDecided(decided, now);
    // Assess
    expect(notice).toBe(
      'This was already approved by release shop → prod by &lt;https://evil.example|Greenlight admin&gt; &lt;!channel&gt; 5 minutes ago. Nothing more to do.',
    );
  });

  it('escapes the name of the release that is deciding right now', () => {
    // Prepare
    const deciding = record({
      status: 'deciding',
      claim: { verdict: 'reject', actor: release, at, claimId: 'c', reason: 'no' },
    });
    // Act
    const notice = notices.alreadyDecided(deciding, now);
    // Assess
    expect(notice).not.toMatch(/<(?!@)|>/);
    expect(notice).toContain('&lt;!channel&gt;');
    expect(notice).toMatch(/is rejecting this right now/);
  });

  it('still mentions a person who decided, so Slack shows their current name', () => {
    // Prepare
    const alice: Actor = { id: 'U0ALICE', name: hostileName, teamId: 'T0ACME', via: 'slack' };
    const decided = record({ outcome: { kind: 'rejected', decision: { verdict: 'reject', actor: alice, at }, at } });
    // Act
    const notice = notices.alreadyDecided(decided, now);
    // Assess
    expect(notice).toBe('This was already rejected by <@U0ALICE> 5 minutes ago. Nothing more to do.');
  });
});
