import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MessageRef } from '../core/approval.ts';
import type { DigestWindow } from '../core/digest.ts';
import type { DigestMarkers, PostedDigest } from '../core/digest-posting.ts';

const markerKey = (day: string) => ({ pk: `DIGEST#${day}`, sk: 'DIGEST' });

/**
 * The digest's marker items in the approvals table (`DIGEST#<yyyy-mm-dd>` / `DIGEST`), each change
 * one conditional UpdateItem: whoever takes the lease posts; the message, once recorded with the
 * window the digest covered (`coversFrom`, `coversUntil`), ends it. Reads are single GetItems: the
 * next digest starts where the last posted one's window ended.
 */
export class DynamoDigestMarkers implements DigestMarkers {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async lease(day: string, holder: string, until: Date, now: Date): Promise<'leased' | 'posted' | 'busy'> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: markerKey(day),
          UpdateExpression: 'SET leaseHolder = :holder, leaseUntil = :until',
          ConditionExpression:
            'attribute_not_exists(message) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
          ExpressionAttributeValues: { ':holder': holder, ':until': until.toISOString(), ':now': now.toISOString() },
        }),
      );
      return 'leased';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: markerKey(day), ConsistentRead: true }),
      );
      return Item?.message ? 'posted' : 'busy';
    }
  }

  async recordPosted(day: string, message: MessageRef, at: Date, window: DigestWindow): Promise<void> {
    await this.quietly(
      new UpdateCommand({
        TableName: this.tableName,
        Key: markerKey(day),
        UpdateExpression:
          'SET message = :message, postedAt = :at, coversFrom = :from, coversUntil = :until REMOVE leaseHolder, leaseUntil',
        ConditionExpression: 'attribute_not_exists(message)',
        ExpressionAttributeValues: {
          ':message': { channel: message.channel, ts: message.ts },
          ':at': at.toISOString(),
          ':from': window.since.toISOString(),
          ':until': window.until.toISOString(),
        },
      }),
    );
  }

  async posted(day: string): Promise<PostedDigest | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: markerKey(day),
        ProjectionExpression: 'message, postedAt, coversUntil',
        // A digest posted moments ago (a manual run after the scheduled one) must be seen.
        ConsistentRead: true,
      }),
    );
    if (!Item?.message || typeof Item.postedAt !== 'string') return undefined;
    return {
      postedAt: new Date(Item.postedAt),
      ...(typeof Item.coversUntil === 'string' ? { coversUntil: new Date(Item.coversUntil) } : {}),
    };
  }

  async giveBack(day: string, holder: string): Promise<void> {
    await this.quietly(
      new UpdateCommand({
        TableName: this.tableName,
        Key: markerKey(day),
        UpdateExpression: 'REMOVE leaseHolder, leaseUntil',
        ConditionExpression: 'attribute_not_exists(message) AND leaseHolder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      }),
    );
  }

  /** A failed condition means another run got there first: theirs stands. */
  private async quietly(command: UpdateCommand): Promise<void> {
    try {
      await this.db.send(command);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
