import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import helloEvent from '../fixtures/sns-test-message-event.json' with { type: 'json' };
import { captureOutput } from '../support/output-capture.ts';
import {
  APPROVALS_CHANNEL,
  approvalAwaitingDelivery,
  clickBody,
  pipelineWaitsForApproval,
  postToApp,
  type WaitingApproval,
} from '../support/world-helpers.ts';

// Everything the handlers can say, down to debug: the token must not be in any of it.
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';

let world: World;
let output: ReturnType<typeof captureOutput> | undefined;
/** What the process wrote, once captured. */
let written: string[] = [];

beforeAll(async () => {
  output = captureOutput();
  written = output.written;
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
  output?.restore();
});

const click = (user: string, approval: WaitingApproval, actionId: string, value?: string) =>
  world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, actionId, value === undefined ? {} : { value });

/** Log lines (JSON, one per write) whose message matches. */
const logged = (message: RegExp) =>
  written.filter((line) => {
    try {
      return message.test(String((JSON.parse(line) as { message?: unknown }).message));
    } catch {
      return false;
    }
  });

describe('logs', () => {
  it('never contain an approval token, whatever happens on the way', async () => {
    // Prepare + Act: every path that logs — repeated, junk and failing notifications …
    const delivered = await approvalAwaitingDelivery(world, 'log-notifications');
    await Promise.all([1, 2].map(() => world.handlers.approvalNotification(delivered.event)));
    const junk = { Records: [...helloEvent.Records, ...delivered.event.Records] } as SNSEvent;
    await world.handlers.approvalNotification(junk);
    const failing = await approvalAwaitingDelivery(world, 'log-post-fails');
    const bot = world.slack.workspace.bot.userId;
    world.slack.workspace.leave(APPROVALS_CHANNEL, bot);
    await world.handlers.approvalNotification(failing.event).catch(() => undefined);
    world.slack.workspace.join(APPROVALS_CHANNEL, bot);
    await world.handlers.approvalNotification(failing.event);
    // … approvals, rejections (blank reason first), losers, throttling, expiry, console, gone …
    const approved = await pipelineWaitsForApproval(world, 'log-approve');
    const lateModal = await click('U0BOB', approved, ids.reject);
    await click('U0ALICE', approved, ids.approve);
    await world.slack.submitView('U0BOB', lateModal.views.at(-1)?.view.id ?? '', { [ids.reasonBlock]: 'Too late' });
    const rejected = await pipelineWaitsForApproval(world, 'log-reject');
    const modal = await click('U0BOB', rejected, ids.reject);
    const modalId = modal.views.at(-1)?.view.id ?? '';
    await world.slack.submitView('U0BOB', modalId, { [ids.reasonBlock]: ' ' });
    await world.slack.submitView('U0BOB', modalId, { [ids.reasonBlock]: 'Broken on DEV' });
    const throttled = await pipelineWaitsForApproval(world, 'log-throttled');
    world.emulator.failNextCall('PutApprovalResult', 'ThrottlingException', 2);
    await click('U0CAROL', throttled, ids.approve);
    const invalid = await pipelineWaitsForApproval(world, 'log-invalid');
    world.emulator.failNextCall('PutApprovalResult', 'ValidationException', 1);
    await click('U0CAROL', invalid, ids.approve);
    const decidedInConsole = await pipelineWaitsForApproval(world, 'log-console');
    world.emulator.answerInConsole('log-console', 'StagingDEV', 'Rejected');
    await click('U0DAVE', decidedInConsole, ids.approve);
    const gone = await pipelineWaitsForApproval(world, 'log-gone');
    world.emulator.failNextCall('PutApprovalResult', 'StageNotFoundException', 1);
    await click('U0DAVE', gone, ids.approve);
    const expired = await pipelineWaitsForApproval(world, 'log-expired');
    world.emulator.advanceClock(7 * 24 * 60 * 60 * 1000 + 60_000);
    await click('U0ALICE', expired, ids.approve);
    // … tampered buttons and forged requests
    const tampered = await pipelineWaitsForApproval(world, 'log-tampered');
    await click('U0BOB', tampered, ids.approve, 'not json');
    await click('U0BOB', tampered, ids.approve, JSON.stringify({ approvalId: 'AAAAAAAAAAAAAAAAAAAAAA' }));
    const now = Math.floor(Date.now() / 1000);
    await postToApp(world, clickBody(world, 'U0BOB', tampered.message, ids.approve), { timestamp: now - 400 });
    await world.settle();
    // Assess: the capture works (each path left its line) …
    expect(logged(/Skipped an SNS message/)).not.toHaveLength(0);
    expect(logged(/Could not handle an approval notification/)).not.toHaveLength(0);
    expect(logged(/Approval decided/).length).toBeGreaterThanOrEqual(5);
    expect(logged(/claim given back/)).not.toHaveLength(0);
    expect(logged(/Refused a button value/)).not.toHaveLength(0);
    expect(logged(/bad or stale signature/)).not.toHaveLength(0);
    // … and no line carries a token
    const tokens = world.emulator
      .notifications()
      .map((event) => (JSON.parse(event.Records[0]?.Sns.Message ?? '{}') as { approval: { token: string } }).approval)
      .map((approval) => approval.token)
      .concat(delivered.token, failing.token);
    expect(tokens.length).toBeGreaterThanOrEqual(10);
    const everything = written.join('');
    for (const token of tokens) expect(everything).not.toContain(token);
  });

  it('never contain the token even when CodePipeline echoes it in an error message', async () => {
    // Prepare: AWS validation messages quote the offending value, as the emulator's own do
    const approval = await pipelineWaitsForApproval(world, 'log-echo');
    const echo = `1 validation error detected: Value '${approval.token}' at 'token' failed to satisfy constraint`;
    world.emulator.failNextCall('PutApprovalResult', 'ValidationException', 1, echo);
    const from = written.length;
    // Act
    const answer = await click('U0ALICE', approval, ids.approve);
    // Assess
    expect(answer.ephemerals).toHaveLength(1);
    const lines = written.slice(from).join('');
    expect(lines).toMatch(/ValidationException/);
    expect(lines).not.toContain(approval.token);
  });
});
