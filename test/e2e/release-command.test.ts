import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { COMMAND_DEADLINES } from '../../app/listeners/release-context.ts';
import { ids } from '../../app/views/ids.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import {
  confirm,
  productWaitsAt,
  release,
  releaseIdOf,
  releaseMessages,
  revision,
  shownIn,
  storedRelease,
  tamperWithStoredPlan,
  topView,
} from '../support/release-world.ts';
import { auditOf, messageApprovalId, shown } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const { approvals: APPROVALS, releases: RELEASES } = SANDBOX_CHANNELS;
let world: World;

beforeAll(async () => {
  world = await startWorld({
    env: { PRODUCTS: JSON.stringify({ empty: {}, shop: { channel: RELEASES, displayName: 'Shop' } }) },
  });
});
afterAll(async () => world?.close());

/** The tokens CodePipeline waits with in a stage, by pipeline. */
const pendingTokens = (stageName: string, pipelines: readonly string[]) =>
  Object.fromEntries(
    world.emulator
      .pendingApprovals({ stageName })
      .filter((approval) => pipelines.includes(approval.pipelineName))
      .map((approval) => [approval.pipelineName, approval.token]),
  );

describe('/release help and mistakes', () => {
  it('explains itself and lists the products, only to the person who asked', async () => {
    // Prepare
    await productWaitsAt(world, 'desk', ['web'], 'StagingDEV');

    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'help');

    // Assess
    expect(answer.elapsedMs).toBeLessThan(3000);
    expect(answer.ephemerals).toHaveLength(1);
    expect(answer.ephemerals[0]?.user).toBe('U0ALICE');
    expect(answer.ephemerals[0]?.text).toContain('`/release <product> <env>`');
    expect(answer.ephemerals[0]?.text).toMatch(/Products: .*`desk`.*`empty`/);
  });

  it('names the products there are when the product is unknown, as it names the envs for a wrong env', async () => {
    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'shoop prod');

    // Assess: told only to them, with no modal opened
    expect(answer.ephemerals[0]?.text).toMatch(/^There is no product `shoop`\. Products: .*`desk`.*`empty`.*`shop`/);
    expect(world.slack.openViews('U0ALICE')).toEqual([]);
  });

  it('names the products there are, not envs, when both the product and the env are unknown', async () => {
    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'shoop bogus-env');

    // Assess
    expect(answer.ephemerals[0]?.text).toMatch(/^There is no product `shoop`\./);
  });

  it('names the envs there are when the env is unknown', async () => {
    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'desk staging');

    // Assess
    expect(answer.ephemerals[0]?.text).toBe('*desk* has no env `staging`. Envs: `qa`, `prod`.');
  });

  it('hands `/release digest` to the digest preview', async () => {
    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'digest');

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.ephemerals.map((e) => e.user)).toEqual(['U0ALICE']);
    expect(answer.ephemerals[0]?.text).not.toContain('I did not understand');
  });

  it('says how to use it when it cannot make sense of the words', async () => {
    // Act
    const answer = await release(world, 'U0ALICE', APPROVALS, 'shop to prod now');

    // Assess
    expect(answer.ephemerals[0]?.text).toContain('I did not understand `/release shop to prod now`');
  });
});

describe('/release <product> status', () => {
  it("shows the product's board to the caller only", async () => {
    // Prepare
    const waiting = await productWaitsAt(world, 'board', ['cart', 'catalog'], 'StagingQA');

    // Act
    const answer = await release(world, 'U0BOB', APPROVALS, 'board status');

    // Assess
    expect(answer.elapsedMs).toBeLessThan(3000);
    expect(answer.ephemerals.map((e) => e.user)).toEqual(['U0BOB']);
    const board = shownIn(answer.ephemerals[0] ?? {});
    expect(board).toContain('board: 2 pipelines, 2 waiting for approval');
    expect(board).toContain(`*cart*  Source \`${waiting[0]?.revisionId.slice(0, 7)}\` ✅`);
    expect(board).toContain('StagingQA');
    expect(board).toContain('⏸️');
  });
});

