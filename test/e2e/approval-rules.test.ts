import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ids } from '../../app/views/ids.ts';
import { lambdaContext } from '../../sandbox/app/function-url-server.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  confirm,
  productWaitsAt,
  release,
  releaseMessages,
  releasingJob,
  shownIn,
  topView,
} from '../support/release-world.ts';
import {
  APPROVALS_CHANNEL,
  approvalMessages,
  auditFor,
  buttonsOf,
  currentMessage,
  lastEphemeral,
  pipelineWaitsForApproval,
  shown,
  users,
  type WaitingApproval,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/**
 * The approval rules of issue 13, end to end: the real handlers, DynamoDB, the CodePipeline
 * emulator over HTTP and the Slack simulator with its user groups (Releasers: Alice and Bob;
 * On-call: Carol), on a fixed clock.
 */
const PRODUCTS = {
  shop: {
    approvers: ['S0RELEASERS'],
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: {
        stage: 'StagingQA',
        approvers: ['S0RELEASERS', 'U0DAVE'],
        required: 2,
        freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' }],
        breakGlass: ['S0ONCALL'],
      },
    },
  },
  four: {
    envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', separateFrom: ['qa'] } },
  },
  pair: {
    approvers: ['S0RELEASERS'],
    envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', required: 2 } },
  },
  calm: {
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: {
        stage: 'StagingQA',
        freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' }],
      },
    },
  },
};

/** Wednesday 2026-12-02 10:00 in Berlin: no freeze. */
const WEDNESDAY = new Date('2026-12-02T09:00:00Z');
/** Saturday 2026-12-05 12:00 in Berlin: the weekend freeze. */
const SATURDAY = new Date('2026-12-05T11:00:00Z');

let world: World;
let racers: string[];

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(WEDNESDAY);
  world = await startWorld({ env: { PRODUCTS: JSON.stringify(PRODUCTS) } });
  // Group members are remembered per container: the racing Releasers join before anyone clicks.
  racers = users(world, 10, 'releaser').map((person) => person.id);
  world.slack.workspace.setUsergroup({
    id: 'S0RELEASERS',
    name: 'Releasers',
    handle: 'releasers',
    users: ['U0ALICE', 'U0BOB', ...racers],
  });
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

const putsFor = (pipelineName: string) =>
  world.emulator.calls('PutApprovalResult').filter((call) => call.input.pipelineName === pipelineName);
const summaryOf = (call: { input: Record<string, unknown> } | undefined) =>
  String((call?.input.result as { summary?: string } | undefined)?.summary ?? '');
const approve = (approval: WaitingApproval, user: string) =>
  world.slack.click(user, APPROVALS_CHANNEL, approval.message.ts, ids.approve);

describe('who may approve', () => {
  it('refuses someone outside the approvers privately, naming who may, and sends nothing to CodePipeline', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-outsider', 'StagingQA');
    // Act
    await approve(approval, 'U0CAROL');
    // Assess
    expect(putsFor('shop-outsider')).toHaveLength(0);
    const answer = lastEphemeral(world, 'U0CAROL')?.text ?? '';
    expect(answer).toContain('<!subteam^S0RELEASERS>');
    expect(answer).toContain('<@U0DAVE>');
    expect(answer).toContain('Nothing was changed');
    expect(buttonsOf(currentMessage(world, approval))).toContain(ids.approve);
    const refused = (await auditFor(world, 'shop-outsider')).filter((event) => event.type === 'decision-refused');
    expect(refused).toEqual([
      expect.objectContaining({ result: 'not-an-approver', actor: expect.objectContaining({ id: 'U0CAROL' }) }),
    ]);
  });
});

