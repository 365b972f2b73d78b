import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { MessageRef } from '../core/approval.ts';
import { mapLimit } from '../core/map-limit.ts';
import type { ItemResult, PlanItem, ReleasePlan, ReleaseRun } from '../core/release.ts';
import type { ReleaseStore } from '../core/release-ports.ts';
import { conditionalWrite } from './conditional-write.ts';

/**
 * ReleaseStore on the approvals table (single-table design), one partition per release:
 * - `RELEASE#<id>` / `RUN`                   who, when, product, env, stage, state, progress message,
 *                                             and `planKey`: which plan chunks are the release's
 * - `RELEASE#<id>` / `PLAN#<key>#<nnnn>`      the plan, 100 pipelines per item (tokens included: server-side only)
 * - `RELEASE#<id>` / `ITEM#<key>`             one pipeline's lease and result (key: core/release.ts itemKey)
 * The plan is written before its `RUN` item, so a release that exists is complete. Each save writes
 * its chunks under a key of its own and never overwrites any: when two saves of one release race (a
 * redelivered plan job that read the pipelines again), the `RUN` item's conditional write picks one
 * plan whole, and a confirmed plan can never change under its release. Every change is a
 * single-item conditional write; one strongly consistent Query reads it all back.
 */
export class DynamoReleaseStore implements ReleaseStore {
  static readonly CHUNK = 100;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async savePlan(plan: ReleasePlan): Promise<'created' | 'exists'> {
    const pk = releaseKey(plan.releaseId);
    const planKey = randomUUID().slice(0, 8);
    const chunks: PlanItem[][] = [];
    for (let i = 0; i < plan.items.length; i += DynamoReleaseStore.CHUNK)
      chunks.push(plan.items.slice(i, i + DynamoReleaseStore.CHUNK));
    await mapLimit(chunks, 4, (items, index) =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, sk: chunkKey(planKey, index), items: toJson(items), ttl: planExpiry() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    const { items: _items, ...header } = plan;
    const item = { pk, sk: 'RUN', ...toJson(header), state: 'planned', planKey, chunkCount: chunks.length };
    const saved = await conditionalWrite(
      () =>
        this.db.send(
          new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
        ),
      'created' as const,
      'exists' as const,
    );
    if (saved === 'exists') await this.dropChunks(pk, planKey, chunks.length);
    return saved;
  }

  /** A losing save's chunks are never read (the `RUN` item names another key): tidy them away. */
  private async dropChunks(pk: string, planKey: string, count: number): Promise<void> {
    await mapLimit(
      Array.from({ length: count }, (_, index) => index),
      4,
      (index) =>
        this.db
          .send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: chunkKey(planKey, index) } }))
          .catch(() => {}),
    );
  }

  async get(releaseId: string): Promise<ReleaseRun | undefined> {
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': releaseKey(releaseId) },
        ConsistentRead: true,
      },
    ))
      items.push(...(page.Items ?? []));
    const header = items.find((item) => item.sk === 'RUN');
    if (!header) return undefined;
    const chunkOfPlan = planChunkTest(header.planKey);
    const planItems = items
      .filter((item) => chunkOfPlan(String(item.sk)))
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
      .flatMap((item) => (item.items as Record<string, unknown>[]).map(toPlanItem));
    const results: Record<string, ItemResult> = {};
    for (const item of items) {
      if (String(item.sk).startsWith('ITEM#') && item.result)
        results[String(item.pipelineName)] = toResult(item.result as Record<string, unknown>);
    }
    const {
      pk: _pk,
      sk: _sk,
      chunkCount: _chunks,
      planKey: _planKey,
      messageLeaseUntil: _messageLease,
      createdAt,
      confirmedAt,
      finishedAt,
      ...rest
    } = header as Record<string, unknown>;
    return {
      ...(rest as unknown as Omit<ReleaseRun, 'createdAt' | 'items' | 'results'>),
      createdAt: date(createdAt),
      ...(confirmedAt ? { confirmedAt: date(confirmedAt) } : {}),
      ...(finishedAt ? { finishedAt: date(finishedAt) } : {}),
      items: planItems,
      results,
    };
  }

  async confirm(releaseId: string, at: Date): Promise<'confirmed' | 'already' | 'not-found'> {
    const won = await this.update({
      Key: runKey(releaseId),
      UpdateExpression: 'SET #state = :confirmed, confirmedAt = :at',
      ConditionExpression: '#state = :planned',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':confirmed': 'confirmed', ':planned': 'planned', ':at': at.toISOString() },
    });
    if (won) return 'confirmed';
    return (await this.get(releaseId)) ? 'already' : 'not-found';
  }

  async leaseMessage(releaseId: string, until: Date, now: Date): Promise<{ firstTakenAt: Date } | false> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(releaseId),
          UpdateExpression:
            'SET messageLeaseUntil = :until, firstMessageLeaseAt = if_not_exists(firstMessageLeaseAt, :now)',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#message) AND (attribute_not_exists(messageLeaseUntil) OR messageLeaseUntil < :now)',
          ExpressionAttributeNames: { '#message': 'message' },
          ExpressionAttributeValues: { ':until': until.toISOString(), ':now': now.toISOString() },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { firstTakenAt: new Date(String(Attributes?.firstMessageLeaseAt ?? now.toISOString())) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  recordMessage(releaseId: string, message: MessageRef): Promise<boolean> {
    return this.update({
      Key: runKey(releaseId),
      UpdateExpression: 'SET #message = :message',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#message)',
      ExpressionAttributeNames: { '#message': 'message' },
      ExpressionAttributeValues: { ':message': { channel: message.channel, ts: message.ts } },
    });
  }

  leaseItem(releaseId: string, key: string, owner: string, until: Date, now: Date): Promise<boolean> {
    return this.update({
      Key: itemKey(releaseId, key),
      // `pipelineName` holds the item's key (the pipeline's name for pipelines in Greenlight's account).
      UpdateExpression: 'SET pipelineName = :name, leaseOwner = :owner, leaseUntil = :until',
      ConditionExpression:
        'attribute_not_exists(#result) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)',
      ExpressionAttributeNames: { '#result': 'result' },
      ExpressionAttributeValues: {
        ':name': key,
        ':owner': owner,
        ':until': until.toISOString(),
        ':now': now.toISOString(),
      },
    });
  }

  async giveItemBack(releaseId: string, key: string, owner: string): Promise<void> {
    await this.update({
      Key: itemKey(releaseId, key),
      UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
      ConditionExpression: 'leaseOwner = :owner AND attribute_not_exists(#result)',
      ExpressionAttributeNames: { '#result': 'result' },
      ExpressionAttributeValues: { ':owner': owner },
    });
  }

  finishItem(releaseId: string, key: string, owner: string, result: ItemResult): Promise<boolean> {
    return this.update({
      Key: itemKey(releaseId, key),
      UpdateExpression: 'SET #result = :result REMOVE leaseOwner, leaseUntil',
      ConditionExpression: 'attribute_not_exists(#result) AND leaseOwner = :owner',
      ExpressionAttributeNames: { '#result': 'result' },
      ExpressionAttributeValues: { ':result': toJson(result), ':owner': owner },
    });
  }

  finishRun(releaseId: string, at: Date): Promise<boolean> {
    return this.update({
      Key: runKey(releaseId),
      UpdateExpression: 'SET #state = :finished, finishedAt = :at',
      ConditionExpression: '#state = :confirmed',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':finished': 'finished', ':confirmed': 'confirmed', ':at': at.toISOString() },
    });
  }

  private update(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    return conditionalWrite(
      () => this.db.send(new UpdateCommand({ TableName: this.tableName, ...input })),
      true,
      false,
    );
  }
}

