import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../../sandbox/slack/index.ts';
import type { BoardView } from '../../../sandbox/web/control.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { approvalFor, eventually, jsonApi, textOf } from './helpers.ts';

/**
 * The board's "approve in the AWS console" and "stop execution" controls, through the JSON API the
 * page calls: the Slack message follows CodePipeline without anyone clicking it.
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

type Messages = { messages: SlackMessage[] };

const approvalMessage = (pipelineName: string) =>
  eventually(
    async () => {
      await api.post('/api/settle');
      const { json } = await api.get<Messages>('/api/channels/approvals/messages');
      return approvalFor(json.messages, pipelineName, 'StagingDEV');
    },
    { what: `the approval message of ${pipelineName}` },
  );

const closed = (pipelineName: string) =>
  eventually(
    async () => {
      const message = await approvalMessage(pipelineName);
      return textOf(message).includes('"type":"actions"') ? undefined : message;
    },
    { timeoutMs: 5_000, what: `the message of ${pipelineName} to lose its buttons` },
  );

describe('console controls on the board', () => {
  it('approves in the AWS console, and the Slack message says so', async () => {
    // Prepare
    await api.post('/api/pipelines/blog-web/commit');
    await approvalMessage('blog-web');
    // Act
    const answer = await api.post('/api/pipelines/blog-web/console', { stage: 'StagingDEV', status: 'Approved' });
    // Assess
    expect(answer.status).toBe(200);
    expect(textOf(await closed('blog-web'))).toContain('Approved outside Slack');
  });

  it('stops and abandons the execution waiting in a stage, and the Slack message says it was stopped', async () => {
    // Prepare
    await api.post('/api/pipelines/blog-api/commit');
    await approvalMessage('blog-api');
    // Act
    const stop = await api.post<{ abandon: boolean }>('/api/pipelines/blog-api/stop', { stage: 'StagingDEV' });
    // Assess
    expect(stop).toMatchObject({ status: 200, json: { abandon: true } });
    expect(textOf(await closed('blog-api'))).toContain('*Stopped*');
    const board = await api.get<BoardView>('/api/board');
    const row = board.json.products.flatMap((p) => p.pipelines).find((p) => p.pipelineName === 'blog-api');
    expect(row?.stages.find((s) => s.stageName === 'StagingDEV')?.state).toBe('stopped');
  });

  it('says what is wrong when there is nothing to stop', async () => {
    // Act
    const stop = await api.post('/api/pipelines/shop-payments/stop', { stage: 'StagingPROD' });
    // Assess
    expect(stop.status).toBe(400);
  });
});