describe('how many', () => {
  it('decides a required: 2 approval on the second distinct approver, once, naming both', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-two', 'StagingQA');
    // Act
    await approve(approval, 'U0ALICE');
    const afterOne = currentMessage(world, approval);
    await approve(approval, 'U0BOB');
    // Assess
    expect(shown(afterOne)).toContain('1 of 2 approvals: <@U0ALICE>');
    expect(buttonsOf(afterOne)).toEqual([ids.approve, ids.reject]);
    const puts = putsFor('shop-two');
    expect(puts).toHaveLength(1);
    expect(summaryOf(puts[0])).toMatch(
      /^Approved by bob \(U0BOB\) via Slack: approvals from alice \(U0ALICE\), bob \(U0BOB\)/,
    );
    const final = shown(currentMessage(world, approval));
    expect(final).toContain('*Approved* by <@U0BOB> with <@U0ALICE>');
    expect(buttonsOf(currentMessage(world, approval))).toEqual([]);
    const votes = (await auditFor(world, 'shop-two')).filter((event) => event.type === 'vote');
    expect(votes.map((vote) => vote.actor?.id)).toEqual(['U0ALICE', 'U0BOB']);
  });

  it('counts the same person clicking twice once', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-twice', 'StagingQA');
    // Act
    await approve(approval, 'U0ALICE');
    await approve(approval, 'U0ALICE');
    // Assess
    expect(putsFor('shop-twice')).toHaveLength(0);
    expect(lastEphemeral(world, 'U0ALICE')?.text).toContain('Your approval is counted already (1 of 2 approvals');
    expect(shown(currentMessage(world, approval))).toContain('1 of 2 approvals: <@U0ALICE>');
    const votes = (await auditFor(world, 'shop-twice')).filter((event) => event.type === 'vote');
    expect(votes).toHaveLength(1);
  });

  it('rejects at once on one approver’s reject, whatever the votes so far', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-veto', 'StagingQA');
    await approve(approval, 'U0ALICE');
    // Act
    const opened = await world.slack.click('U0DAVE', APPROVALS_CHANNEL, approval.message.ts, ids.reject);
    await world.slack.submitView('U0DAVE', opened.views.at(-1)?.view.id ?? '', {
      [ids.reasonBlock]: 'Breaks checkout',
    });
    // Assess
    const puts = putsFor('shop-veto');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.input.result).toMatchObject({
      status: 'Rejected',
      summary: 'Rejected by dave (U0DAVE) via Slack: Breaks checkout',
    });
  });

  it('sends one PutApprovalResult when ten approvers race', async () => {
    // Prepare
    const approval = await pipelineWaitsForApproval(world, 'shop-race', 'StagingQA');
    // Act
    await Promise.all(racers.map((user) => approve(approval, user)));
    await world.settle();
    // Assess
    expect(putsFor('shop-race')).toHaveLength(1);
    expect(shown(currentMessage(world, approval))).toContain('*Approved*');
  });
});

describe('when', () => {
  it('shows the freeze instead of Approve, and lets a break-glass member approve with a reason', async () => {
    // Prepare
    vi.setSystemTime(SATURDAY);
    const approval = await pipelineWaitsForApproval(world, 'shop-frozen', 'StagingQA');
    const posted = currentMessage(world, approval);
    // Act
    const opened = await world.slack.click('U0CAROL', APPROVALS_CHANNEL, approval.message.ts, ids.breakGlass);
    await world.slack.submitView('U0CAROL', opened.views.at(-1)?.view.id ?? '', {
      [ids.reasonBlock]: 'Checkout outage, INC-1234',
    });
    // Assess
    expect(shown(posted)).toContain('❄️ Frozen until Mon 08:00 (Weekend)');
    expect(buttonsOf(posted)).toEqual([ids.breakGlass, ids.reject]);
    const puts = putsFor('shop-frozen');
    expect(puts).toHaveLength(1);
    expect(summaryOf(puts[0])).toBe(
      'Approved by carol (U0CAROL) via Slack: freeze override (Weekend): Checkout outage, INC-1234',
    );
    expect(shown(currentMessage(world, approval))).toContain('freeze override');
    const outcome = (await auditFor(world, 'shop-frozen')).find(
      (event) => event.type === 'outcome' && event.approvalId === approval.approvalId,
    );
    expect(outcome).toMatchObject({
      result: 'approved',
      detail: 'freeze override (Weekend)',
      reason: 'Checkout outage, INC-1234',
    });
    vi.setSystemTime(WEDNESDAY);
  });

  it('tells someone outside break glass who may, at once, instead of a modal whose reason it would refuse', async () => {
    // Prepare: Alice is a Releaser, not On-call
    vi.setSystemTime(SATURDAY);
    const approval = await pipelineWaitsForApproval(world, 'shop-frozen-alice', 'StagingQA');
    // Act
    const clicked = await world.slack.click('U0ALICE', APPROVALS_CHANNEL, approval.message.ts, ids.breakGlass);
    // Assess
    expect(clicked.views).toEqual([]);
    expect(lastEphemeral(world, 'U0ALICE')?.text).toBe(
      'Only <!subteam^S0ONCALL> may break glass for *shop prod*. ❄️ Frozen until Mon 08:00 (Weekend), Europe/Berlin time: approving waits until then. Nothing was changed.',
    );
    expect(putsFor('shop-frozen-alice')).toHaveLength(0);
    vi.setSystemTime(WEDNESDAY);
  });

  it('refuses an approve clicked on a message drawn just before the freeze began, saying until when', async () => {
    // Prepare: posted at Fri 15:50 in Berlin, with Approve
    vi.setSystemTime(new Date('2026-12-04T14:50:00Z'));
    const approval = await pipelineWaitsForApproval(world, 'shop-freeze-begins', 'StagingQA');
    // Act: clicked at 16:05
    vi.setSystemTime(new Date('2026-12-04T15:05:00Z'));
    await approve(approval, 'U0ALICE');
    // Assess
    expect(putsFor('shop-freeze-begins')).toHaveLength(0);
    expect(lastEphemeral(world, 'U0ALICE')?.text).toContain('❄️ Frozen until Mon 08:00 (Weekend), Europe/Berlin time');
    const refused = (await auditFor(world, 'shop-freeze-begins')).filter((event) => event.type === 'decision-refused');
    expect(refused).toEqual([expect.objectContaining({ result: 'frozen' })]);
    vi.setSystemTime(WEDNESDAY);
  });
});

