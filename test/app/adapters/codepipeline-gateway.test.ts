import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ActionNotFoundException,
  ApprovalAlreadyCompletedException,
  CodePipelineClient,
  CodePipelineServiceException,
  InvalidApprovalTokenException,
  PipelineNotFoundException,
  StageNotFoundException,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodePipelineGateway, translate } from '../../../app/adapters/codepipeline-gateway.ts';
import {
  ApprovalExpiredError,
  DecidedElsewhereError,
  GreenlightError,
  InvalidInputError,
  NotPermittedError,
  PipelineGoneError,
  TransientError,
} from '../../../app/core/errors.ts';
import { approvalRequest, slackDecision } from '../../support/fakes.ts';

const ref = { pipelineName: 'shop-cart', stageName: 'StagingDEV', actionName: 'ApproveIntoQA' };
const sdk = { message: 'x', $metadata: {} };

describe('translate', () => {
  it.each([
    ['InvalidApprovalTokenException', new InvalidApprovalTokenException(sdk), ApprovalExpiredError],
    ['ApprovalAlreadyCompletedException', new ApprovalAlreadyCompletedException(sdk), DecidedElsewhereError],
    ['ValidationException', new ValidationException(sdk), InvalidInputError],
  ])('turns %s into the core error, keeping the cause', (_name, error, expected) => {
    // Act
    const translated = translate(ref, error);
    // Assess
    expect(translated).toBeInstanceOf(expected);
    expect(translated).toBeInstanceOf(GreenlightError);
    expect(translated.cause).toBe(error);
    expect(translated.message).toContain('shop-cart/StagingDEV/ApproveIntoQA');
  });

  it.each([
    ['pipeline', new PipelineNotFoundException(sdk)],
    ['stage', new StageNotFoundException(sdk)],
    ['action', new ActionNotFoundException(sdk)],
  ] as const)('says the %s is gone when CodePipeline cannot find it', (what, error) => {
    // Act
    const translated = translate(ref, error);
    // Assess
    expect(translated).toBeInstanceOf(PipelineGoneError);
    expect((translated as PipelineGoneError).what).toBe(what);
    expect(translated.cause).toBe(error);
  });

  it.each([
    [
      'throttling',
      new CodePipelineServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    ],
    [
      'a service error',
      new CodePipelineServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      }),
    ],
    ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' })],
  ])('calls %s a passing failure to try again', (_what, error) => {
    // Act
    const translated = translate(ref, error);
    // Assess
    expect(translated).toBeInstanceOf(TransientError);
    expect(translated.cause).toBe(error);
  });
});

describe('CodePipelineGateway over the wire (awsJson1_1 on loopback)', () => {
  const received: Array<{ target: string | undefined; body: Record<string, unknown> }> = [];
  let answer: { status: number; body: unknown } = { status: 200, body: { approvedAt: 1741083301 } };
  let server: Server;
  let client: CodePipelineClient;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => {
        raw += chunk.toString();
      });
      req.on('end', () => {
        received.push({ target: req.headers['x-amz-target'] as string | undefined, body: JSON.parse(raw) });
        res.writeHead(answer.status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new CodePipelineClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'eu-central-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('answers the approval with its token, the verdict and the summary', async () => {
    // Prepare
    answer = { status: 200, body: { approvedAt: 1741083301 } };
    const request = approvalRequest();
    const regions: string[] = [];
    const gateway = new CodePipelineGateway(({ region }) => {
      regions.push(region);
      return client;
    });
    // Act
    await gateway.putApprovalResult(
      request,
      slackDecision('reject', new Date(), { reason: 'no' }),
      'Rejected by Alice (U0ALICE) via Slack: no',
    );
    // Assess
    expect(regions).toEqual(['eu-central-1']);
    expect(received.at(-1)).toEqual({
      target: 'CodePipeline_20150709.PutApprovalResult',
      body: {
        pipelineName: 'shop-cart',
        stageName: 'StagingDEV',
        actionName: 'ApproveIntoQA',
        token: request.token,
        result: { status: 'Rejected', summary: 'Rejected by Alice (U0ALICE) via Slack: no' },
      },
    });
  });

  it.each([
    ['InvalidApprovalTokenException', ApprovalExpiredError],
    ['ApprovalAlreadyCompletedException', DecidedElsewhereError],
    ['StageNotFoundException', PipelineGoneError],
    ['ThrottlingException', TransientError],
    ['AccessDeniedException', NotPermittedError],
  ])('reports CodePipeline answering %s as the core error', async (type, expected) => {
    // Prepare
    answer = { status: 400, body: { __type: type, message: 'refused' } };
    const gateway = new CodePipelineGateway(() => client);
    // Act
    const error = await gateway
      .putApprovalResult(
        approvalRequest(),
        slackDecision('approve', new Date()),
        'Approved by Alice (U0ALICE) via Slack',
      )
      .catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(expected);
    expect(((error as Error).cause as Error).name).toBe(type);
  });
});
