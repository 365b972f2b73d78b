import {
  CodePipelineServiceException,
  CreatePipelineCommand,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidNextTokenException,
  ListPipelineExecutionsCommand,
  ListPipelinesCommand,
  PipelineExecutionNotFoundException,
  PipelineNameInUseException,
  paginateListPipelineExecutions,
  paginateListPipelines,
  StartPipelineExecutionCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineDefinition } from '../../../sandbox/codepipeline/index.ts';
import { type EmulatorFixture, startEmulator } from './emulator-fixture.ts';

const STARTED = new Date('2024-03-01T09:00:00.250Z');

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

describe('CodePipeline emulator: awsJson1_1 wire protocol', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it('answers with epoch-second timestamps and errors as HTTP 400 {__type, message}', async () => {
    // Prepare
    world = await startEmulator({ clock: () => STARTED });
    world.emulator.createPipeline(pipelineDefinition('shop-cart'));
    const call = (operation: string, body: unknown) =>
      fetch(`${world.emulator.url}/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `CodePipeline_20150709.${operation}` },
        body: JSON.stringify(body),
      });

    // Act
    const listed = await call('ListPipelines', {});
    const missing = await call('GetPipelineState', { name: 'shop-nothing' });

    // Assess
    expect(listed.status).toBe(200);
    expect(listed.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect((await listed.json()).pipelines[0]).toMatchObject({ name: 'shop-cart', created: 1709283600.25 });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      __type: 'PipelineNotFoundException',
      message: "Account '123456789012' does not have a pipeline with name 'shop-nothing'",
    });
  });

  it('serves GetPipeline with the declaration and metadata the SDK types describe', async () => {
    // Prepare
    world = await startEmulator({ clock: () => STARTED });
    const declaration = pipelineDefinition('shop-cart');
    world.emulator.createPipeline(declaration);

    // Act
    const { pipeline, metadata } = await world.client.send(new GetPipelineCommand({ name: 'shop-cart' }));

    // Assess
    expect(pipeline).toEqual({ ...declaration, version: 1 });
    expect(metadata).toEqual({
      pipelineArn: 'arn:aws:codepipeline:us-east-2:123456789012:shop-cart',
      created: STARTED,
      updated: STARTED,
    });
  });

  it('creates pipelines over the API and refuses a name in use', async () => {
    // Prepare
    world = await startEmulator();
    const declaration = pipelineDefinition('blog-web');

    // Act
    const created = await world.client.send(new CreatePipelineCommand({ pipeline: declaration }));
    const again = world.client.send(new CreatePipelineCommand({ pipeline: declaration }));

    // Assess
    expect(created.pipeline?.name).toBe('blog-web');
    await expect(again).rejects.toBeInstanceOf(PipelineNameInUseException);
  });

  it('pages through 250 pipelines in name order', async () => {
    // Prepare
    world = await startEmulator();
    const names = world.emulator.createPipelines('big', 250);

    // Act
    const defaultPages = await collect(paginateListPipelines({ client: world.client }, {}));
    const smallPages = await collect(paginateListPipelines({ client: world.client, pageSize: 40 }, {}));

    // Assess
    expect(defaultPages.map((page) => page.pipelines?.length)).toEqual([100, 100, 50]);
    expect(defaultPages.flatMap((page) => page.pipelines?.map((p) => p.name))).toEqual(names);
    expect(smallPages).toHaveLength(7);
    expect(smallPages.flatMap((page) => page.pipelines?.map((p) => p.name))).toEqual(names);
    expect(defaultPages.at(-1)?.nextToken).toBeUndefined();
  });

  it('refuses page sizes over the limit and tokens it did not issue', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.createPipelines('big', 3);

    // Act
    const tooBig = world.client.send(new ListPipelinesCommand({ maxResults: 1001 }));
    const forged = world.client.send(new ListPipelinesCommand({ nextToken: 'forged' }));
    const tooManyExecutions = world.client.send(
      new ListPipelineExecutionsCommand({ pipelineName: 'big-0001', maxResults: 101 }),
    );

    // Assess
    await expect(tooBig).rejects.toBeInstanceOf(ValidationException);
    await expect(forged).rejects.toBeInstanceOf(InvalidNextTokenException);
    await expect(tooManyExecutions).rejects.toBeInstanceOf(ValidationException);
  });

  it('pages through 250 executions newest first', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.createPipeline(pipelineDefinition('shop-cart'));
    const started = Array.from({ length: 250 }, (_, i) => world.emulator.commit('shop-cart', `r${i + 1}`));
    await world.emulator.settle();

    // Act
    const pages = await collect(
      paginateListPipelineExecutions({ client: world.client, pageSize: 100 }, { pipelineName: 'shop-cart' }),
    );

    // Assess
    const summaries = pages.flatMap((page) => page.pipelineExecutionSummaries ?? []);
    expect(pages.map((page) => page.pipelineExecutionSummaries?.length)).toEqual([100, 100, 50]);
    expect(summaries.map((s) => s.pipelineExecutionId)).toEqual([...started].reverse());
    expect(summaries[0]).toMatchObject({
      status: 'InProgress',
      sourceRevisions: [{ actionName: 'Source', revisionId: 'r250' }],
      executionMode: 'SUPERSEDED',
      trigger: { triggerType: 'Webhook' },
    });
    expect(summaries[0]?.startTime).toBeInstanceOf(Date);
    // r1 holds DEV for approval, r250 waits at its transition; everything between was superseded.
    expect(summaries.filter((s) => s.status === 'Superseded')).toHaveLength(248);
  });

  it('filters executions that succeeded in a stage', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.createPipeline(pipelineDefinition('shop-cart'));
    world.emulator.commit('shop-cart', 'c1');
    await world.emulator.settle();
    world.emulator.answerInConsole('shop-cart', 'StagingDEV', 'Approved');
    world.emulator.commit('shop-cart', 'c2');
    await world.emulator.settle();

    // Act
    const { pipelineExecutionSummaries } = await world.client.send(
      new ListPipelineExecutionsCommand({
        pipelineName: 'shop-cart',
        filter: { succeededInStage: { stageName: 'StagingDEV' } },
      }),
    );

    // Assess
    expect(pipelineExecutionSummaries?.map((s) => s.sourceRevisions?.[0]?.revisionId)).toEqual(['c1']);
  });

  it('starts an execution of the latest source revision, once per client request token', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.createPipeline(pipelineDefinition('shop-cart'));
    world.emulator.commit('shop-cart', { revisionId: 'c1', summary: 'Add the cart' });
    await world.emulator.settle();

    // Act
    const first = await world.client.send(
      new StartPipelineExecutionCommand({ name: 'shop-cart', clientRequestToken: 'retry-1' }),
    );
    const retried = await world.client.send(
      new StartPipelineExecutionCommand({ name: 'shop-cart', clientRequestToken: 'retry-1' }),
    );
    await world.emulator.settle();

    // Assess
    expect(retried.pipelineExecutionId).toBe(first.pipelineExecutionId);
    const { pipelineExecution } = await world.client.send(
      new GetPipelineExecutionCommand({ pipelineName: 'shop-cart', pipelineExecutionId: first.pipelineExecutionId }),
    );
    expect(pipelineExecution).toMatchObject({
      pipelineName: 'shop-cart',
      pipelineVersion: 1,
      status: 'InProgress',
      executionMode: 'SUPERSEDED',
      artifactRevisions: [{ name: 'SourceArtifact', revisionId: 'c1', revisionSummary: 'Add the cart' }],
      trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:iam::123456789012:user/x' },
    });
    const unknown = world.client.send(
      new GetPipelineExecutionCommand({
        pipelineName: 'shop-cart',
        pipelineExecutionId: '0b9c2e4a-5d1f-4c3b-9a7e-2f6d8c1b3a5e',
      }),
    );
    await expect(unknown).rejects.toBeInstanceOf(PipelineExecutionNotFoundException);
  });
});

describe('CodePipeline emulator: faults and call log', () => {
  let world: EmulatorFixture;
  afterEach(async () => world.close());

  it('surfaces injected throttling as ThrottlingException when the SDK may not retry', async () => {
    // Prepare
    world = await startEmulator({}, { maxAttempts: 1 });
    world.emulator.seedDemoWorld();
    world.emulator.failNextCall('GetPipelineState', 'ThrottlingException');

    // Act
    const throttled = await world.client
      .send(new GetPipelineStateCommand({ name: 'shop-cart' }))
      .catch((e: unknown) => e);

    // Assess
    expect(throttled).toBeInstanceOf(CodePipelineServiceException);
    expect(throttled).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  });

  it('lets the SDK retry a throttled call by itself', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.seedDemoWorld();
    world.emulator.failNextCall('GetPipelineState', 'ThrottlingException');

    // Act
    const state = await world.client.send(new GetPipelineStateCommand({ name: 'shop-cart' }));

    // Assess
    expect(state.pipelineName).toBe('shop-cart');
    expect(world.emulator.calls('GetPipelineState').map((c) => c.error ?? 'ok')).toEqual(['ThrottlingException', 'ok']);
  });

  it('throttles an operation over its rate limit and leaves the others alone', async () => {
    // Prepare
    world = await startEmulator({ rateLimitPerSecond: { ListPipelines: 1 } }, { maxAttempts: 1 });
    world.emulator.seedDemoWorld();

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => world.client.send(new ListPipelinesCommand({}))),
    );
    const other = await world.client.send(new GetPipelineStateCommand({ name: 'blog-web' }));

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as Error).name)).toEqual(
      Array(4).fill('ThrottlingException'),
    );
    expect(other.pipelineName).toBe('blog-web');
  });

  it('adds latency to every call and records each call with its input and outcome', async () => {
    // Prepare
    world = await startEmulator({ latencyMs: 30, clock: () => STARTED });
    world.emulator.seedDemoWorld();

    // Act
    const startedAt = performance.now();
    await world.client.send(new GetPipelineStateCommand({ name: 'blog-api' }));
    const elapsed = performance.now() - startedAt;
    await world.client.send(new GetPipelineStateCommand({ name: 'blog-nothing' })).catch(() => undefined);

    // Assess
    expect(elapsed).toBeGreaterThanOrEqual(30);
    // Each call names the access key that signed it (which account's role made it).
    expect(world.emulator.calls()).toEqual([
      { operation: 'GetPipelineState', input: { name: 'blog-api' }, at: STARTED, ok: true, accessKeyId: 'x' },
      {
        operation: 'GetPipelineState',
        input: { name: 'blog-nothing' },
        at: STARTED,
        ok: false,
        error: 'PipelineNotFoundException',
        accessKeyId: 'x',
      },
    ]);
  });

  it('seeds the demo products and shows them on the board', async () => {
    // Prepare
    world = await startEmulator();

    // Act
    const names = world.emulator.seedDemoWorld({ activity: true });
    await world.emulator.settle();

    // Assess
    expect(names).toEqual(['shop-cart', 'shop-catalog', 'shop-payments', 'blog-web', 'blog-api']);
    const board = world.emulator.board('shop');
    expect(board.map((p) => p.pipelineName)).toEqual(['shop-cart', 'shop-catalog', 'shop-payments']);
    expect(board[0]?.stages.map((s) => [s.stageName, s.state])).toEqual([
      ['Source', 'succeeded'],
      ['Build', 'succeeded'],
      ['StagingDEV', 'awaiting-approval'],
      ['StagingQA', 'none'],
      ['StagingPROD', 'none'],
    ]);
    expect(world.emulator.pendingApprovals({ stageName: 'StagingDEV' })).toHaveLength(5);
  });

  it('tells change listeners which pipeline changed', async () => {
    // Prepare
    world = await startEmulator();
    world.emulator.seedDemoWorld();
    const changed = new Set<string>();
    world.emulator.onChange(({ pipelineName }) => changed.add(pipelineName));

    // Act
    world.emulator.commit('blog-api', 'b1');
    await world.emulator.settle();

    // Assess
    expect([...changed]).toEqual(['blog-api']);
  });
});
