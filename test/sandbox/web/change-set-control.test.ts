import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../../app/views/ids.ts';
import type { SlackMessage } from '../../../sandbox/slack/index.ts';
import type { ActResult, BoardView, CommitResult } from '../../../sandbox/web/control.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { approvalFor, jsonApi, textOf } from './helpers.ts';

/*
 * The board's "commit with a replacement" (issue #14): a newcomer commits to `orders-api`, approves
 * DEV and QA, and sees the red warning at the change-set gate; an ordinary commit there is approved
 * by Greenlight's policy (the demo's `orders` live env opts into auto-approve).
 */

let sandbox: Sandbox;
let api: ReturnType<typeof jsonApi>;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  sandbox = await startSandbox({ port: 0, actionDelayMs: 0 });
  api = jsonApi(`http://127.0.0.1:${sandbox.web.port}`);
});

afterAll(async () => {
  await sandbox?.close();
});

type Messages = { channel: string; messages: SlackMessage[] };

async function approvalMessage(stageName: string, revisionId: string): Promise<SlackMessage> {
  await api.post('/api/settle');
  const { json } = await api.get<Messages>('/api/channels/approvals/messages');
  const message = [...json.messages]
    .reverse()
    .find((m) => m === approvalFor([m], 'orders-api', stageName) && textOf(m).includes(revisionId));
  if (!message) throw new Error(`No approval message for orders-api › ${stageName}`);
  return message;
}

/** Approves DEV and QA in Slack as alice (the demo's orders product has no rules there). */
async function throughQa(revisionId: string): Promise<SlackMessage> {
  for (const stage of ['StagingDEV', 'StagingQA']) {
    const message = await approvalMessage(stage, revisionId);
    await api.post<ActResult>('/api/act/click', {
      user: 'alice',
      channel: 'approvals',
      ts: message.ts,
      actionId: ids.approve,
    });
  }
  return approvalMessage('StagingPROD', revisionId);
}

describe('the board’s change-set pipeline', () => {
  it('offers "commit with a replacement" on orders-api only', async () => {
    const board = await api.get<BoardView>('/api/board');
    const rows = board.json.products.flatMap((product) => product.pipelines);
    expect(rows.filter((row) => row.changeSetGate).map((row) => row.pipelineName)).toEqual(['orders-api']);
    const refused = await api.post('/api/pipelines/shop-cart/commit', { replacement: true });
    expect(refused.status).toBe(400);
  });

  it('shows the red warning at the gate for a commit with a replacement, and leaves it to a person', async () => {
    const commit = await api.post<CommitResult>('/api/pipelines/orders-api/commit', { replacement: true });
    const message = await throughQa(commit.json.revisionId);
    const text = textOf(message);
    expect(text).toContain(
      ':red_circle: :warning: *1 resource will be replaced:* *OrdersTable* (AWS::DynamoDB::Table)',
    );
    expect(text).toContain('*Auto-approve declined:* 1 replacement: OrdersTable');
    expect(JSON.stringify(message.blocks)).toContain(ids.approve);
  });

  it('lets Greenlight policy approve an ordinary commit at the gate', async () => {
    // Prepare: production's gate is free again (the replacing commit, if any, rejected in the console)
    await api.post('/api/pipelines/orders-api/console', { stage: 'StagingPROD', status: 'Rejected' });
    const commit = await api.post<CommitResult>('/api/pipelines/orders-api/commit');
    const message = await throughQa(commit.json.revisionId);
    expect(textOf(message)).toContain('*Approved* by *Greenlight policy*');
    expect(textOf(message)).toContain('Safe changes: 3 modifications, no replacements');
  });
});