describe('/release <product> <env>', () => {
  it('confirms the approvals it lists, approves exactly those, and shows the outcome everywhere', async () => {
    // Prepare
    const [cart] = await productWaitsAt(world, 'shop', ['cart'], 'StagingQA');
    const tokens = pendingTokens('StagingQA', ['shop-cart']);
    const approvalId = approvalIdFor(tokens['shop-cart'] ?? '');

    // Act
    const command = await release(world, 'U0ALICE', APPROVALS, 'shop prod');
    const modal = topView(world, 'U0ALICE');
    const confirmation = await confirm(world, 'U0ALICE');

    // Assess: the command answered in time, with a loading modal first, then the plan.
    expect(command.elapsedMs).toBeLessThan(3000);
    expect(command.events.map((event) => event.type).filter((type) => type.startsWith('view_'))).toEqual([
      'view_opened',
      'view_updated',
    ]);
    expect(shownIn(modal)).toContain(`*shop-cart* · \`${cart?.revisionId.slice(0, 7)}\` Change to shop-cart`);
    expect(modal.submit).toMatchObject({ text: 'Approve 1' });
    expect(shownIn(modal)).not.toContain(tokens['shop-cart']);
    expect(confirmation.displayError).toBeUndefined();
    expect(shownIn(topView(world, 'U0ALICE'))).toContain(`Follow it in <#${RELEASES}>`);

    // Assess: CodePipeline got exactly the pinned approval.
    const approved = world.emulator
      .calls('PutApprovalResult')
      .filter((call) => call.input.pipelineName === 'shop-cart');
    expect(approved.map((call) => [call.input.token, (call.input.result as { status: string }).status])).toEqual([
      [tokens['shop-cart'], 'Approved'],
    ]);

    // Assess: the progress message, the service's own message, the audit trail and the release record.
    const [progress] = releaseMessages(world, RELEASES);
    expect(progress?.text).toBe('✅ Released Shop to prod — 1/1 approved');
    // shop names its own channel in PRODUCTS: its approval messages are posted there too.
    const serviceMessage = world.slack
      .messages(RELEASES)
      .filter((m) => m.metadata?.event_type === ids.metadataEvent)
      .find((m) => messageApprovalId(m) === approvalId);
    expect(shown(serviceMessage ?? { text: '' })).toContain('*Approved* by release Shop → prod by <@U0ALICE>');
    const releaseId = releaseIdOf(progress ?? ({} as never));
    const audit = await auditOf(approvalId);
    expect(audit.filter((event) => event.type === 'outcome')).toEqual([
      expect.objectContaining({ result: 'approved', releaseId, actor: expect.objectContaining({ via: 'release' }) }),
    ]);
    const record = await storedRelease(releaseId);
    expect(record).toMatchObject({
      state: 'finished',
      product: { name: 'shop' },
      env: 'prod',
      requestedBy: { id: 'U0ALICE', via: 'slack' },
      results: { 'shop-cart': { kind: 'approved' } },
    });
    expect(JSON.stringify(world.slack.calls())).not.toContain(tokens['shop-cart']);
  });

  it('does not call a release clean when a pipeline in it was rejected in the console meanwhile', async () => {
    // Prepare: two services of `dock` wait in StagingQA; Alice opens /release dock prod
    await productWaitsAt(world, 'dock', ['web', 'api'], 'StagingQA');
    await release(world, 'U0ALICE', APPROVALS, 'dock prod');
    world.emulator.answerInConsole('dock-api', 'StagingQA', 'Rejected', 'Not this week');
    await world.settle();

    // Act
    await confirm(world, 'U0ALICE');
    await world.settle();

    // Assess
    const progress = releaseMessages(world, APPROVALS).at(-1);
    expect(progress?.text).toBe('⚠️ Released dock to prod — 1/2 approved');
    expect(shownIn(progress ?? { blocks: [] })).toContain(
      '*dock-api* — rejected by someone outside Greenlight (console or CLI)',
    );
  });

  it('says a product without pipelines has nothing to release', async () => {
    // Act
    await release(world, 'U0ALICE', APPROVALS, 'empty prod');

    // Assess
    const modal = topView(world, 'U0ALICE');
    expect(shownIn(modal)).toContain('has no pipelines');
    expect(modal.submit).toBeNull();
    await world.slack.closeView('U0ALICE', modal.id);
  });

  it('does not approve a newer revision that arrived after the list was shown', async () => {
    // Prepare: both pipelines wait with c1 in StagingDEV; Alice opens the release.
    const [replaced, queued] = await productWaitsAt(world, 'news', ['api', 'web'], 'StagingDEV');
    const pinned = pendingTokens('StagingDEV', ['news-api', 'news-web']);
    await release(world, 'U0ALICE', APPROVALS, 'news qa');
    // Meanwhile: in news-api someone rejects c1 in the console and c2 comes to wait in its place;
    // in news-web c2 arrives too, but waits behind c1 at the stage's door.
    world.emulator.answerInConsole('news-api', 'StagingDEV', 'Rejected', 'broken');
    const newerApi = revision();
    world.emulator.commit('news-api', newerApi);
    world.emulator.commit('news-web', revision());
    await world.settle();
    const newerToken = pendingTokens('StagingDEV', ['news-api'])['news-api'];

    // Act
    await confirm(world, 'U0ALICE');

    // Assess
    const calls = world.emulator
      .calls('PutApprovalResult')
      .filter((c) => String(c.input.pipelineName).startsWith('news-'));
    expect(calls.map((c) => c.input.token)).not.toContain(newerToken);
    expect(world.emulator.pendingApprovals({ pipelineName: 'news-api', stageName: 'StagingDEV' })[0]?.token).toBe(
      newerToken,
    );
    const progress = releaseMessages(world, APPROVALS).at(-1);
    expect(progress?.text).toBe('⚠️ Released news to qa — 1/2 approved');
    expect(shown(progress ?? { text: '' })).toContain(
      `*news-api* — confirmed \`${replaced?.revisionId.slice(0, 7)}\` Change to news-api, now \`${newerApi.slice(0, 7)}\``,
    );
    expect(calls.find((c) => c.input.pipelineName === 'news-web')?.input.token).toBe(pinned['news-web']);
    // news-web's c2 entered StagingDEV after c1 was approved, and waits for its own approval.
    expect(
      world.emulator.pendingApprovals({ pipelineName: 'news-web', stageName: 'StagingDEV' })[0]?.revisionId,
    ).not.toBe(queued?.revisionId);
  });

  it('never approves anything twice when two people release the same product at once', async () => {
    // Prepare
    const services = ['a', 'b', 'c', 'd', 'e', 'f'];
    await productWaitsAt(world, 'twin', services, 'StagingQA');
    await release(world, 'U0ALICE', APPROVALS, 'twin prod');
    await release(world, 'U0BOB', APPROVALS, 'twin prod');
    const before = releaseMessages(world, APPROVALS).length;

    // Act
    await Promise.all([
      world.slack.submitView('U0ALICE', topView(world, 'U0ALICE').id),
      world.slack.submitView('U0BOB', topView(world, 'U0BOB').id),
    ]);
    await world.settle();

    // Assess
    const calls = world.emulator
      .calls('PutApprovalResult')
      .filter((c) => String(c.input.pipelineName).startsWith('twin-'));
    expect(calls.filter((c) => c.ok)).toHaveLength(6);
    expect(new Set(calls.map((c) => c.input.pipelineName)).size).toBe(6);
    const messages = releaseMessages(world, APPROVALS).slice(before);
    expect(messages).toHaveLength(2);
    const approved = messages.map((m) => Number(/— (\d+)\/6 approved/.exec(m.text)?.[1]));
    expect(approved.reduce((sum, n) => sum + n, 0)).toBe(6);
    expect(messages.map((m) => shown(m)).join('\n')).toContain('*Already decided*');
  });

  it('approves only what is still pending when run again after a partial failure', async () => {
    // Prepare: CodePipeline refuses one of three approvals.
    await productWaitsAt(world, 'retry', ['x', 'y', 'z'], 'StagingQA');
    await release(world, 'U0ALICE', APPROVALS, 'retry prod');
    world.emulator.failNextCall('PutApprovalResult', 'ValidationException', 1, 'Injected refusal');
    await confirm(world, 'U0ALICE');
    const first = releaseMessages(world, APPROVALS).at(-1);
    const failed = world.emulator
      .pendingApprovals({ stageName: 'StagingQA' })
      .filter((a) => a.pipelineName.startsWith('retry-'));

    // Act
    await release(world, 'U0ALICE', APPROVALS, 'retry prod');
    const modal = topView(world, 'U0ALICE');
    await confirm(world, 'U0ALICE');

    // Assess
    expect(first?.text).toBe('⚠️ Released retry to prod — 2/3 approved');
    expect(shown(first ?? { text: '' })).toContain('CodePipeline refused the request (ValidationException)');
    expect(failed).toHaveLength(1);
    expect(modal.submit).toMatchObject({ text: 'Approve 1' });
    expect(shownIn(modal)).toContain(`*${failed[0]?.pipelineName}* ·`);
    expect(releaseMessages(world, APPROVALS).at(-1)?.text).toBe('✅ Released retry to prod — 1/1 approved');
    expect(
      world.emulator.pendingApprovals({ stageName: 'StagingQA' }).filter((a) => a.pipelineName.startsWith('retry-')),
    ).toEqual([]);
  });

  it('refuses a confirmation when the stored plan is not the one the person saw', async () => {
    // Prepare: Alice sees the plan; then the stored plan changes under it.
    await productWaitsAt(world, 'swap', ['a', 'b'], 'StagingQA');
    await release(world, 'U0ALICE', APPROVALS, 'swap prod');
    const { releaseId } = JSON.parse(topView(world, 'U0ALICE').private_metadata) as { releaseId: string };
    await tamperWithStoredPlan(releaseId, (item) =>
      item.pipelineName === 'swap-b'
        ? { ...item, approval: { ...(item.approval as object), approvalId: 'someone-elses-approval' } }
        : item,
    );

    // Act
    await confirm(world, 'U0ALICE');

    // Assess
    expect(shownIn(topView(world, 'U0ALICE'))).toContain('The plan changed since this list was shown');
    const calls = world.emulator
      .calls('PutApprovalResult')
      .filter((c) => String(c.input.pipelineName).startsWith('swap-'));
    expect(calls).toEqual([]);
    expect((await storedRelease(releaseId))?.state).toBe('planned');
    await world.slack.closeView('U0ALICE', topView(world, 'U0ALICE').id);
  });
});

