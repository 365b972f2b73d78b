import {
  ActionNotFoundException,
  ApprovalAlreadyCompletedException,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidApprovalTokenException,
  PipelineNotFoundException,
  PutApprovalResultCommand,
  type PutApprovalResultCommandInput,
  StageNotFoundException,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import type { SNSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, pendingToken, startEmulator } from './emulator-fixture.ts';

const PIPELINE = 'shop-cart';
const DAY_MS = 24 * 60 * 60 * 1000;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STARTED = new Date('2016-07-07T20:12:34.567Z');

describe('CodePipeline emulator: manual approvals', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  /** One pipeline whose DEV approval waits for revision c1. */
  async function waitingForApproval(options: Parameters<typeof startEmulator>[0] = {}) {
    world = await startEmulator({ clock: () => STARTED, ...options });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));
    const pipelineExecutionId = world.emulator.commit(PIPELINE, { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();
    const pending = await pendingToken(world.client, PIPELINE, 'StagingDEV');
    const answer = (overrides: Partial<PutApprovalResultCommandInput> = {}) =>
      world.client.send(
        new PutApprovalResultCommand({
          pipelineName: PIPELINE,
          stageName: 'StagingDEV',
          actionName: pending.actionName,
          token: pending.token,
          result: { status: 'Approved', summary: 'Looks good' },
          ...overrides,
        }),
      );
    return { ...pending, pipelineExecutionId, answer };
  }

  async function approvalAction(stageName: string) {
    const state = await world.client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    return state.stageStates
      ?.find((s) => s.stageName === stageName)
      ?.actionStates?.find((a) => a.actionName === 'Approve');
  }

  it('approves: the action succeeds, records who and why, and the token disappears', async () => {
    // Prepare
    const { answer } = await waitingForApproval();

    // Act
    const { approvedAt } = await answer();
    await world.emulator.settle();

    // Assess
    expect(approvedAt).toEqual(STARTED);
    expect((await approvalAction('StagingDEV'))?.latestExecution).toMatchObject({
      status: 'Succeeded',
      summary: 'Looks good',
      lastUpdatedBy: 'arn:aws:iam::123456789012:user/x',
    });
    expect((await approvalAction('StagingDEV'))?.latestExecution?.token).toBeUndefined();
    expect(world.emulator.pendingApprovals()).toMatchObject([{ stageName: 'StagingQA', revisionId: 'c1' }]);
  });

  it('rejects: the action, stage and execution fail', async () => {
    // Prepare
    const { answer, pipelineExecutionId } = await waitingForApproval();

    // Act
    await answer({ result: { status: 'Rejected', summary: 'Broken checkout' } });
    await world.emulator.settle();

    // Assess
    const state = await world.client.send(new GetPipelineStateCommand({ name: PIPELINE }));
    const dev = state.stageStates?.find((s) => s.stageName === 'StagingDEV');
    expect(dev?.latestExecution).toEqual({ pipelineExecutionId, status: 'Failed' });
    expect(dev?.actionStates?.[2]?.latestExecution).toMatchObject({ status: 'Failed', summary: 'Broken checkout' });
    const { pipelineExecution } = await world.client.send(
      new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId }),
    );
    expect(pipelineExecution?.status).toBe('Failed');
    expect(world.emulator.pendingApprovals()).toEqual([]);
  });

  it.each([
    ['a token it never issued', { token: '0b9c2e4a-5d1f-4c3b-9a7e-2f6d8c1b3a5e' }, InvalidApprovalTokenException],
    ['an unknown pipeline', { pipelineName: 'shop-nothing' }, PipelineNotFoundException],
    ['an unknown stage', { stageName: 'StagingUAT' }, StageNotFoundException],
    ['an unknown action', { actionName: 'Sign' }, ActionNotFoundException],
    [
      'a summary over 512 characters',
      { result: { status: 'Approved' as const, summary: 'x'.repeat(513) } },
      ValidationException,
    ],
    [
      'a status other than Approved or Rejected',
      { result: { status: 'Maybe' as never, summary: 'hm' } },
      ValidationException,
    ],
    ['a malformed pipeline name', { pipelineName: 'shop cart!' }, ValidationException],
    ['a token that is not a UUID', { token: 'not-a-token' }, ValidationException],
  ])('refuses %s with the SDK’s own error class', async (_case, overrides, ErrorClass) => {
    // Prepare
    const { answer } = await waitingForApproval();

    // Act
    const refused = answer(overrides);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ErrorClass);
    expect(world.emulator.pendingApprovals()).toHaveLength(1);
  });

  it('accepts a summary of exactly 512 characters', async () => {
    // Prepare
    const { answer } = await waitingForApproval();

    // Act
    const answered = answer({ result: { status: 'Approved', summary: 'x'.repeat(512) } });

    // Assess
    await expect(answered).resolves.toMatchObject({ approvedAt: STARTED });
  });

  it('answers an already answered token with ApprovalAlreadyCompletedException', async () => {
    // Prepare
    const { answer } = await waitingForApproval();
    await answer();

    // Act
    const again = answer({ result: { status: 'Rejected', summary: 'too late' } });

    // Assess
    await expect(again).rejects.toBeInstanceOf(ApprovalAlreadyCompletedException);
    expect(world.emulator.calls('PutApprovalResult').map((c) => c.error ?? 'ok')).toEqual([
      'ok',
      'ApprovalAlreadyCompletedException',
    ]);
  });

  it('expires an approval after seven days: the action fails and the token is invalid', async () => {
    // Prepare
    const { answer } = await waitingForApproval();
    world.emulator.advanceClock(7 * DAY_MS - 60_000);
    const stillPending = world.emulator.pendingApprovals().length;

    // Act
    world.emulator.advanceClock(60_000);
    await world.emulator.settle();

    // Assess
    expect(stillPending).toBe(1);
    expect(world.emulator.pendingApprovals()).toEqual([]);
    expect((await approvalAction('StagingDEV'))?.latestExecution).toMatchObject({ status: 'Failed' });
    await expect(answer()).rejects.toBeInstanceOf(InvalidApprovalTokenException);
    expect(world.emulator.board('shop')[0]?.stages[2]).toMatchObject({ revisionId: 'c1', state: 'failed' });
  });

  it('honours an approval action’s own timeoutInMinutes', async () => {
    // Prepare
    world = await startEmulator({ clock: () => STARTED });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE, { approvalTimeoutInMinutes: 60 }));
    world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();

    // Act
    world.emulator.advanceClock(60 * 60_000);

    // Assess
    expect(world.emulator.pendingApprovals()).toEqual([]);
  });
});

