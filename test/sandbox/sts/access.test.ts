import {
  CodePipelineClient,
  GetPipelineStateCommand,
  PipelineNotFoundException,
  PutApprovalResultCommand,
} from '@aws-sdk/client-codepipeline';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SESSION } from '../../../app/core/access.ts';
import { type CodePipelineEmulator, startCodePipelineEmulator } from '../../../sandbox/codepipeline/index.ts';
import { type AccountRouter, startAccountRouter } from '../../../sandbox/sts/account-router.ts';
import { type StsEmulator, startStsEmulator } from '../../../sandbox/sts/index.ts';

/*
 * The GreenlightAccess role as the emulated AWS enforces it (infra/access-stack.ts): its trust policy
 * allows two role session names, and its permissions allow PutApprovalResult to `greenlight-approve`
 * sessions only, so a reading handler's session is refused as IAM refuses: CodePipeline's
 * AccessDeniedException, naming the assumed role's session. Real SDKs over loopback throughout.
 */

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/GreenlightAccess`;
const EXTERNAL_ID = 'greenlight-test';

let sts: StsEmulator;
let emulator: CodePipelineEmulator;
let home: CodePipelineEmulator;
let router: AccountRouter;
let stsClient: STSClient;

beforeAll(async () => {
  sts = await startStsEmulator({
    roles: [
      {
        roleArn: ROLE,
        externalId: EXTERNAL_ID,
        sessionNames: Object.values(ACCESS_SESSION),
        onlySession: { 'codepipeline:PutApprovalResult': ACCESS_SESSION.approve },
      },
    ],
  });
  emulator = await startCodePipelineEmulator({ accountId: ACCOUNT, region: REGION });
  home = await startCodePipelineEmulator({ accountId: '123456789012', region: REGION });
  router = await startAccountRouter({
    local: home.url,
    places: new Map([[`${ACCOUNT}/${REGION}`, emulator.url]]),
    accountOf: (key) => sts.issued(key)?.account,
    denied: sts.denied,
  });
  stsClient = new STSClient({
    endpoint: sts.url,
    region: REGION,
    credentials: { accessKeyId: 'AKIAGREENLIGHT', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  stsClient?.destroy();
  await router?.close();
  await emulator?.close();
  await home?.close();
  await sts?.close();
});

async function pipelineAs(sessionName: string): Promise<CodePipelineClient> {
  const { Credentials: c } = await stsClient.send(
    new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: sessionName, ExternalId: EXTERNAL_ID }),
  );
  return new CodePipelineClient({
    endpoint: router.url,
    region: REGION,
    maxAttempts: 1,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    },
  });
}

const answer = new PutApprovalResultCommand({
  pipelineName: 'shop-cart',
  stageName: 'StagingDEV',
  actionName: 'Approve',
  token: '6d2b1f6e-0000-4000-8000-000000000000',
  result: { status: 'Approved', summary: 'Approved in Slack' },
});

describe('the GreenlightAccess role in the emulated AWS', () => {
  it('refuses PutApprovalResult to a greenlight-read session as IAM does, and lets it read', async () => {
    // Prepare
    const reader = await pipelineAs(ACCESS_SESSION.read);
    // Act
    const refused = await reader.send(answer).catch((error: unknown) => error);
    const read = await reader.send(new GetPipelineStateCommand({ name: 'shop-cart' })).catch((error: unknown) => error);
    // Assess
    expect(refused).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect((refused as Error).message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/GreenlightAccess/greenlight-read is not authorized to perform: codepipeline:PutApprovalResult on resource: arn:aws:codepipeline:${REGION}:${ACCOUNT}:shop-cart/StagingDEV/Approve because no identity-based policy allows the codepipeline:PutApprovalResult action`,
    );
    // The read reached CodePipeline of that account, which has no such pipeline.
    expect(read).toBeInstanceOf(PipelineNotFoundException);
    reader.destroy();
  });

  it('passes PutApprovalResult of a greenlight-approve session on to CodePipeline', async () => {
    // Prepare
    const approver = await pipelineAs(ACCESS_SESSION.approve);
    // Act
    const answered = await approver.send(answer).catch((error: unknown) => error);
    // Assess
    expect(answered).toBeInstanceOf(PipelineNotFoundException);
    approver.destroy();
  });

  it('will not be assumed under a session name its trust policy does not allow', async () => {
    // Act
    const refused = await pipelineAs('greenlight').catch((error: unknown) => error);
    // Assess
    expect(refused).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(sts.calls('AssumeRole').at(-1)).toMatchObject({ sessionName: 'greenlight', ok: false });
  });
});