describe('/release when CodePipeline is slow', () => {
  it('opens the modal first and answers in time, then shows the plan the worker read', async () => {
    // Prepare
    await productWaitsAt(world, 'slow', ['a', 'b'], 'StagingQA');
    world.emulator.configure({ latencyMs: 2_000 });

    // Act
    let command: Awaited<ReturnType<typeof release>>;
    try {
      command = await release(world, 'U0CAROL', APPROVALS, 'slow prod');
    } finally {
      world.emulator.configure({ latencyMs: 0 });
    }

    // Assess
    expect(command.elapsedMs).toBeLessThan(3000);
    expect(command.events.map((event) => event.type).filter((type) => type.startsWith('view_'))[0]).toBe('view_opened');
    const modal = topView(world, 'U0CAROL');
    expect(modal.submit).toMatchObject({ text: 'Approve 2' });
    await world.slack.closeView('U0CAROL', modal.id);
  });

  it('answers in time when the pipelines are slow to read though found at once, and shows the plan the worker read', async () => {
    // Prepare: listing is quick; reading each pipeline’s state takes 2.5 s
    await productWaitsAt(world, 'sluggish', ['a', 'b'], 'StagingQA');
    world.emulator.configure({ latencyMs: { GetPipelineState: 2_500 } });

    // Act
    let command: Awaited<ReturnType<typeof release>>;
    try {
      command = await release(world, 'U0CAROL', APPROVALS, 'sluggish prod');
      await world.settle();
    } finally {
      world.emulator.configure({ latencyMs: 0 });
    }

    // Assess: answered within the command's own budget, which leaves Slack's 3 s room for the network
    expect(command.elapsedMs).toBeLessThan(COMMAND_DEADLINES.answerMs + 500);
    expect(command.displayError).toBeUndefined();
    const modal = topView(world, 'U0CAROL');
    expect(modal.submit).toMatchObject({ text: 'Approve 2' });
    await world.slack.closeView('U0CAROL', modal.id);
  });

  it('answers `status` in time and sends the board when the worker has read it', async () => {
    // Prepare
    await productWaitsAt(world, 'lag', ['a'], 'StagingQA');
    const before = world.slack.ephemerals(APPROVALS, 'U0CAROL').length;
    world.emulator.configure({ latencyMs: 2_000 });

    // Act
    let answer: Awaited<ReturnType<typeof release>>;
    try {
      answer = await release(world, 'U0CAROL', APPROVALS, 'lag status');
    } finally {
      world.emulator.configure({ latencyMs: 0 });
    }

    // Assess
    expect(answer.elapsedMs).toBeLessThan(3000);
    const shownToCarol = world.slack.ephemerals(APPROVALS, 'U0CAROL').slice(before);
    expect(shownToCarol.map((e) => e.text)).toEqual([
      'Reading the board of `lag`; it follows here in a moment.',
      expect.stringMatching(/^lag: 1 pipelines?, 1 waiting for approval/),
    ]);
  });
});

describe('/release digest on a big installation', () => {
  it('hands the preview to the worker when there are more pipelines than fit in the 3 s', async () => {
    // Prepare
    await productWaitsAt(world, 'wide', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'], 'StagingDEV');
    const before = world.slack.ephemerals(APPROVALS, 'U0DAVE').length;

    // Act
    const answer = await release(world, 'U0DAVE', APPROVALS, 'digest');

    // Assess
    expect(answer.elapsedMs).toBeLessThan(3000);
    const shown = world.slack.ephemerals(APPROVALS, 'U0DAVE').slice(before);
    expect(shown).toHaveLength(2);
    expect(shown[0]?.text).toMatch(/^Reading \d+ pipelines for the digest preview; it follows here in a moment\.$/);
    expect(shownIn(shown[1] ?? {})).toContain('A preview only you can see');
  });
});
