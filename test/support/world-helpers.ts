import { randomBytes, randomUUID } from 'node:crypto';
import {
  CodePipelineClient,
  GetPipelineStateCommand,
  type GetPipelineStateOutput,
  type PipelineDeclaration,
  PutApprovalResultCommand,
} from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { DynamoApprovalStore } from '../../app/adapters/dynamo-approval-store.ts';
import { localCredentials, sharedEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import type { AuditEvent } from '../../app/core/audit.ts';
import { ids } from '../../app/views/ids.ts';
import { type ApprovalNotification, pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import { snsApprovalEvent } from '../../sandbox/codepipeline/notification.ts';
import { findButton } from '../../sandbox/slack/block-kit.ts';
import type { Ephemeral, Person, SlackMessage } from '../../sandbox/slack/index.ts';
import { signSlackRequest } from '../../sandbox/slack/index.ts';
import { blockActionsPayload, interactionBody } from '../../sandbox/slack/people.ts';
import { SANDBOX_CHANNELS, type World } from '../../sandbox/world.ts';

/**
 * Small story helpers for end-to-end tests of the approval loop: they drive the world (CodePipeline
 * emulator, Slack simulator, the real handlers) the way people and pipelines do, and read what the
 * app left behind (Slack messages, ephemerals, the audit trail in DynamoDB).
 */

export const APPROVALS_CHANNEL = SANDBOX_CHANNELS.approvals;

export type StageName = 'StagingDEV' | 'StagingQA';

/** One approval CodePipeline is waiting for, and where Greenlight shows it. */
export interface WaitingApproval {
  pipelineName: string;
  stageName: StageName;
  /** Secret: tests use it only to look for leaks and to find the approval's id. */
  token: string;
  approvalId: string;
  /** The notification CodePipeline published for it (what SNS delivers to the handler). */
  event: SNSEvent;
  /** The approval message in the approvals channel, as it was right after posting. */
  message: SlackMessage;
}

/**
 * A commit reaches `stage` of `pipelineName` and waits for a manual approval: Greenlight got the
 * notification and posted its message. For StagingQA, the DEV approval is answered in the console
 * first (as someone who has not installed Greenlight yet would). Creates the pipeline if needed.
 */
export async function pipelineWaitsForApproval(
  world: World,
  pipelineName: string,
  stageName: StageName = 'StagingDEV',
): Promise<WaitingApproval> {
  ensurePipeline(world, pipelineName);
  const executionId = world.emulator.commit(pipelineName, {
    revisionId: revisionId(),
    summary: `Change to ${pipelineName}`,
  });
  await world.settle();
  if (stageName === 'StagingQA') {
    world.emulator.answerInConsole(pipelineName, 'StagingDEV', 'Approved', 'Tested on DEV');
    await world.settle();
  }
  const token = pendingToken(world, pipelineName, stageName, executionId);
  const approvalId = approvalIdFor(token);
  const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalId);
  if (!message) throw new Error(`Greenlight posted no message for ${pipelineName} › ${stageName}`);
  const event = world.emulator.notifications().find((e) => notificationOf(e)?.approval.token === token);
  if (!event) throw new Error(`CodePipeline published no notification for ${pipelineName} › ${stageName}`);
  return { pipelineName, stageName, token, approvalId, event, message };
}

/** An approval CodePipeline is waiting for whose notification has not been delivered to Greenlight yet. */
export interface UndeliveredApproval {
  pipelineName: string;
  token: string;
  approvalId: string;
  /** The SNS event CodePipeline would publish, for the test to deliver (once, twice, concurrently …). */
  event: SNSEvent;
}

/**
 * A commit reaches StagingDEV of a pipeline whose approval notifications the test delivers itself:
 * the pipeline publishes to no topic Greenlight hears, and the event is built exactly as the emulator
 * builds the ones it publishes. This lets a test play SNS: repeat, race or fail the first delivery.
 */
export async function approvalAwaitingDelivery(world: World, pipelineName: string): Promise<UndeliveredApproval> {
  const definition = pipelineDefinition(pipelineName, { region: world.emulator.region });
  const approve = definition.stages?.find((s) => s.name === 'StagingDEV')?.actions?.find((a) => a.name === 'Approve');
  const configuration = { ...approve?.configuration };
  world.emulator.createPipeline(withoutNotifications(definition));
  world.emulator.commit(pipelineName, { revisionId: revisionId(), summary: `Change to ${pipelineName}` });
  await world.settle();
  const pending = world.emulator.pendingApprovals({ pipelineName, stageName: 'StagingDEV' })[0];
  if (!pending) throw new Error(`No approval is pending in ${pipelineName} › StagingDEV`);
  const event = snsApprovalEvent(
    {
      region: world.emulator.region,
      accountId: world.emulator.accountId,
      topicArn: String(configuration.NotificationArn),
      pipelineName,
      stageName: pending.stageName,
      actionName: pending.actionName,
      token: pending.token,
      expiresAt: pending.expiresAt,
      externalEntityLink: configuration.ExternalEntityLink,
      customData: configuration.CustomData,
    },
    world.emulator.now(),
  );
  return { pipelineName, token: pending.token, approvalId: approvalIdFor(pending.token), event };
}

/** Greenlight's approval messages in the approvals channel (tagged with their approval), oldest first. */
export function approvalMessages(world: World): SlackMessage[] {
  return world.slack
    .messages(APPROVALS_CHANNEL)
    .filter((m) => m.bot_id !== undefined && m.metadata?.event_type === ids.metadataEvent);
}

/** The approval message as the channel shows it now. */
export function currentMessage(world: World, approval: Pick<WaitingApproval, 'message'>): SlackMessage {
  const message = world.slack.workspace.message(APPROVALS_CHANNEL, approval.message.ts);
  if (!message) throw new Error(`The approval message ${approval.message.ts} is gone`);
  return message;
}

export const messageApprovalId = (message: SlackMessage): unknown => message.metadata?.event_payload.approval_id;

/** The last ephemeral message `user` got in the approvals channel. */
export function lastEphemeral(world: World, user: string): Ephemeral | undefined {
  return world.slack.ephemerals(APPROVALS_CHANNEL, user).at(-1);
}

/** Everything a message shows, as one string: fallback text and every block. */
export const shown = (message: Pick<SlackMessage, 'text' | 'blocks'>): string =>
  `${message.text}\n${JSON.stringify(message.blocks ?? [])}`;

/** The action ids of the buttons a message shows. */
export function buttonsOf(message: Pick<SlackMessage, 'blocks'>): string[] {
  return (message.blocks ?? []).flatMap((block) =>
    Array.isArray(block.elements)
      ? block.elements.flatMap((element: unknown) =>
          typeof element === 'object' && element !== null && (element as { type?: unknown }).type === 'button'
            ? [String((element as { action_id?: unknown }).action_id)]
            : [],
        )
      : [],
  );
}

// People

/** Adds `n` people to the workspace (in every channel); Slack display names `prefix1`, `prefix2`, … */
export function users(world: World, n: number, prefix = 'tester'): Person[] {
  const start = world.slack.users().length;
  return Array.from({ length: n }, (_, i) =>
    world.slack.workspace.addUser({ id: `U0P${String(start + i).padStart(5, '0')}`, name: `${prefix}${i + 1}` }),
  );
}

// The audit trail

let store: DynamoApprovalStore | undefined;

/** The approvals table the handlers write to: the process's embedded DynamoDB (one per test file). */
export async function auditStore(): Promise<DynamoApprovalStore> {
  if (!store) {
    const dynamo = await sharedEmbeddedDynamo();
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: localCredentials });
    store = new DynamoApprovalStore(DynamoDBDocumentClient.from(client), dynamo.tableName);
  }
  return store;
}

