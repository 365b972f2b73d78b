import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Runs a conditional DynamoDB write and says who won: `won` when it applied, `lost` when its
 * condition failed (someone else got there first). Any other error is thrown.
 */
export async function conditionalWrite<T>(write: () => Promise<unknown>, won: T, lost: T): Promise<T> {
  try {
    await write();
    return won;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return lost;
    throw error;
  }
}