describe('CodePipeline emulator: approval notifications', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it('delivers the SNS event with the approval JSON CodePipeline publishes', async () => {
    // Prepare
    const delivered: SNSEvent[] = [];
    world = await startEmulator({ clock: () => STARTED, onApprovalNotification: (event) => delivered.push(event) });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE, { accountId: '123456789012' }));

    // Act
    world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();

    // Assess
    expect(delivered).toHaveLength(1);
    const record = delivered[0]?.Records[0];
    expect(record).toMatchObject({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      Sns: {
        Type: 'Notification',
        TopicArn: 'arn:aws:sns:us-east-2:123456789012:greenlight-approvals',
        Subject: 'APPROVAL NEEDED: AWS CodePipeline shop-cart for action Approve',
        Timestamp: '2016-07-07T20:12:34.567Z',
        MessageAttributes: {},
      },
    });
    expect(record?.EventSubscriptionArn).toMatch(/^arn:aws:sns:us-east-2:123456789012:greenlight-approvals:/);
    expect(record?.Sns.MessageId).toMatch(UUID_V4);
    const message = JSON.parse(record?.Sns.Message ?? '{}');
    const token = message.approval.token;
    expect(token).toMatch(UUID_V4);
    expect(message.approval.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    const consoleLink =
      'https://console.aws.amazon.com/codesuite/codepipeline/pipelines/shop-cart/view?region=us-east-2';
    expect(message).toEqual({
      region: 'us-east-2',
      consoleLink,
      approval: {
        pipelineName: 'shop-cart',
        stageName: 'StagingDEV',
        actionName: 'Approve',
        token,
        expires: '2016-07-14T20:12Z',
        externalEntityLink: 'https://shop-cart.dev.example.com',
        approvalReviewLink: `${consoleLink}#/StagingDEV/Approve/approve/${token}`,
        customData: 'Test shop-cart in DEV, then approve or reject within seven days.',
      },
    });
    expect(Object.keys(message.approval)).toEqual([
      'pipelineName',
      'stageName',
      'actionName',
      'token',
      'expires',
      'externalEntityLink',
      'approvalReviewLink',
      'customData',
    ]);
    expect((await pendingToken(world.client, PIPELINE, 'StagingDEV')).token).toBe(token);
  });

  it('sends externalEntityLink and customData as null when the action does not configure them', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.createPipeline(pipelineDefinition(PIPELINE, { customData: null, externalEntityLink: null }));

    // Act
    world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();

    // Assess
    const raw = world.emulator.notifications()[0]?.Records[0]?.Sns.Message ?? '{}';
    const message = JSON.parse(raw);
    expect(message.approval).toMatchObject({ externalEntityLink: null, customData: null });
    // Where real notifications put them: between expires and approvalReviewLink, and last.
    expect(raw).toMatch(
      /"expires":"[^"]+","externalEntityLink":null,"approvalReviewLink":"[^"]+","customData":null\}\}$/,
    );
  });

  it.each([
    // A captured subject: pipeline names over 24 characters keep 24 and get "..." (see notification.ts).
    [
      'vrathore-slack-test2-sandbox-pipeline',
      'ManualApproval',
      'APPROVAL NEEDED: AWS CodePipeline vrathore-slack-test2-san... for action ManualApproval',
    ],
    [
      'shop-cart-1234567890abcde',
      'Approve',
      'APPROVAL NEEDED: AWS CodePipeline shop-cart-1234567890abcd... for action Approve',
    ],
    [
      'shop-cart-1234567890abcd',
      'Approve',
      'APPROVAL NEEDED: AWS CodePipeline shop-cart-1234567890abcd for action Approve',
    ],
  ])('shortens pipeline %s in the SNS subject as CodePipeline does', async (pipelineName, actionName, subject) => {
    // Prepare
    world = await startEmulator();
    const definition = pipelineDefinition(pipelineName);
    for (const stage of definition.stages ?? [])
      for (const action of stage.actions ?? []) if (action.name === 'Approve') action.name = actionName;
    world.emulator.createPipeline(definition);

    // Act
    world.emulator.commit(pipelineName, 'c1');
    await world.emulator.settle();

    // Assess
    expect(world.emulator.notifications()[0]?.Records[0]?.Sns.Subject).toBe(subject);
  });

  it('keeps the subject within SNS’s 100 characters however long the names are', async () => {
    // Prepare
    world = await startEmulator();
    const pipelineName = 'p'.repeat(100);
    const definition = pipelineDefinition(pipelineName);
    for (const stage of definition.stages ?? [])
      for (const action of stage.actions ?? []) if (action.name === 'Approve') action.name = 'a'.repeat(100);
    world.emulator.createPipeline(definition);

    // Act
    world.emulator.commit(pipelineName, 'c1');
    await world.emulator.settle();

    // Assess
    const subject = world.emulator.notifications()[0]?.Records[0]?.Sns.Subject ?? '';
    expect(subject).toBe(`APPROVAL NEEDED: AWS CodePipeline ${'p'.repeat(24)}... for action ${'a'.repeat(24)}...`);
    expect(subject.length).toBeLessThanOrEqual(100);
  });

  it('delivers a notification again when asked to behave at-least-once, and logs handler errors', async () => {
    // Prepare
    const logged: string[] = [];
    const messageIds: string[] = [];
    world = await startEmulator({
      notificationDeliveries: 2,
      log: (message) => logged.push(message),
      onApprovalNotification: async (event) => {
        messageIds.push(event.Records[0]?.Sns.MessageId ?? '');
        throw new Error('Slack is down');
      },
    });
    world.emulator.createPipeline(pipelineDefinition(PIPELINE));

    // Act
    world.emulator.commit(PIPELINE, 'c1');
    await world.emulator.settle();

    // Assess
    expect(messageIds).toHaveLength(2);
    expect(messageIds[0]).toBe(messageIds[1]);
    expect(logged).toEqual([
      'codepipeline emulator: approval notification handler failed',
      'codepipeline emulator: approval notification handler failed',
    ]);
    expect(world.emulator.pendingApprovals()).toHaveLength(1);
  });
});