/** The audit trail of one approval, oldest first. */
export async function auditOf(approvalId: string): Promise<AuditEvent[]> {
  return (await auditStore()).eventsForApproval(approvalId);
}

/** The audit trail of every approval of a pipeline (those whose notification CodePipeline published). */
export async function auditFor(world: World, pipelineName: string): Promise<AuditEvent[]> {
  const approvalIds = world.emulator
    .notifications()
    .map(notificationOf)
    .filter((n) => n?.approval.pipelineName === pipelineName)
    .map((n) => approvalIdFor(n?.approval.token ?? ''));
  const events = (await Promise.all([...new Set(approvalIds)].map(auditOf))).flat();
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Audit events that name no approval Greenlight made (tampered input), since `since`. */
export async function unattributedAuditSince(since: Date): Promise<AuditEvent[]> {
  const days = new Set([since.toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)]);
  const events = (await Promise.all([...days].map(async (day) => (await auditStore()).eventsForDay(day)))).flat();
  return events.filter((e) => e.approvalId === 'unknown' && e.at.getTime() >= since.getTime());
}

/** How many audit events the table holds for these approvals and unattributed input since `since`. */
export async function auditCount(approvalIds: readonly string[], since: Date): Promise<number> {
  const attributed = await Promise.all(approvalIds.map(async (id) => (await auditOf(id)).length));
  return attributed.reduce((sum, n) => sum + n, 0) + (await unattributedAuditSince(since)).length;
}