describe('a weekly freeze across the change to winter time', () => {
  it('ends at 08:00 Berlin time on the Monday after the clocks went back, not at 08:00 summer time', async () => {
    // Prepare: posted Fri 2026-10-23 15:50 CEST, before the freeze; the clocks go back on Sunday,
    // so Mon 08:00 CET is 07:00 UTC (in summer it was 06:00)
    vi.setSystemTime(new Date('2026-10-23T13:50:00Z'));
    const early = await pipelineWaitsForApproval(world, 'shop-winter-early', 'StagingQA');
    const onTime = await pipelineWaitsForApproval(world, 'shop-winter', 'StagingQA');
    // Act: 07:59 CET, then 08:00 CET
    vi.setSystemTime(new Date('2026-10-26T06:59:00Z'));
    await approve(early, 'U0ALICE');
    const answer = lastEphemeral(world, 'U0ALICE')?.text ?? '';
    vi.setSystemTime(new Date('2026-10-26T07:00:00Z'));
    await approve(onTime, 'U0ALICE');
    await approve(onTime, 'U0BOB');
    // Assess
    expect(putsFor('shop-winter-early')).toHaveLength(0);
    expect(answer).toContain('❄️ Frozen until Mon 08:00 (Weekend)');
    expect(putsFor('shop-winter')).toHaveLength(1);
    vi.setSystemTime(WEDNESDAY);
  });
});

describe('four eyes across envs', () => {
  it('refuses Alice in prod after she approved the same revision into qa, and lets Bob through', async () => {
    // Prepare: Alice approves the revision into QA in Slack; it then waits for prod
    const qa = await pipelineWaitsForApproval(world, 'four-app', 'StagingDEV');
    await approve(qa, 'U0ALICE');
    await world.settle();
    const prodMessage = approvalMessages(world).find((m) => m.text === 'Approval needed: four-app › StagingQA');
    if (!prodMessage) throw new Error('No prod approval after QA was approved');
    // Act
    await world.slack.click('U0ALICE', APPROVALS_CHANNEL, prodMessage.ts, ids.approve);
    const afterAlice = putsFor('four-app').length;
    await world.slack.click('U0BOB', APPROVALS_CHANNEL, prodMessage.ts, ids.approve);
    // Assess
    expect(afterAlice).toBe(1); // QA's only
    expect(lastEphemeral(world, 'U0ALICE')?.text).toContain('You approved this revision into qa');
    const puts = putsFor('four-app');
    expect(puts).toHaveLength(2);
    expect(puts[1]?.input.stageName).toBe('StagingQA');
    expect(summaryOf(puts[1])).toBe('Approved by bob (U0BOB) via Slack');
    const refused = (await auditFor(world, 'four-app')).filter((event) => event.type === 'decision-refused');
    expect(refused).toEqual([
      expect.objectContaining({ result: 'separated', actor: expect.objectContaining({ id: 'U0ALICE' }) }),
    ]);
  });
});