const releaseKey = (releaseId: string) => `RELEASE#${releaseId}`;
const runKey = (releaseId: string) => ({ pk: releaseKey(releaseId), sk: 'RUN' });
const itemKey = (releaseId: string, key: string) => ({
  pk: releaseKey(releaseId),
  sk: `ITEM#${key}`,
});
/**
 * Plan chunks hold approval tokens, useless once the approvals are answered or expired (7 days by
 * default): DynamoDB's TTL deletes them well after that. The RUN item and the audit events, which
 * hold no tokens, stay.
 */
const PLAN_RETENTION_SECONDS = 35 * 24 * 60 * 60;
const planExpiry = () => Math.floor(Date.now() / 1000) + PLAN_RETENTION_SECONDS;

const chunkKey = (planKey: string, index: number) => `PLAN#${planKey}#${String(index).padStart(4, '0')}`;

/** The chunks of the plan the `RUN` item names; releases saved before plan keys have `PLAN#<nnnn>` only. */
const planChunkTest = (planKey: unknown): ((sk: string) => boolean) =>
  typeof planKey === 'string' ? (sk) => sk.startsWith(`PLAN#${planKey}#`) : (sk) => /^PLAN#\d{4}$/.test(sk);

/** Dates become ISO strings and undefined fields vanish, as DynamoDB wants them. */
const toJson = <T>(value: T): Record<string, unknown> & T => JSON.parse(JSON.stringify(value));

const date = (value: unknown): Date => new Date(String(value));

function toPlanItem(raw: Record<string, unknown>): PlanItem {
  const item = raw as unknown as PlanItem;
  if (item.kind !== 'include') return item;
  const approval = raw.approval as Record<string, unknown>;
  return {
    ...item,
    approval: {
      ...item.approval,
      ...(approval.waitingSince ? { waitingSince: date(approval.waitingSince) } : {}),
    },
  };
}

function toResult(raw: Record<string, unknown>): ItemResult {
  return { ...(raw as unknown as ItemResult), at: date(raw.at) };
}