// CodePipeline

/** GetPipelineState through the real SDK, as anyone with the AWS CLI would look. */
export async function pipelineState(world: World, pipelineName: string): Promise<GetPipelineStateOutput> {
  const client = new CodePipelineClient({
    endpoint: world.emulator.url,
    region: world.emulator.region,
    credentials: { accessKeyId: 'observer', secretAccessKey: 'observer' },
  });
  try {
    return await client.send(new GetPipelineStateCommand({ name: pipelineName }));
  } finally {
    client.destroy();
  }
}

/**
 * PutApprovalResult through the real SDK, signed as `accessKeyId` (the emulator names that IAM user
 * as who answered): someone with the AWS CLI, or a Greenlight Lambda's call.
 */
export async function answerApproval(
  world: World,
  approval: Pick<WaitingApproval, 'pipelineName' | 'stageName' | 'token'>,
  accessKeyId: string,
  result: { status: 'Approved' | 'Rejected'; summary: string },
): Promise<void> {
  const client = new CodePipelineClient({
    endpoint: world.emulator.url,
    region: world.emulator.region,
    credentials: { accessKeyId, secretAccessKey: 'cli' },
  });
  try {
    await client.send(
      new PutApprovalResultCommand({
        pipelineName: approval.pipelineName,
        stageName: approval.stageName,
        actionName: 'Approve',
        token: approval.token,
        result,
      }),
    );
  } finally {
    client.destroy();
  }
}

/** The latest status of each stage of a pipeline: `{ StagingDEV: 'Succeeded', StagingQA: 'InProgress', … }`. */
export async function stageStatuses(world: World, pipelineName: string): Promise<Record<string, string | undefined>> {
  const state = await pipelineState(world, pipelineName);
  return Object.fromEntries((state.stageStates ?? []).map((s) => [s.stageName, s.latestExecution?.status]));
}

// Requests Slack did not send