describe('/release under the rules', () => {
  it('shows the freeze and approves nothing during one', async () => {
    // Prepare
    vi.setSystemTime(SATURDAY);
    await pipelineWaitsForApproval(world, 'shop-weekend', 'StagingQA');
    const before = world.emulator.calls('PutApprovalResult').length;
    // Act
    const asked = await world.slack.slashCommand('U0ALICE', APPROVALS_CHANNEL, '/release', 'shop prod');
    await world.settle();
    // Assess
    expect(asked.ephemerals.map((e) => e.text).join('\n')).toContain(
      '❄️ Frozen until Mon 08:00 (Weekend): shop prod is frozen, Europe/Berlin time. Nothing was approved.',
    );
    expect(world.slack.openViews('U0ALICE')).toEqual([]);
    expect(world.emulator.calls('PutApprovalResult')).toHaveLength(before);
    vi.setSystemTime(WEDNESDAY);
  });

  it('applies the approver rules to the person releasing', async () => {
    // Act
    const asked = await world.slack.slashCommand('U0CAROL', APPROVALS_CHANNEL, '/release', 'shop qa');
    // Assess
    expect(asked.ephemerals.map((e) => e.text).join('\n')).toContain(
      'Only <!subteam^S0RELEASERS> may release *shop* to qa. Nothing was approved.',
    );
    expect(world.slack.openViews('U0CAROL')).toEqual([]);
  });

  it('shows the rules in force per env in plain words', async () => {
    // Act
    const asked = await world.slack.slashCommand('U0DAVE', APPROVALS_CHANNEL, '/release', 'shop policy');
    // Assess
    const text = asked.ephemerals.map((e) => e.text).join('\n');
    expect(text).toContain('*Approval rules for shop*');
    expect(text).toContain('Who may approve: <!subteam^S0RELEASERS> or <@U0DAVE>');
    expect(text).toContain('How many: 2 approvals from different people');
    expect(text).toContain('Next freeze: Weekend');
    expect(text).toContain('<!subteam^S0ONCALL> may still approve, giving a reason (break glass)');
  });

  it('lists every env, one without rules too, so none looks forgotten', async () => {
    // Act: `four` has rules in prod (four eyes) and none in qa
    const asked = await world.slack.slashCommand('U0DAVE', APPROVALS_CHANNEL, '/release', 'four policy');
    // Assess
    const text = asked.ephemerals.map((e) => e.text).join('\n');
    expect(text).toContain('*qa*\n• Who may approve: anyone in the workspace\n• How many: one approval');
    expect(text).toContain('*prod*');
    expect(text).toContain('• Four eyes: whoever approved a revision into qa may not approve it here');
  });
});

const messageFor = (pipelineName: string, stage = 'StagingQA') => {
  const found = approvalMessages(world).find((m) => m.text === `Approval needed: ${pipelineName} › ${stage}`);
  if (!found) throw new Error(`No approval message for ${pipelineName} › ${stage}`);
  return found;
};

