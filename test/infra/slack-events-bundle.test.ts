import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { HandlerFunction } from '../../infra/constructs/handler-function.ts';
import { serveFunctionUrl } from '../../sandbox/app/function-url-server.ts';
import { signSlackRequest } from '../../sandbox/slack/index.ts';
import { startWorld, type World } from '../../sandbox/world.ts';
import { clickBody, pipelineWaitsForApproval } from '../support/world-helpers.ts';
import { CDK_JSON_CONTEXT } from './synth.ts';

const scratch = mkdtempSync(join(tmpdir(), 'greenlight-slack-bundle-'));
let world: World | undefined;
afterAll(async () => {
  await world?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The slack-events bundle exactly as the stack builds it (Bolt's unused receivers stubbed out). */
function bundleSlackEvents(): string {
  const app = new App({ outdir: join(scratch, 'cdk.out'), context: CDK_JSON_CONTEXT });
  const stack = new Stack(app, 'Bundle');
  const handler = new HandlerFunction(stack, 'slack-events', {
    name: 'slack-events',
    description: 'slack-events',
    memorySize: 128,
    timeout: Duration.seconds(3),
    environment: {},
    logRetention: RetentionDays.ONE_DAY,
  });
  const template = app.synth().getStackByName('Bundle').template;
  const logicalId = stack.getLogicalId(handler.fn.node.defaultChild as CfnFunction);
  const assetHash = String(template.Resources[logicalId].Properties.Code.S3Key).replace(/\.zip$/, '');
  return join(scratch, 'cdk.out', `asset.${assetHash}`, 'index.mjs');
}

describe('the deployed slack-events bundle', () => {
  it('decides an approval from a signed click, with the stubbed-out parts of Bolt never called', async () => {
    // Prepare: the bundle, and a world whose DynamoDB is a table (the bundle has no embedded one)
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const bundle = bundleSlackEvents();
    world = await startWorld({ dataDir: join(scratch, 'dynamo') });
    const approval = await pipelineWaitsForApproval(world, 'bundled-click');
    const { handler } = (await import(bundle)) as { handler: Parameters<typeof serveFunctionUrl>[0] };
    const lambda = await serveFunctionUrl(handler);
    const body = clickBody(world, 'U0ALICE', approval.message, 'approval.approve');
    const timestamp = Math.floor(Date.now() / 1000);

    // Act
    const response = await fetch(`${lambda.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signSlackRequest(process.env.SLACK_SIGNING_SECRET ?? '', timestamp, body),
      },
      body,
    });
    await lambda.close();

    // Assess
    expect(response.status).toBe(200);
    expect(world.emulator.calls('PutApprovalResult')).toHaveLength(1);
    expect(world.slack.messages('C0APPROVALS').find((m) => m.ts === approval.message.ts)?.text).toMatch(/approved/);
  }, 90_000);
});
