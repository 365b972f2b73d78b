import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { ApprovalRecord, Decision, Outcome } from '../../../app/core/approval.ts';
import { approvalButton, approvalMessage } from '../../../app/views/approval-message.ts';
import { ids } from '../../../app/views/ids.ts';
import { notices } from '../../../app/views/notices.ts';
import { rejectModal, rejectModalMetadata } from '../../../app/views/reject-modal.ts';
import { approvalRequest, slackDecision } from '../../support/fakes.ts';

/** Seven days before the default request expires (2025-03-11T09:30Z): when CodePipeline asked. */
const now = new Date('2025-03-04T09:30:00Z');

const pending = (overrides: Parameters<typeof approvalRequest>[0] = {}): ApprovalRecord => ({
  request: approvalRequest(overrides),
  status: 'pending',
  message: { channel: 'C0APPROVALS', ts: '1741080612.000100' },
});

const closed = (outcome: Outcome): ApprovalRecord => ({ ...pending(), status: 'closed', outcome });

const alice = (verdict: Decision['verdict'], reason?: string) =>
  slackDecision(verdict, new Date('2025-03-04T10:15:00Z'), {
    id: 'U0ALICE',
    name: 'Alice',
    ...(reason ? { reason } : {}),
  });

/** A link into the AWS console at this approval's pipeline (with or without the path down to the action). */
const consoleLink =
  /<https:\/\/console\.aws\.amazon\.com\/codepipeline\/home\?region=eu-central-1#\/view\/shop-cart[^|>]*\|Open in the AWS console>/;

const header = (blocks: KnownBlock[]) => (blocks.find((b) => b.type === 'header') as HeaderBlock).text.text;
const fields = (blocks: KnownBlock[]) =>
  (blocks.find((b) => b.type === 'section' && 'fields' in b) as SectionBlock).fields?.map((f) => f.text) ?? [];
const sectionTexts = (blocks: KnownBlock[]) =>
  blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
const buttons = (blocks: KnownBlock[]) =>
  blocks.flatMap((b) => (b.type === 'actions' ? (b as ActionsBlock).elements : [])) as Button[];
const contextText = (blocks: KnownBlock[]) =>
  (blocks.find((b) => b.type === 'context') as ContextBlock).elements.map((e) => ('text' in e ? e.text : '')).join();