describe('/release under the rules, per change', () => {
  it('counts a /release as the requester’s vote where two are required, and the next approver decides', async () => {
    // Prepare
    await productWaitsAt(world, 'pair', ['api', 'web'], 'StagingQA');
    await release(world, 'U0ALICE', APPROVALS_CHANNEL, 'pair prod');
    const modal = shownIn(topView(world, 'U0ALICE'));
    // Act
    await confirm(world, 'U0ALICE');
    const afterRelease = putsFor('pair-api').length;
    const api = messageFor('pair-api');
    await world.slack.click('U0ALICE', APPROVALS_CHANNEL, api.ts, ids.approve);
    const aliceAgain = lastEphemeral(world, 'U0ALICE')?.text ?? '';
    await world.slack.click('U0BOB', APPROVALS_CHANNEL, api.ts, ids.approve);
    // Assess
    expect(modal).toContain('Each change needs *2 approvals from different people*: this counts as yours');
    expect(afterRelease).toBe(0);
    expect(shown(messageFor('pair-web'))).toContain('1 of 2 approvals: <@U0ALICE>');
    expect(buttonsOf(messageFor('pair-web'))).toEqual([ids.approve, ids.reject]);
    const progress = shownIn(releaseMessages(world, APPROVALS_CHANNEL).at(-1) ?? {});
    expect(progress).toContain('Counted, waiting for more approvals');
    expect(progress).toContain('*pair-web* — 1 of 2 approvals');
    expect(aliceAgain).toContain('Your approval is counted already');
    const puts = putsFor('pair-api');
    expect(puts).toHaveLength(1);
    expect(summaryOf(puts[0])).toMatch(
      /^Approved by bob \(U0BOB\) via Slack: approvals from alice \(U0ALICE\), bob \(U0BOB\)/,
    );
    expect(buttonsOf(currentMessage(world, { message: api }))).toEqual([]);
  });

  it('keeps the person who released a revision into qa from approving it into prod (four eyes)', async () => {
    // Prepare: Alice releases the change into QA; it then waits for prod
    await productWaitsAt(world, 'four', ['rel'], 'StagingDEV');
    await release(world, 'U0ALICE', APPROVALS_CHANNEL, 'four qa');
    await confirm(world, 'U0ALICE');
    await world.settle();
    const qaSummary = summaryOf(putsFor('four-rel')[0]);
    const prod = messageFor('four-rel');
    // Act
    await world.slack.click('U0ALICE', APPROVALS_CHANNEL, prod.ts, ids.approve);
    const clicked = lastEphemeral(world, 'U0ALICE')?.text ?? '';
    await release(world, 'U0ALICE', APPROVALS_CHANNEL, 'four prod');
    await confirm(world, 'U0ALICE');
    const progress = shownIn(releaseMessages(world, APPROVALS_CHANNEL).at(-1) ?? {});
    await world.slack.click('U0BOB', APPROVALS_CHANNEL, prod.ts, ids.approve);
    // Assess
    expect(qaSummary).toMatch(/via Greenlight release: asked by Slack user U0ALICE$/);
    expect(clicked).toContain('You approved this revision into qa');
    expect(progress).toContain('Not approved by the approval rules');
    expect(progress).toContain('*four-rel* — the requester approved this revision in qa (four eyes)');
    const puts = putsFor('four-rel');
    expect(puts).toHaveLength(2);
    expect(summaryOf(puts[1])).toBe('Approved by bob (U0BOB) via Slack');
  });
});

/** The releasing pipeline's action runs for `product` `env`: CodePipeline's job, and its id. */
function releaseJob(product: string, env: string) {
  const event = releasingJob(world, JSON.stringify({ product, env }));
  return { event, jobId: event['CodePipeline.job'].id };
}

const jobFailure = (jobId: string) =>
  world.emulator.calls('PutJobFailureResult').find((call) => call.input.jobId === jobId)?.input.failureDetails as
    | { message?: string }
    | undefined;

describe('a releasing pipeline under the rules', () => {
  it('approves nothing during a freeze that began after the release was planned, and says so', async () => {
    // Prepare
    await productWaitsAt(world, 'calm', ['api'], 'StagingQA');
    vi.setSystemTime(SATURDAY);
    const { event, jobId } = releaseJob('calm', 'prod');
    // Act
    await world.handlers.releaseAction(event, {
      ...lambdaContext('release-action'),
      getRemainingTimeInMillis: () => 300_000,
    });
    vi.setSystemTime(WEDNESDAY);
    // Assess
    expect(putsFor('calm-api')).toHaveLength(0);
    expect(jobFailure(jobId)?.message).toContain('1 not approved under the env’s approval rules'.replace('’', "'"));
    expect(jobFailure(jobId)?.message).toContain('(frozen until Mon 08:00 (Weekend))');
    expect(buttonsOf(messageFor('calm-api'))).toContain(ids.reject);
  });

  it('leaves approvals whose rules count people to people', async () => {
    // Prepare
    await productWaitsAt(world, 'pair', ['batch'], 'StagingQA');
    const { event, jobId } = releaseJob('pair', 'prod');
    // Act
    await world.handlers.releaseAction(event, {
      ...lambdaContext('release-action'),
      getRemainingTimeInMillis: () => 300_000,
    });
    // Assess
    expect(putsFor('pair-batch')).toHaveLength(0);
    expect(jobFailure(jobId)?.message).toContain('its rules ask for people to approve it in Slack');
    const refused = (await auditFor(world, 'pair-batch')).filter((event) => event.type === 'decision-refused');
    expect(refused).toEqual([expect.objectContaining({ result: 'needs-people' })]);
  });
});
