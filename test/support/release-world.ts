import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoReleaseStore } from '../../app/adapters/dynamo-release-store.ts';
import { localCredentials, sharedEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import type { ReleaseRun } from '../../app/core/release.ts';
import { ids } from '../../app/views/ids.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { InteractionResult, ModalView, SlackMessage } from '../../sandbox/slack/index.ts';
import type { World } from '../../sandbox/world.ts';

/**
 * Story helpers for release tests: pipelines that wait for approval, `/release` as a person types
 * it, the confirmation modal, and what the release left behind (its message, its record).
 */

export type Stage = 'StagingDEV' | 'StagingQA';

export const revision = () => randomBytes(20).toString('hex');

/**
 * Creates `<product>-<service>` pipelines and brings one commit in each to `stage`, waiting for
 * approval (for StagingQA, DEV is approved in the console first). Returns the pipeline names and
 * the revision each one waits with.
 */
export async function productWaitsAt(
  world: World,
  product: string,
  services: readonly string[],
  stage: Stage,
): Promise<Array<{ pipelineName: string; revisionId: string }>> {
  const waiting = services.map((service) => ({ pipelineName: `${product}-${service}`, revisionId: revision() }));
  for (const { pipelineName, revisionId } of waiting) {
    if (!world.emulator.board().some((p) => p.pipelineName === pipelineName))
      world.emulator.createPipeline(pipelineDefinition(pipelineName, { region: world.emulator.region }));
    world.emulator.commit(pipelineName, { revisionId, summary: `Change to ${pipelineName}` });
  }
  await world.settle();
  if (stage === 'StagingQA') {
    for (const { pipelineName } of waiting) world.emulator.answerInConsole(pipelineName, 'StagingDEV', 'Approved');
    await world.settle();
  }
  return waiting;
}

/** The modal on top of a person's screen. */
export function topView(world: World, user: string): ModalView {
  const view = world.slack.openViews(user).at(-1)?.view;
  if (!view) throw new Error(`${user} has no modal open`);
  return view;
}

/** Everything a modal or message shows, as one string. */
export const shownIn = (what: { text?: string; blocks?: unknown[] } | ModalView): string =>
  `${'text' in what ? (what.text ?? '') : ''}\n${JSON.stringify(what.blocks ?? [])}`;

/** Types `/release <text>` and waits until every job it started is done. */
export async function release(world: World, user: string, channel: string, text: string): Promise<InteractionResult> {
  const result = await world.slack.slashCommand(user, channel, '/release', text);
  await world.settle();
  return result;
}

/** Confirms the release modal on top of the person's screen and waits for the fan-out to end. */
export async function confirm(world: World, user: string): Promise<InteractionResult> {
  const result = await world.slack.submitView(user, topView(world, user).id);
  await world.settle();
  return result;
}

/** The release progress messages of a channel, oldest first. */
export const releaseMessages = (world: World, channel: string): SlackMessage[] =>
  world.slack.messages(channel).filter((m) => m.metadata?.event_type === ids.releaseMetadataEvent);

export const releaseIdOf = (message: SlackMessage): string => String(message.metadata?.event_payload.release_id);

let store: DynamoReleaseStore | undefined;
let table: { db: DynamoDBDocumentClient; name: string } | undefined;

async function releaseTable(): Promise<{ db: DynamoDBDocumentClient; name: string }> {
  if (!table) {
    const dynamo = await sharedEmbeddedDynamo();
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: localCredentials });
    table = { db: DynamoDBDocumentClient.from(client), name: dynamo.tableName };
  }
  return table;
}

/** The release as stored in the process's embedded DynamoDB. */
export async function storedRelease(releaseId: string): Promise<ReleaseRun | undefined> {
  const { db, name } = await releaseTable();
  store ??= new DynamoReleaseStore(db, name);
  return store.get(releaseId);
}

/**
 * Changes the stored plan behind the release's back (what a store that overwrote plans did): each
 * item of its chunks goes through `change`.
 */
export async function tamperWithStoredPlan(
  releaseId: string,
  change: (item: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  const { db, name } = await releaseTable();
  const { Items = [] } = await db.send(
    new QueryCommand({
      TableName: name,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :plan)',
      ExpressionAttributeValues: { ':pk': `RELEASE#${releaseId}`, ':plan': 'PLAN#' },
    }),
  );
  for (const chunk of Items)
    await db.send(
      new PutCommand({
        TableName: name,
        Item: { ...chunk, items: (chunk.items as Record<string, unknown>[]).map(change) },
      }),
    );
}

/** The stage's latest action run status of each pipeline's approval, read from the emulator's board. */
export function stageStateOf(world: World, pipelineName: string, stage: string): string | undefined {
  return world.emulator
    .board()
    .find((p) => p.pipelineName === pipelineName)
    ?.stages.find((s) => s.stageName === stage)?.state;
}

/**
 * A releasing pipeline's Greenlight action runs (CodePipeline creates its job): the event Lambda
 * invokes release-action with. `userParameters` as the pipeline's definition holds them.
 */
export function releasingJob(world: World, userParameters: string, continuationToken?: string) {
  return world.emulator.jobs.start({
    configuration: { FunctionName: 'release-action', UserParameters: userParameters },
    ...(continuationToken === undefined ? {} : { continuationToken }),
  });
}