describe('approvalMessage', () => {
  it('heads a waiting approval with pipeline › stage', () => {
    // Act
    const message = approvalMessage(pending(), now);
    // Assess
    expect(header(message.blocks)).toBe('🟡 shop-cart › StagingDEV');
    expect(message.text).toBe('Approval needed: shop-cart › StagingDEV');
  });

  it('says where the approval is and when it expires, in every reader’s time zone', () => {
    // Prepare
    const record = pending();
    // Act
    const message = approvalMessage(record, now);
    // Assess
    expect(fields(message.blocks)).toEqual([
      `*Pipeline*\n<${record.request.consoleLink}|shop-cart>`,
      '*Stage › action*\nStagingDEV › ApproveIntoQA',
      '*Region*\neu-central-1',
      '*Expires*\n<!date^1741685400^{date_short_pretty} at {time}|2025-03-11 09:30 UTC> (in 7 days)',
    ]);
  });

  it('quotes the custom data, escaped so it cannot inject markup', () => {
    // Prepare
    const record = pending({ customData: 'Run <script>alert(1)</script> & the\ncard-expiry suite' });
    // Act
    const message = approvalMessage(record, now);
    // Assess
    expect(sectionTexts(message.blocks)).toContain(
      '>Run &lt;script&gt;alert(1)&lt;/script&gt; &amp; the\n>card-expiry suite',
    );
    expect(JSON.stringify(message)).not.toContain('<script>');
  });

  it('shows no custom data section when there is none', () => {
    // Prepare
    const { customData: _, ...request } = approvalRequest();
    // Act
    const message = approvalMessage({ ...pending(), request }, now);
    // Assess
    expect(sectionTexts(message.blocks)).toEqual([]);
  });

  it('links what to review and the approval in the AWS console', () => {
    // Prepare
    const record = pending();
    // Act
    const message = approvalMessage(record, now);
    // Assess
    const [review, aws, ...more] = contextText(message.blocks).split('  ·  ');
    expect(review).toBe(`<${record.request.externalEntityLink}|What to review>`);
    expect(aws).toMatch(consoleLink);
    expect(more).toEqual([]);
  });

  it('links only the console when CodePipeline names nothing to review', () => {
    // Prepare
    const { externalEntityLink: _, ...request } = approvalRequest();
    const record = { ...pending(), request };
    // Act
    const message = approvalMessage(record, now);
    // Assess
    expect(contextText(message.blocks)).toMatch(new RegExp(`^${consoleLink.source}$`));
  });

  it('warns, names what could not be read and sends people to the console, with no buttons, when the request is partly unreadable', () => {
    // Prepare
    const record = pending({ unreadable: ['approval.stageName', 'approval.expires'] });
    // Act
    const message = approvalMessage(record, now);
    // Assess
    expect(buttons(message.blocks)).toEqual([]);
    expect(header(message.blocks)).toBe('⚠️ shop-cart › StagingDEV');
    const warning = sectionTexts(message.blocks).join('\n');
    expect(warning).toContain('Greenlight could not read all of this request* (approval.stageName, approval.expires)');
    expect(warning).toContain(`<${record.request.consoleLink}|Decide it in the AWS console>`);
  });

  it('offers Approve, confirmed first, and Reject', () => {
    // Prepare
    const record = pending();
    // Act
    const [approve, reject, ...more] = buttons(approvalMessage(record, now).blocks);
    // Assess
    expect(more).toEqual([]);
    expect(approve).toMatchObject({
      action_id: ids.approve,
      style: 'primary',
      text: { text: 'Approve' },
      confirm: {
        title: { text: 'Approve this change?' },
        text: { text: 'It lets the revision in *shop-cart › StagingDEV › ApproveIntoQA* go on to the next stage.' },
        confirm: { text: 'Approve' },
        deny: { text: 'Cancel' },
      },
    });
    expect(reject).toMatchObject({ action_id: ids.reject, style: 'danger', text: { text: 'Reject…' } });
    expect(JSON.parse(approve?.value ?? '')).toEqual({ approvalId: record.request.id });
    expect(reject?.value).toBe(approve?.value);
  });

  it('never puts the approval token into Slack', () => {
    // Prepare
    const record = pending();
    const states: ApprovalRecord[] = [
      record,
      { ...record, status: 'deciding', claim: { ...alice('approve'), claimId: 'c-1' } },
      closed({ kind: 'approved', decision: alice('approve'), at: new Date('2025-03-04T10:15:01Z') }),
    ];
    // Act
    const messages = states.map((state) => JSON.stringify(approvalMessage(state, now)));
    // Assess
    for (const message of messages) expect(message).not.toContain(record.request.token);
    expect(approvalButton.write(record.request.id)).toBe(`{"approvalId":"${record.request.id}"}`);
  });

  it('reads back the approval its buttons carry, and refuses a value it did not write', () => {
    // Prepare
    const record = pending();
    const button = approvalMessage(record, now).blocks.find((block): block is ActionsBlock => block.type === 'actions')
      ?.elements[0] as Button;
    const forged = [
      undefined,
      '',
      'not json',
      JSON.stringify({ approvalId: 'short' }),
      JSON.stringify({ approvalId: '../../etc/passwd-and-more' }),
      JSON.stringify({ approvalId: record.request.id, token: record.request.token }),
    ];
    // Act
    const read = approvalButton.read(button.value);
    const refused = forged.map((value) => approvalButton.read(value).ok);
    // Assess
    expect(read).toEqual({ ok: true, value: { approvalId: record.request.id } });
    expect(refused).toEqual(forged.map(() => false));
  });

  it('shows who is deciding while CodePipeline is being told', () => {
    // Prepare
    const record: ApprovalRecord = {
      ...pending(),
      status: 'deciding',
      claim: { ...alice('reject', 'no'), claimId: 'c-1' },
    };
    // Act
    const message = approvalMessage(record, now);
    // Assess
    expect(buttons(message.blocks)).toEqual([]);
    expect(sectionTexts(message.blocks)).toContain(':hourglass_flowing_sand: <@U0ALICE> is rejecting this…');
    expect(header(message.blocks)).toBe('⏳ shop-cart › StagingDEV');
  });

  it('replaces the buttons with who approved', () => {
    // Act
    const message = approvalMessage(
      closed({ kind: 'approved', decision: alice('approve'), at: new Date('2025-03-04T10:15:01Z') }),
      now,
    );
    // Assess
    expect(buttons(message.blocks)).toEqual([]);
    expect(sectionTexts(message.blocks).at(-1)).toBe(
      ':white_check_mark: *Approved* by <@U0ALICE> <!date^1741083300^{date_short_pretty} at {time}|2025-03-04 10:15 UTC>',
    );
    expect(header(message.blocks)).toBe('✅ shop-cart › StagingDEV');
    expect(message.text).toBe('shop-cart › StagingDEV: approved');
  });

  it('replaces the buttons with who rejected and why, quoted and escaped', () => {
    // Act
    const message = approvalMessage(
      closed({
        kind: 'rejected',
        decision: alice('reject', 'Checkout fails <b>\nwith expired cards'),
        at: new Date('2025-03-04T10:15:01Z'),
      }),
      now,
    );
    // Assess
    expect(buttons(message.blocks)).toEqual([]);
    expect(sectionTexts(message.blocks).at(-1)).toBe(
      ':x: *Rejected* by <@U0ALICE> <!date^1741083300^{date_short_pretty} at {time}|2025-03-04 10:15 UTC>\n>Checkout fails &lt;b&gt;\n>with expired cards',
    );
  });

  it('shows when the person decided, not when a later settle recorded it', () => {
    // Prepare: Alice's click at 10:15 died after CodePipeline took it; the settle recorded it at 10:40
    const record = closed({ kind: 'approved', decision: alice('approve'), at: new Date('2025-03-04T10:40:00Z') });
    // Act
    const message = approvalMessage(record, now);
    const notice = notices.alreadyDecided(record, new Date('2025-03-04T10:45:00Z'));
    // Assess
    const at1015 = '<!date^1741083300^{date_short_pretty} at {time}|2025-03-04 10:15 UTC>';
    expect(sectionTexts(message.blocks).at(-1)).toBe(`:white_check_mark: *Approved* by <@U0ALICE> ${at1015}`);
    expect(fields(message.blocks)).toContain(`*Closed*\n${at1015}`);
    expect(notice).toBe('This was already approved by <@U0ALICE> 30 minutes ago. Nothing more to do.');
  });

  it('names the release that approved', () => {
    // Prepare
    const decision: Decision = {
      verdict: 'approve',
      actor: { id: 'rel-1', name: 'shop → qa', via: 'release' },
      at: new Date('2025-03-04T10:15:00Z'),
    };
    // Act
    const message = approvalMessage(closed({ kind: 'approved', decision, at: decision.at }), now);
    // Assess
    expect(sectionTexts(message.blocks).at(-1)).toContain('*Approved* by release shop → qa');
  });

  it.each([
    [{ kind: 'expired' } as const, ':hourglass: *Expired*', '⌛'],
    [{ kind: 'decided-elsewhere' } as const, ':leftwards_arrow_with_hook: *Decided outside Slack*', '⚪'],
    [{ kind: 'gone', what: 'pipeline' } as const, ':wastebasket: *The pipeline no longer exists*', '⚪'],
  ])('shows an approval that ended as $kind without buttons', (ending, line, icon) => {
    // Act
    const message = approvalMessage(closed({ ...ending, at: new Date('2025-03-11T09:31:00Z') }), now);
    // Assess
    expect(buttons(message.blocks)).toEqual([]);
    expect(sectionTexts(message.blocks).at(-1)?.startsWith(line)).toBe(true);
    expect(header(message.blocks).startsWith(icon)).toBe(true);
  });

  it('shows a waiting approval past its expiry as expired, without buttons', () => {
    // Prepare
    const later = new Date('2025-03-11T09:30:00Z');
    // Act
    const message = approvalMessage(pending(), later);
    // Assess
    expect(buttons(message.blocks)).toEqual([]);
    expect(sectionTexts(message.blocks)).toContain(
      ':hourglass: *Expired* — CodePipeline no longer accepts a decision.',
    );
    expect(header(message.blocks)).toBe('⌛ shop-cart › StagingDEV');
    expect(message.text).toBe('shop-cart › StagingDEV: expired');
  });

  it('never reads "Expires … in 7 days" above "Expired" when CodePipeline called it expired early', () => {
    // Prepare: the sandbox moved CodePipeline's clock a week ahead; Slack's clock is still `now`
    const record = closed({ kind: 'expired', at: now });
    // Act
    const message = approvalMessage(record, now);
    // Assess
    expect(fields(message.blocks).at(-1)).toMatch(/^\*Expired\*\n<!date\^1741080600\^/);
    expect(fields(message.blocks).join()).not.toContain('in 7 days');
  });

  it('shows when a decided approval closed instead of an expiry that can no longer come', () => {
    // Prepare: approved at 10:15 on the day it was asked, a week before it would have expired
    const decision = slackDecision('approve', new Date('2025-03-04T10:15:00Z'));
    // Act
    const message = approvalMessage(closed({ kind: 'approved', decision, at: decision.at }), now);
    // Assess
    expect(fields(message.blocks).at(-1)).toMatch(/^\*Closed\*\n<!date\^1741083300\^/);
    expect(fields(message.blocks).join()).not.toContain('Expires');
  });

  it('shows the expiry of an approval past it as past', () => {
    // Act
    const message = approvalMessage(pending(), new Date('2025-03-12T09:30:00Z'));
    // Assess
    expect(fields(message.blocks).at(-1)).toMatch(/^\*Expired\*\n.*\(24 hours ago\)$/);
  });

  it('keeps the buttons a minute before expiry', () => {
    // Act
    const message = approvalMessage(pending(), new Date('2025-03-11T09:29:00Z'));
    // Assess
    expect(buttons(message.blocks)).toHaveLength(2);
    expect(fields(message.blocks).at(-1)).toContain('(in 1 minute)');
  });

  it('stays within Block Kit limits with the longest names and 10,000 characters of custom data', () => {
    // Prepare
    const record = pending({
      pipelineName: `shop-${'p'.repeat(95)}`,
      stageName: 'S'.repeat(100),
      actionName: 'A'.repeat(100),
      customData: '<&>'.repeat(3_334),
    });
    // Act
    const { blocks } = approvalMessage(record, now);
    // Assess
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(header(blocks).length).toBeLessThanOrEqual(150);
    for (const text of sectionTexts(blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    expect(sectionTexts(blocks)[0]?.endsWith('…')).toBe(true);
    for (const field of fields(blocks)) expect(field.length).toBeLessThanOrEqual(2000);
    expect(fields(blocks)).toHaveLength(4);
    const confirm = buttons(blocks)[0]?.confirm?.text.text ?? '';
    expect(confirm.length).toBeLessThanOrEqual(300);
  });
});

describe('rejectModal', () => {
  it('asks why, within the 500 characters CodePipeline can keep', () => {
    // Prepare
    const record = pending();
    // Act
    const modal = rejectModal(record, { approvalId: record.request.id, channel: 'C0APPROVALS' });
    // Assess
    expect(modal.callback_id).toBe(ids.rejectModal);
    expect(modal.submit?.text).toBe('Reject');
    expect(modal.blocks).toContainEqual(
      expect.objectContaining({
        type: 'input',
        block_id: ids.reasonBlock,
        element: expect.objectContaining({
          type: 'plain_text_input',
          action_id: ids.reasonInput,
          multiline: true,
          max_length: 500,
        }),
      }),
    );
    expect(JSON.stringify(modal.blocks)).toContain('shop-cart › StagingDEV › ApproveIntoQA');
  });

  it('remembers which approval it rejects, and nothing secret', () => {
    // Prepare
    const record = pending();
    // Act
    const modal = rejectModal(record, { approvalId: record.request.id, channel: 'C0APPROVALS' });
    // Assess
    expect(JSON.parse(modal.private_metadata ?? '')).toEqual({ approvalId: record.request.id, channel: 'C0APPROVALS' });
    expect(JSON.stringify(modal)).not.toContain(record.request.token);
  });

  it('reads back what it remembers, with or without a channel, and refuses what it did not write', () => {
    // Prepare
    const record = pending();
    const inChannel = rejectModal(record, { approvalId: record.request.id, channel: 'C0APPROVALS' });
    const elsewhere = rejectModal(record, { approvalId: record.request.id });
    const forged = [undefined, '{', JSON.stringify({ channel: 'C0APPROVALS' }), JSON.stringify({ approvalId: 'x' })];
    // Act
    const reads = [inChannel, elsewhere].map((modal) => rejectModalMetadata.read(modal.private_metadata));
    const refused = forged.map((raw) => rejectModalMetadata.read(raw).ok);
    // Assess
    expect(reads).toEqual([
      { ok: true, value: { approvalId: record.request.id, channel: 'C0APPROVALS' } },
      { ok: true, value: { approvalId: record.request.id } },
    ]);
    expect(refused).toEqual(forged.map(() => false));
  });
});

describe('notices.alreadyDecided', () => {
  it('names who decided first, and when', () => {
    // Prepare
    const record = closed({ kind: 'approved', decision: alice('approve'), at: new Date('2025-03-04T10:15:01Z') });
    // Act
    const notice = notices.alreadyDecided(record, new Date('2025-03-04T10:20:00Z'));
    // Assess
    expect(notice).toBe('This was already approved by <@U0ALICE> 5 minutes ago. Nothing more to do.');
  });

  it('names who is deciding right now', () => {
    // Prepare
    const record: ApprovalRecord = {
      ...pending(),
      status: 'deciding',
      claim: { ...alice('reject', 'no'), claimId: 'c' },
    };
    // Act
    const notice = notices.alreadyDecided(record, now);
    // Assess
    expect(notice).toBe('<@U0ALICE> is rejecting this right now; the message will show the result.');
  });

  it('says how an approval ended when nobody in Slack decided it', () => {
    // Prepare
    const record = closed({ kind: 'gone', what: 'stage', at: now });
    // Act
    const notice = notices.alreadyDecided(record, now);
    // Assess
    expect(notice).toBe('The stage of this approval no longer exists. Nothing more to do.');
  });
});