/** A click on a message's button as Slack would send it, for tests that forge or replay the request. */
export function clickBody(world: World, userId: string, message: SlackMessage, actionId: string): string {
  const { workspace } = world.slack;
  const person = workspace.user(userId);
  const channel = workspace.channel(APPROVALS_CHANNEL);
  const button = findButton(message.blocks ?? [], actionId);
  if (!person || !channel || !button) throw new Error(`Cannot build a click of ${actionId} for ${userId}`);
  const payload = blockActionsPayload(
    { team: workspace.team, bot: workspace.bot, verificationToken: 'sim-verification-token' },
    {
      person,
      channel,
      messageTs: message.ts,
      message,
      button,
      value: typeof button.element.value === 'string' ? button.element.value : undefined,
      triggerId: `${workspace.nextSequence()}.forged`,
      responseUrl: 'https://hooks.slack.com/actions/T0GREENLT/forged',
      actionTs: workspace.nextTs(),
    },
  );
  return interactionBody(payload);
}

/** POSTs a body to the app's Request URL with the given signature headers; answers the HTTP status. */
export async function postToApp(
  world: World,
  body: string,
  headers: { timestamp: number; signature?: string; secret?: string },
): Promise<number> {
  const signature =
    headers.signature ??
    signSlackRequest(headers.secret ?? process.env.SLACK_SIGNING_SECRET ?? '', headers.timestamp, body);
  const response = await fetch(world.appUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(headers.timestamp),
      'x-slack-signature': signature,
    },
    body,
  });
  await response.text();
  return response.status;
}

// Internals

function ensurePipeline(world: World, pipelineName: string): void {
  if (world.emulator.board().some((p) => p.pipelineName === pipelineName)) return;
  world.emulator.createPipeline(pipelineDefinition(pipelineName, { region: world.emulator.region }));
}

/** The token of the approval this execution waits for (an earlier execution may hold the stage: use a fresh pipeline). */
function pendingToken(world: World, pipelineName: string, stageName: string, executionId: string): string {
  const pending = world.emulator
    .pendingApprovals({ pipelineName, stageName })
    .find((approval) => approval.pipelineExecutionId === executionId);
  if (!pending) throw new Error(`The commit to ${pipelineName} is not waiting for approval in ${stageName}`);
  return pending.token;
}

function notificationOf(event: SNSEvent): ApprovalNotification | undefined {
  try {
    return JSON.parse(event.Records[0]?.Sns.Message ?? '') as ApprovalNotification;
  } catch {
    return undefined;
  }
}

const revisionId = () => randomBytes(20).toString('hex');

/** The same pipeline, with approval actions that publish to no topic (CodePipeline then sends nothing). */
export function withoutNotifications(definition: PipelineDeclaration): PipelineDeclaration {
  return {
    ...definition,
    stages: definition.stages?.map((stage) => ({
      ...stage,
      actions: stage.actions?.map((action) => {
        if (action.actionTypeId?.category !== 'Approval') return action;
        const { NotificationArn: _topic, ...configuration } = action.configuration ?? {};
        return { ...action, configuration };
      }),
    })),
  };
}

/** Every chat.postMessage Greenlight made for one approval, failed and unanswered ones included. */
export const postsFor = (world: World, approvalId: string) =>
  world.slack.calls('chat.postMessage').filter((call) => {
    const metadata = call.args.metadata as { event_payload?: { approval_id?: unknown } } | undefined;
    return metadata?.event_payload?.approval_id === approvalId;
  });

/**
 * `count` approval notifications as CodePipeline publishes them, one per service pipeline
 * (`burst-service000` …), for a test or bench that delivers them itself.
 */
export function burstOfApprovals(world: World, count: number, publishedAt: Date) {
  const { region, accountId } = world.emulator;
  return Array.from({ length: count }, (_, i) => {
    const token = randomUUID();
    const event = snsApprovalEvent(
      {
        region,
        accountId,
        topicArn: `arn:aws:sns:${region}:${accountId}:greenlight-approvals`,
        pipelineName: `burst-service${String(i).padStart(3, '0')}`,
        stageName: 'StagingDEV',
        actionName: 'Approve',
        token,
        expiresAt: new Date(publishedAt.getTime() + 7 * 86_400_000),
      },
      publishedAt,
    );
    return { event, approvalId: approvalIdFor(token) };
  });
}
