import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { ids } from '../../app/views/ids.ts';
import { type CodePipelineEmulator, pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { confirm, release, releaseMessages, shownIn, topView } from '../support/release-world.ts';
import {
  APPROVALS_CHANNEL,
  approvalMessages,
  auditOf,
  buttonsOf,
  currentMessage,
  lastEphemeral,
  messageApprovalId,
  shown,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * One Greenlight, pipelines in other AWS accounts (docs/architecture.md, "Many accounts and
 * regions"): product shop's qa approvals wait in account A (eu-west-1), its prod approvals in two
 * places, account B (us-west-2) and account E (us-east-1); each of them has a shop-cart. Product blog
 * lives in account C, whose role does not trust Greenlight. Every call crosses loopback through the real SDKs: STS's awsQuery for the roles,
 * CodePipeline's awsJson for the approvals, routed to each account by the credentials it is signed with.
 */

const A = { account: '111122223333', region: 'eu-west-1' };
const B = { account: '444455556666', region: 'us-west-2' };
const C = { account: '777788889999', region: 'eu-central-1' };
const D = { account: '121212121212', region: 'ap-southeast-2' };
const E = { account: '135791357913', region: 'us-east-1' };
const role = (account: string, name = 'GreenlightAccess') => `arn:aws:iam::${account}:role/${name}`;

const PRODUCTS = {
  shop: {
    ...A,
    roleArn: role(A.account),
    envs: {
      qa: { stage: 'StagingDEV' },
      // Production in two regions, each in its own account: `/release shop prod` approves both.
      prod: {
        stage: 'StagingQA',
        targets: [
          { ...B, roleArn: role(B.account) },
          { ...E, roleArn: role(E.account) },
        ],
      },
    },
  },
  // The STS of account C knows GreenlightAccess, not this role: it cannot be assumed.
  blog: { ...C, roleArn: role(C.account, 'SomeoneElsesRole') },
  desk: { ...D, roleArn: role(D.account) },
  // Production in account A and in account C, whose role cannot be assumed.
  ops: {
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: {
        stage: 'StagingQA',
        targets: [
          { ...A, roleArn: role(A.account) },
          { ...C, roleArn: role(C.account, 'SomeoneElsesRole') },
        ],
      },
    },
  },
};

let world: World;

beforeAll(async () => {
  world = await startWorld({ accounts: [A, B, C, D, E], env: { PRODUCTS: JSON.stringify(PRODUCTS) } });
});

afterAll(async () => {
  await world?.close();
});

function emulatorOf(place: { account: string; region: string }): CodePipelineEmulator {
  const emulator = world.accounts?.emulators.get(`${place.account}/${place.region}`);
  if (!emulator) throw new Error(`No emulator for ${place.account}/${place.region}`);
  return emulator;
}

/** A commit to `pipelineName` in `place` waits in `stage`; returns Greenlight's message for it. */
async function waitsInAccount(
  place: { account: string; region: string },
  pipelineName: string,
  stage: 'StagingDEV' | 'StagingQA',
): Promise<{ message: SlackMessage; token: string; approvalId: string }> {
  const emulator = emulatorOf(place);
  if (!emulator.board().some((p) => p.pipelineName === pipelineName))
    emulator.createPipeline(
      pipelineDefinition(pipelineName, {
        ...place,
        accountId: place.account,
        // Greenlight's topic, in Greenlight's account: the approvals topic policy lets these accounts publish.
        notificationArn: `arn:aws:sns:${world.emulator.region}:${world.emulator.accountId}:greenlight-approvals`,
      }),
    );
  const executionId = emulator.commit(pipelineName, { revisionId: `${place.account.slice(0, 4)}${Date.now()}` });
  await world.settle();
  if (stage === 'StagingQA') {
    emulator.answerInConsole(pipelineName, 'StagingDEV', 'Approved', 'Tested on DEV');
    await world.settle();
  }
  const pending = emulator
    .pendingApprovals({ pipelineName, stageName: stage })
    .find((approval) => approval.pipelineExecutionId === executionId);
  if (!pending) throw new Error(`${pipelineName} in ${place.account} does not wait in ${stage}`);
  const approvalId = approvalIdFor(pending.token, place);
  const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalId);
  if (!message) throw new Error(`No message for ${pipelineName} in ${place.account}`);
  return { message, token: pending.token, approvalId };
}

/** The role whose credentials signed each PutApprovalResult that reached `place`. */
const approvingRoles = (place: { account: string; region: string }) =>
  emulatorOf(place)
    .calls('PutApprovalResult')
    .map(
      (call) =>
        world.accounts?.sts.issued(call.accessKeyId ?? '')?.roleArn ?? `not an assumed role: ${call.accessKeyId}`,
    );

describe('pipelines in several accounts and regions', () => {
  it('posts one message per account for two shop-carts and approves each through its own role', async () => {
    // Prepare
    const inA = await waitsInAccount(A, 'shop-cart', 'StagingDEV');
    const inB = await waitsInAccount(B, 'shop-cart', 'StagingQA');
    // Act
    const first = await world.slack.click('U0ALICE', APPROVALS_CHANNEL, inA.message.ts, ids.approve);
    const second = await world.slack.click('U0BOB', APPROVALS_CHANNEL, inB.message.ts, ids.approve);
    await world.settle();
    // Assess
    expect(inA.approvalId).not.toBe(inB.approvalId);
    expect(shown(inA.message)).toContain('shop-cart');
    expect(shown(inA.message)).toContain(`${A.account} · ${A.region}`);
    expect(shown(inB.message)).toContain('shop-cart');
    expect(shown(inB.message)).toContain(`${B.account} · ${B.region}`);
    expect(first.elapsedMs).toBeLessThan(3_000);
    expect(second.elapsedMs).toBeLessThan(3_000);
    expect(approvingRoles(A)).toEqual([role(A.account)]);
    expect(approvingRoles(B)).toEqual([role(B.account)]);
    expect(world.emulator.calls('PutApprovalResult')).toHaveLength(0);
    expect(emulatorOf(A).calls('PutApprovalResult')[0]?.input).toMatchObject({ token: inA.token });
    expect(emulatorOf(B).calls('PutApprovalResult')[0]?.input).toMatchObject({ token: inB.token });
    expect(currentMessage(world, inA).text).toBe('shop-cart › StagingDEV: approved');
    expect(currentMessage(world, inB).text).toBe('shop-cart › StagingQA: approved');
    const auditA = await auditOf(inA.approvalId);
    expect(auditA.map((event) => event.approval)).toContainEqual(
      expect.objectContaining({ pipelineName: 'shop-cart', account: A.account, region: A.region }),
    );
    const auditB = await auditOf(inB.approvalId);
    expect(auditB.find((event) => event.type === 'requested')?.approval).toMatchObject(B);
  });

  it('assumes each role once and reuses it while it lasts', async () => {
    // Prepare: the click path assumed A's role for the first approval; a second one waits in A.
    const before = world.accounts?.sts.calls('AssumeRole').length ?? 0;
    const next = await waitsInAccount(A, 'shop-catalog', 'StagingDEV');
    // Act
    await world.slack.click('U0ALICE', APPROVALS_CHANNEL, next.message.ts, ids.approve);
    await world.settle();
    // Assess
    expect(approvingRoles(A)).toEqual([role(A.account), role(A.account)]);
    expect(world.accounts?.sts.calls('AssumeRole').length).toBe(before);
  });

  it('tells the person which account it cannot reach when its role cannot be assumed, and approves nothing there', async () => {
    // Prepare
    const waiting = await waitsInAccount(C, 'blog-web', 'StagingDEV');
    // Act
    const click = await world.slack.click('U0ALICE', APPROVALS_CHANNEL, waiting.message.ts, ids.approve);
    await world.settle();
    // Assess
    expect(click.elapsedMs).toBeLessThan(3_000);
    expect(lastEphemeral(world, 'U0ALICE')?.text).toContain(`AWS account ${C.account}`);
    expect(emulatorOf(C).calls('PutApprovalResult')).toHaveLength(0);
    expect(emulatorOf(C).pendingApprovals({ pipelineName: 'blog-web' })).toHaveLength(1);
    expect(world.accounts?.sts.calls('AssumeRole').filter((call) => !call.ok)).toContainEqual(
      expect.objectContaining({ roleArn: role(C.account, 'SomeoneElsesRole'), error: 'AccessDenied' }),
    );
    // The claim was given back: the message still offers its buttons.
    expect(buttonsOf(currentMessage(world, waiting))).toContain(ids.approve);
  });

  it('releases shop to prod in both places of its prod env, each through its own role', async () => {
    // Prepare: two services wait for prod in account B, a shop-cart in account E; a pipeline of the
    // same name waits for qa in account A.
    const cart = await waitsInAccount(B, 'shop-cart', 'StagingQA');
    const payments = await waitsInAccount(B, 'shop-payments', 'StagingQA');
    const cartInE = await waitsInAccount(E, 'shop-cart', 'StagingQA');
    const inA = await waitsInAccount(A, 'shop-payments', 'StagingDEV');
    const before = emulatorOf(B).calls('PutApprovalResult').length;
    // Act
    await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'shop prod');
    const planned = shownIn(topView(world, 'U0CAROL'));
    await confirm(world, 'U0CAROL');
    // Assess: the confirmation names each shop-cart with its place, and each is approved where it lives.
    expect(planned).toContain(`shop-cart (us-west-2, account ${B.account})`);
    expect(planned).toContain(`shop-cart (us-east-1, account ${E.account})`);
    expect(planned).toContain(`shop-payments (us-west-2, account ${B.account})`);
    const calls = emulatorOf(B).calls('PutApprovalResult').slice(before);
    expect(calls.map((call) => call.input.token).sort()).toEqual([cart.token, payments.token].sort());
    expect(approvingRoles(B).slice(before)).toEqual([role(B.account), role(B.account)]);
    expect(
      emulatorOf(E)
        .calls('PutApprovalResult')
        .map((call) => call.input.token),
    ).toEqual([cartInE.token]);
    expect(approvingRoles(E)).toEqual([role(E.account)]);
    expect(
      emulatorOf(A)
        .pendingApprovals({ pipelineName: 'shop-payments' })
        .map((a) => a.token),
    ).toEqual([inA.token]);
    expect(currentMessage(world, cart).text).toBe('shop-cart › StagingQA: approved');
    expect(currentMessage(world, payments).text).toBe('shop-payments › StagingQA: approved');
    expect(currentMessage(world, cartInE).text).toBe('shop-cart › StagingQA: approved');
    const progress = releaseMessages(world, APPROVALS_CHANNEL).at(-1);
    const lines = shownIn(progress ? (world.slack.workspace.message(APPROVALS_CHANNEL, progress.ts) ?? {}) : {});
    expect(lines).toContain('3/3 approved');
    // Each account's CodePipeline events move its own shop-cart's line on the release's message.
    expect(lines).toContain(`\`shop-cart (us-east-1, account ${E.account})\` · 🚀 reached production`);
    expect(lines).toContain(`\`shop-cart (us-west-2, account ${B.account})\` · 🚀 reached production`);
    const auditE = await auditOf(cartInE.approvalId);
    expect(auditE.find((event) => event.type === 'outcome')?.approval).toMatchObject(E);
  });

  it('backs off where CodePipeline throttles, in that account only, and approves every pipeline there', async () => {
    // Prepare
    const search = await waitsInAccount(B, 'shop-search', 'StagingQA');
    const ratings = await waitsInAccount(B, 'shop-ratings', 'StagingQA');
    const before = emulatorOf(B).calls('PutApprovalResult').length;
    emulatorOf(B).failNextCall('PutApprovalResult', 'ThrottlingException', 3);
    // Act
    await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'shop prod');
    await confirm(world, 'U0CAROL');
    // Assess
    const calls = emulatorOf(B).calls('PutApprovalResult').slice(before);
    expect(calls.filter((call) => call.error === 'ThrottlingException')).toHaveLength(3);
    expect(calls.filter((call) => call.ok).map((call) => call.input.token)).toEqual(
      expect.arrayContaining([search.token, ratings.token]),
    );
    expect(calls.filter((call) => call.ok)).toHaveLength(2);
    expect(world.emulator.calls('PutApprovalResult')).toHaveLength(0);
  });

  it("shows a product's board from every account it lives in, and names the account whose role cannot be assumed", async () => {
    // Prepare
    await waitsInAccount(A, 'shop-wishlist', 'StagingDEV');
    // Act
    const shop = await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'shop status');
    // Nine pipelines in three places: read by the worker and shown through the response URL.
    await world.settle();
    const board = shownIn(lastEphemeral(world, 'U0CAROL') ?? {});
    const blog = await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'blog status');
    // Assess: shop's qa lives in account A, its prod in B and E; the local account has none of them.
    expect(shownIn(shop.ephemerals[0] ?? {})).toContain('Reading the 9 pipelines of *shop*');
    expect(board).toContain('*wishlist · eu-west-1*');
    expect(board).toContain('*cart · eu-west-1*');
    expect(board).toContain('*cart · us-west-2*');
    expect(board).toContain('*cart · us-east-1*');
    expect(world.emulator.board().some((p) => p.pipelineName.startsWith('shop-'))).toBe(false);
    expect(blog.ephemerals[0]?.text).toContain(`AWS account ${C.account}`);
  });

  it('answers a click in time when STS hangs on a cold role, and lets the next click decide', async () => {
    // Prepare: the notification's path has assumed D's role; the click's path has not yet.
    const waiting = await waitsInAccount(D, 'desk-web', 'StagingDEV');
    world.accounts?.sts.setLatency(2_500);
    // Act
    const hung = await world.slack.click('U0ALICE', APPROVALS_CHANNEL, waiting.message.ts, ids.approve);
    world.accounts?.sts.setLatency(0);
    const told = lastEphemeral(world, 'U0ALICE')?.text;
    const next = await world.slack.click('U0ALICE', APPROVALS_CHANNEL, waiting.message.ts, ids.approve);
    await world.settle();
    // Assess
    expect(hung.elapsedMs).toBeLessThan(3_000);
    expect(told).toContain('try again');
    expect(told).toContain(`AWS account ${D.account}`);
    expect(next.elapsedMs).toBeLessThan(3_000);
    expect(approvingRoles(D)).toEqual([role(D.account)]);
    expect(currentMessage(world, waiting).text).toBe('desk-web › StagingDEV: approved');
  });

  it("names the account in /release when the env's role cannot be assumed", async () => {
    // Prepare
    await waitsInAccount(C, 'blog-api', 'StagingDEV');
    // Act
    const answer = await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'blog qa');
    // Assess
    expect(answer.elapsedMs).toBeLessThan(3_000);
    expect(shownIn(topView(world, 'U0CAROL'))).toContain(`AWS account ${C.account}`);
    expect(emulatorOf(C).calls('PutApprovalResult')).toHaveLength(0);
  });

  it('releases nothing of an env one of whose accounts cannot be reached, and names that account', async () => {
    // Prepare: ops-web waits for prod in account A; ops's other prod account, C, refuses its role.
    const waiting = await waitsInAccount(A, 'ops-web', 'StagingQA');
    const before = emulatorOf(A).calls('PutApprovalResult').length;
    // Act
    const answer = await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'ops prod');
    await world.settle();
    const modal = shownIn(topView(world, 'U0CAROL'));
    const status = await release(world, 'U0CAROL', APPROVALS_CHANNEL, 'ops status');
    // Assess
    expect(answer.elapsedMs).toBeLessThan(3_000);
    expect(modal).toContain(`AWS account ${C.account}`);
    expect(status.ephemerals[0]?.text).toContain(`AWS account ${C.account}`);
    expect(emulatorOf(A).calls('PutApprovalResult').slice(before)).toHaveLength(0);
    expect(
      emulatorOf(A)
        .pendingApprovals({ pipelineName: 'ops-web' })
        .map((a) => a.token),
    ).toEqual([waiting.token]);
  });
});
