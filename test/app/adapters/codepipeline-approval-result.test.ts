import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalIdFor } from '../../../app/adapters/approval-id.ts';
import { CodePipelineGateway } from '../../../app/adapters/codepipeline-gateway.ts';
import { type ApprovalRequest, approvalSummary } from '../../../app/core/approval.ts';
import {
  type CodePipelineEmulator,
  pipelineDefinition,
  startCodePipelineEmulator,
} from '../../../sandbox/codepipeline/index.ts';
import { slackDecision } from '../../support/fakes.ts';

let emulator: CodePipelineEmulator;
let gateway: CodePipelineGateway;
let client: CodePipelineClient;

beforeAll(async () => {
  emulator = await startCodePipelineEmulator();
  client = new CodePipelineClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  gateway = new CodePipelineGateway(() => client);
});
afterAll(async () => emulator?.close());

/** A change waits for approval in StagingDEV of a new pipeline; the request Greenlight would hold for it. */
async function waitingApproval(prefix: string): Promise<ApprovalRequest> {
  const [name] = emulator.createPipelines(prefix, 1);
  if (!name) throw new Error('no pipeline');
  const receivedAt = emulator.now();
  emulator.commit(name, `${name}-c1`);
  await emulator.settle();
  const pending = emulator.pendingApprovals({ pipelineName: name, stageName: 'StagingDEV' })[0];
  if (!pending) throw new Error('no approval waits');
  return {
    id: approvalIdFor(pending.token),
    pipelineName: name,
    stageName: pending.stageName,
    actionName: pending.actionName,
    region: emulator.region,
    token: pending.token,
    expiresAt: pending.expiresAt,
    consoleLink: 'https://console.aws.amazon.com/codesuite/codepipeline/pipelines',
    receivedAt,
  };
}

describe('where an approval stands in CodePipeline (approvalResult, over the wire)', () => {
  it('says an approval still waits', async () => {
    // Prepare
    const request = await waitingApproval('result-pending');
    // Act
    const seen = await gateway.approvalResult(request);
    // Assess
    expect(seen).toEqual({ state: 'pending' });
  });

  it('gives the verdict, the summary CodePipeline kept and who answered, once decided', async () => {
    // Prepare
    const request = await waitingApproval('result-decided');
    const decision = slackDecision('reject', new Date(), { id: 'U0BOB', name: 'Bob', reason: 'flaky checkout' });
    await gateway.putApprovalResult(request, decision, approvalSummary(decision));
    // Act
    const seen = await gateway.approvalResult(request);
    // Assess
    expect(seen).toMatchObject({
      state: 'decided',
      verdict: 'reject',
      summary: 'Rejected by Bob (U0BOB) via Slack: flaky checkout',
    });
    expect(seen.state === 'decided' && seen.updatedBy).toBeTruthy();
  });

  it('says ours was replaced when the action shows another approval since', async () => {
    // Prepare: ours was approved, and the next change now waits at the same action
    const request = await waitingApproval('result-newer');
    const decision = slackDecision('approve', new Date());
    await gateway.putApprovalResult(request, decision, approvalSummary(decision));
    await emulator.settle();
    emulator.commit(request.pipelineName, `${request.pipelineName}-c2`);
    await emulator.settle();
    // Act
    const seen = await gateway.approvalResult(request);
    // Assess
    expect(seen).toEqual({ state: 'replaced' });
  });

  it('still reads an ending from the state when CodePipeline does not say the pipeline’s execution mode', async () => {
    // Prepare: answered in the console; GetPipeline is throttled (a fresh gateway: no mode kept)
    const request = await waitingApproval('result-no-mode');
    emulator.answerInConsole(request.pipelineName, 'StagingDEV', 'Approved', 'LGTM');
    await emulator.settle();
    emulator.failNextCall('GetPipeline', 'ThrottlingException');
    const fresh = new CodePipelineGateway(() => client);
    // Act
    const seen = await fresh.approvalResult(request);
    // Assess: as before the mode was asked, not "cannot tell"
    expect(seen).toMatchObject({ state: 'decided', verdict: 'approve', summary: 'LGTM' });
  });

  it('reads an answer given in the console before a late delivery was taken in as this approval’s', async () => {
    // Prepare: answered in the console; Greenlight takes the notification in two hours later
    const request = await waitingApproval('result-late-ingest');
    emulator.answerInConsole(request.pipelineName, 'StagingDEV', 'Rejected', 'Not this one');
    await emulator.settle();
    const late = {
      ...request,
      notifiedAt: request.receivedAt,
      receivedAt: new Date(request.receivedAt.getTime() + 7_200_000),
    };
    // Act
    const seen = await gateway.approvalResult(late);
    // Assess: its notification's time says it is this approval's answer, not an earlier one's
    expect(seen).toMatchObject({ state: 'decided', verdict: 'reject', summary: 'Not this one' });
  });

  it('cannot tell when the pipeline does not answer', async () => {
    // Act
    const seen = await gateway.approvalResult({
      ...(await waitingApproval('result-gone')),
      pipelineName: 'no-such-pipeline',
    });
    // Assess
    expect(seen).toEqual({ state: 'unknown' });
  });
});

describe('where an approval stands in a PARALLEL pipeline (approvalResult, over the wire)', () => {
  /** A pipeline declared PARALLEL (the emulator declares it, and runs none of its executions) and a request of it. */
  function parallelApproval(name: string, expiresAt: Date): ApprovalRequest {
    emulator.createPipeline({ ...pipelineDefinition(name, { region: emulator.region }), executionMode: 'PARALLEL' });
    const token = `${name}-0000-4000-8000-000000000000`;
    return {
      id: approvalIdFor(token),
      pipelineName: name,
      stageName: 'StagingDEV',
      actionName: 'Approve',
      region: emulator.region,
      token,
      expiresAt,
      consoleLink: 'https://console.aws.amazon.com/codesuite/codepipeline/pipelines',
      receivedAt: emulator.now(),
    };
  }

  it('says the approval waits though the state shows no token of it, asking the mode once', async () => {
    // Prepare: the state shows no execution of ours at the action (another's, in real life)
    const request = parallelApproval('parallel-waits', new Date(Date.now() + 86_400_000));
    emulator.clearCalls();
    // Act
    const seen = [await gateway.approvalResult(request), await gateway.approvalResult(request)];
    // Assess: not "replaced", as a SUPERSEDED pipeline's state would mean
    expect(seen).toEqual([{ state: 'pending' }, { state: 'pending' }]);
    expect(emulator.calls('GetPipeline')).toHaveLength(1);
  });

  it('says it expired once the notification’s expiry has passed', async () => {
    // Prepare
    const request = parallelApproval('parallel-expired', new Date(Date.now() - 60_000));
    // Act
    const seen = await gateway.approvalResult(request);
    // Assess
    expect(seen).toEqual({ state: 'expired' });
  });
});
