import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { APPROVALS_CHANNEL, pipelineWaitsForApproval, type WaitingApproval } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  await world?.close();
});

const click = (user: string, approval: WaitingApproval, actionId: string) =>
  world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, actionId);

const putApprovalResults = (approval: WaitingApproval) =>
  world.emulator.calls('PutApprovalResult').filter((call) => call.input.pipelineName === approval.pipelineName);

describe('who the bot is (auth.test), from one slack-events container', () => {
  it('is never asked: clicks, modals and commands are served while auth.test is down', async () => {
    // Prepare: three approvals wait; Slack's auth.test fails for the whole test
    const [first, second, third] = [
      await pipelineWaitsForApproval(world, 'whoami-cart'),
      await pipelineWaitsForApproval(world, 'whoami-search'),
      await pipelineWaitsForApproval(world, 'whoami-payments'),
    ];
    if (!first || !second || !third) throw new Error('three approvals expected');
    world.slack.faults.failCalls('auth.test', 503);

    // Act: approve, reject through the modal, and commands, from three people
    const answers = [
      await click('U0ALICE', first, ids.approve),
      await world.slack.slashCommand('U0ALICE', APPROVALS_CHANNEL, '/release', 'help'),
      await click('U0BOB', second, ids.approve),
    ];
    const opened = await click('U0CAROL', third, ids.reject);
    const modal = opened.views.at(-1)?.view;
    if (!modal) throw new Error('Reject opened no modal');
    answers.push(
      opened,
      await world.slack.submitView('U0CAROL', modal.id, { [ids.reasonBlock]: 'Not this week' }),
      await world.slack.slashCommand('U0CAROL', APPROVALS_CHANNEL, '/release', 'help'),
    );
    await world.settle();

    // Assess: Slack was never asked, and every request was served
    expect(world.slack.calls('auth.test')).toEqual([]);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect([first, second, third].map((approval) => putApprovalResults(approval).length)).toEqual([1, 1, 1]);
    expect(putApprovalResults(third).map((call) => (call.input.result as { status?: string }).status)).toEqual([
      'Rejected',
    ]);
    expect(
      world.slack
        .ephemerals(APPROVALS_CHANNEL, 'U0CAROL')
        .map((e) => e.text)
        .join('\n'),
    ).toMatch(/release/i);
  });
});
