import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { ids } from '../../app/views/ids.ts';
import { type CodePipelineEmulator, pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import {
  APPROVALS_CHANNEL,
  approvalMessages,
  buttonsOf,
  currentMessage,
  messageApprovalId,
} from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/*
 * CodePipeline's EventBridge events from other AWS accounts (issue #15; docs/architecture.md, "Many
 * accounts and regions"), over loopback through the real SDKs: each account's emulator hands its
 * events, with its own `account` and `region`, to the real pipeline-events handler, as the access
 * stack's forwarding rule puts them on Greenlight's bus. Accounts A and B both have a `shop-cart` in
 * eu-west-1: product shop's qa approvals (StagingDEV) wait in A, its prod approvals (StagingQA) in B.
 */

const A = { account: '111122223333', region: 'eu-west-1' };
const B = { account: '444455556666', region: 'eu-west-1' };
const role = (account: string) => `arn:aws:iam::${account}:role/GreenlightAccess`;

const PRODUCTS = {
  shop: {
    ...A,
    roleArn: role(A.account),
    envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', ...B, roleArn: role(B.account) } },
  },
};

type Place = typeof A;
type Waiting = { message: SlackMessage; approvalId: string; executionId: string };

let world: World;

beforeAll(async () => {
  world = await startWorld({ accounts: [A, B], env: { PRODUCTS: JSON.stringify(PRODUCTS) } });
});

afterAll(async () => {
  await world?.close();
});

function emulatorOf(place: Place): CodePipelineEmulator {
  const emulator = world.accounts?.emulators.get(`${place.account}/${place.region}`);
  if (!emulator) throw new Error(`No emulator for ${place.account}/${place.region}`);
  return emulator;
}

/**
 * `shop-cart` in `place`, with its manual approval only in `stage` (the env that lives there): the
 * other stage's approval would notify Greenlight from an account the configuration does not place it in.
 */
function shopCart(place: Place, stage: 'StagingDEV' | 'StagingQA'): PipelineDeclaration {
  const definition = pipelineDefinition('shop-cart', {
    ...place,
    accountId: place.account,
    notificationArn: `arn:aws:sns:${world.emulator.region}:${world.emulator.accountId}:greenlight-approvals`,
  });
  return {
    ...definition,
    stages: definition.stages?.map((s) =>
      s.name === stage ? s : { ...s, actions: s.actions?.filter((a) => a.actionTypeId?.category !== 'Approval') },
    ),
  };
}

/** A commit to `place`'s shop-cart waits in `stage`; returns Greenlight's message for it. */
async function waitsIn(place: Place, stage: 'StagingDEV' | 'StagingQA'): Promise<Waiting> {
  const emulator = emulatorOf(place);
  if (!emulator.board().some((p) => p.pipelineName === 'shop-cart')) emulator.createPipeline(shopCart(place, stage));
  const executionId = emulator.commit('shop-cart', { revisionId: `${place.account.slice(0, 4)}${Date.now()}` });
  await world.settle();
  const pending = emulator
    .pendingApprovals({ pipelineName: 'shop-cart', stageName: stage })
    .find((approval) => approval.pipelineExecutionId === executionId);
  if (!pending) throw new Error(`shop-cart in ${place.account} does not wait in ${stage}`);
  const approvalId = approvalIdFor(pending.token, place);
  const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalId);
  if (!message) throw new Error(`No message for shop-cart in ${place.account}`);
  return { message, approvalId, executionId };
}

/** The roles whose credentials signed the calls that reached `place` (one entry per call). */
const signers = (place: Place) =>
  new Set(
    emulatorOf(place)
      .calls()
      .map((call) => world.accounts?.sts.issued(call.accessKeyId ?? '')?.roleArn ?? `not a role: ${call.accessKeyId}`),
  );

const reads = (emulator: CodePipelineEmulator) => emulator.calls('GetPipelineState').length;

/** Every reply Greenlight posted in the message's thread, oldest first. */
const threadOf = (waiting: Waiting): string[] =>
  world.slack
    .calls('chat.postMessage')
    .filter((call) => call.args.thread_ts === waiting.message.ts)
    .map((call) => String(call.args.text));

describe('CodePipeline events from other accounts', () => {
  let inA: Waiting;
  let inB: Waiting;

  it('closes the approval answered in A’s console, reading A through A’s role, and leaves B’s shop-cart alone', async () => {
    // Prepare
    inA = await waitsIn(A, 'StagingDEV');
    inB = await waitsIn(B, 'StagingQA');
    const readsOfB = reads(emulatorOf(B));
    // Act: A's change runs on to production after the console's approval, with A's events
    emulatorOf(A).answerInConsole('shop-cart', 'StagingDEV', 'Approved', 'Tested on DEV in A');
    await world.settle();
    // Assess
    const fromA = emulatorOf(A)
      .pipelineEvents()
      .filter((e) => e.detail['execution-id'] === inA.executionId);
    expect(fromA.map((e) => `${e.detail.stage ?? 'pipeline'} ${e.detail.state}`)).toContain('pipeline SUCCEEDED');
    expect(new Set(fromA.map((e) => `${e.account}/${e.region}`))).toEqual(new Set([`${A.account}/${A.region}`]));
    expect(currentMessage(world, inA).text).toBe('shop-cart › StagingDEV: decided elsewhere');
    expect(buttonsOf(currentMessage(world, inA))).toEqual([]);
    expect(buttonsOf(currentMessage(world, inB))).not.toEqual([]);
    expect(reads(emulatorOf(B))).toBe(readsOfB);
    expect(signers(A)).toEqual(new Set([role(A.account)]));
    expect(world.emulator.calls()).toEqual([]);
  });

  it('follows a change approved in Slack in account B into its thread, once each step', async () => {
    // Prepare: B's approval from the test before still waits
    const click = await world.slack.click('U0BOB', APPROVALS_CHANNEL, inB.message.ts, ids.approve);
    expect(click.status).toBe(200);
    // Act: B's events come as it runs, then all of them again
    await world.settle();
    const first = threadOf(inB);
    for (const event of emulatorOf(B).pipelineEvents()) await world.handlers.pipelineEvents(event);
    await world.settle();
    // Assess
    expect(currentMessage(world, inB).text).toBe('shop-cart › StagingQA: approved');
    expect(first).toEqual([
      '⏳ StagingPROD started: deploying shop-cart',
      '✅ StagingPROD succeeded',
      expect.stringMatching(/^🚀 shop-cart reached production, \d+ s after approval$/),
    ]);
    expect(threadOf(inB)).toEqual(first);
    expect(threadOf(inA)).toEqual([]);
    expect(signers(B)).toEqual(new Set([role(B.account)]));
    expect(world.emulator.calls()).toEqual([]);
  });

  it('takes an event of Greenlight’s own account for its own pipelines, not for the other accounts’ shop-carts', async () => {
    // Prepare: a new change waits in A; an ending of a shop-cart in Greenlight's own account
    const waiting = await waitsIn(A, 'StagingDEV');
    const readsOfA = reads(emulatorOf(A));
    const ending = emulatorOf(A)
      .pipelineEvents()
      .find(
        (e) => e['detail-type'] === 'CodePipeline Pipeline Execution State Change' && e.detail.state === 'SUCCEEDED',
      );
    if (!ending) throw new Error('A sent no pipeline ending');
    // Act
    await world.handlers.pipelineEvents({ ...ending, id: crypto.randomUUID(), account: world.emulator.accountId });
    // Assess
    expect(reads(emulatorOf(A))).toBe(readsOfA);
    expect(buttonsOf(currentMessage(world, waiting))).not.toEqual([]);
  });
});
