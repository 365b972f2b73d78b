import { describe, expect, it, vi } from 'vitest';
import { InProcessReleaseQueue, MAX_RECEIVES } from '../../../app/adapters/in-process-release-queue.ts';
import type { ReleaseJob } from '../../../app/core/release-ports.ts';
import { processReleaseJobs } from '../../../app/inbound/release-jobs.ts';
import { MemoryMarkers } from '../../support/digest-fakes.ts';
import { approvalRequest, memoryLog, slackDecision } from '../../support/fakes.ts';
import { releaseDeps as setup } from '../../support/release-deps.ts';
import { FakeReader, pipelineSnapshot, token } from '../../support/release-fakes.ts';

const event = (...bodies: string[]) => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i + 1}`, body })),
});

const planJob = (viewId = 'V0PLAN'): ReleaseJob => ({
  kind: 'plan',
  releaseId: 'rel-p1',
  product: 'shop',
  env: 'prod',
  viewId,
  requestedBy: { id: 'U0ALICE', name: 'Alice' },
});

describe('processReleaseJobs', () => {
  it('fails messages it cannot read as release jobs, each logged as an error, so the queue dead-letters them', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const response = await processReleaseJobs(
      deps,
      event('not json', '{"kind":"release"}', '{"kind":"release","releaseId":"rel-1","token":"x"}', '[]'),
    );

    // Assess: never dropped, never thrown; each one is a batch item failure and an error line
    expect(response).toEqual({
      batchItemFailures: ['m1', 'm2', 'm3', 'm4'].map((itemIdentifier) => ({ itemIdentifier })),
    });
    const unreadable = deps.log.entries.filter((entry) => entry.message.startsWith('Could not read a queue message'));
    expect(unreadable.map((entry) => [entry.level, entry.context?.messageId])).toEqual([
      ['error', 'm1'],
      ['error', 'm2'],
      ['error', 'm3'],
      ['error', 'm4'],
    ]);
    expect(deps.log.entries.filter((entry) => entry.message.startsWith('Dropped'))).toEqual([]);
  });

  it('brings a job of another format back as a release job, naming its kind and ids but nothing else it carries', async () => {
    // Prepare: a release job as a newer Greenlight might write it (a field this worker does not know),
    // and a board job with a field it does not know, whose response URL is a credential
    const { deps } = setup();
    const retries: Array<[string, number]> = [];
    deps.queue = { ...deps.queue, retryIn: async (handle, seconds) => void retries.push([handle, seconds]) };
    const secretUrl = 'https://hooks.slack.com/actions/T0GREENLT/1234/s3cr3tpath';
    const received = (body: string, receiptHandle: string, count: number) => ({
      messageId: `msg-${receiptHandle}`,
      body,
      receiptHandle,
      attributes: { ApproximateReceiveCount: String(count) } as never,
    });

    // Act
    const response = await processReleaseJobs(deps, {
      Records: [
        received(JSON.stringify({ kind: 'release', releaseId: 'rel-next', v: 2 }), 'rh-1', 1),
        received(
          JSON.stringify({ kind: 'board', product: 'shop', responseUrl: secretUrl, token: 'AQoDYXdzEJr-token' }),
          'rh-2',
          4,
        ),
      ],
    });

    // Assess: both fail, back after the release backoff (1 minute on the 1st receive, 27 on the 4th) …
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['msg-rh-1', 'msg-rh-2']);
    expect(retries).toEqual([
      ['rh-1', 60],
      ['rh-2', 1620],
    ]);
    // … each logged with what identifies it, and never the URL or the token it carried
    const unreadable = deps.log.entries.filter((entry) => entry.message.startsWith('Could not read a queue message'));
    expect(unreadable.map((entry) => entry.context)).toEqual([
      {
        messageId: 'msg-rh-1',
        receiveCount: 1,
        retryInSeconds: 60,
        problem: 'bad or missing (root)',
        kind: 'release',
        releaseId: 'rel-next',
      },
      {
        messageId: 'msg-rh-2',
        receiveCount: 4,
        retryInSeconds: 1620,
        problem: 'bad or missing (root)',
        kind: 'board',
      },
    ]);
    const lines = deps.log.lines.join('\n');
    expect(lines).toContain('msg-rh-2');
    expect(lines).not.toContain('s3cr3tpath');
    expect(lines).not.toContain('hooks.slack.com');
    expect(lines).not.toContain('AQoDYXdzEJr');
  });

  it('still drops a job whose response URL is not Slack: retrying a refusal cannot help', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    const response = await processReleaseJobs(
      deps,
      event(JSON.stringify({ kind: 'board', product: 'shop', responseUrl: 'https://example.com/hook' })),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(deps.log.entries.map((entry) => [entry.level, entry.message])).toEqual([
      ['warn', 'Dropped a release job whose response URL is not Slack'],
    ]);
  });

  it('settles an approval whose decision is being applied once the claim runs out, as a job delayed until then', async () => {
    // Prepare: Bob's decision holds the approval for another 45 s
    const { deps, sent, delays } = setup();
    const request = approvalRequest();
    await deps.store.saveRequest(request);
    const at = deps.clock();
    const until = new Date(at.getTime() + 45_000);
    await deps.store.claim(request.id, { ...slackDecision('approve', at, { id: 'U0BOB' }), claimId: 'bob', until }, at);

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'settle', approvalId: request.id })));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([{ kind: 'settle', approvalId: request.id }]);
    expect(delays).toEqual([45]);
  });

  it('settles an approval whose action was taken out of its pipeline as gone, read where the pipeline lives', async () => {
    // Prepare: shop-cart was updated meanwhile, and its StagingDEV stage has no ApproveIntoQA any more
    const { deps } = setup();
    const request = approvalRequest();
    await deps.store.saveRequest(request);
    deps.pipelines.answerResult({ state: 'replaced' });
    const reader = new FakeReader().set(pipelineSnapshot('shop-cart', {}));
    const places: unknown[] = [];
    const readerAt = async (place: unknown) => {
      places.push(place);
      return reader;
    };
    // Act
    const response = await processReleaseJobs(
      { ...deps, readerAt },
      event(JSON.stringify({ kind: 'settle', approvalId: request.id })),
    );
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await deps.store.get(request.id))?.outcome).toMatchObject({ kind: 'gone', what: 'action' });
    expect(places).toEqual([request]);
  });

  it('leaves a dead holder’s claim to the reminder schedule while CodePipeline cannot say where the approval stands', async () => {
    // Prepare: Bob's click died a minute ago; CodePipeline's state cannot be read (a role that cannot
    // be assumed, a deleted pipeline)
    const { deps, sent } = setup();
    const request = approvalRequest();
    await deps.store.saveRequest(request);
    const at = new Date(deps.clock().getTime() - 120_000);
    const until = new Date(at.getTime() + 60_000);
    await deps.store.claim(request.id, { ...slackDecision('approve', at, { id: 'U0BOB' }), claimId: 'bob', until }, at);
    deps.pipelines.answerResult({ state: 'unknown' });
    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'settle', approvalId: request.id })));
    // Assess: the claim is kept, and the job is neither retried nor queued again
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await deps.store.get(request.id))?.status).toBe('deciding');
    expect(sent).toEqual([]);
    expect(deps.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('did not say where it stands') }),
    );
  });

  it.each([
    ['null', null],
    ['Records that are no list', { Records: 5 }],
    ['a record that is null', { Records: [null] }],
  ])('answers an event with %s without throwing, and retries nothing', async (_what, bad) => {
    // Prepare
    const { deps, sent } = setup();
    // Act
    const response = await processReleaseJobs(deps, bad as unknown as Parameters<typeof processReleaseJobs>[1]);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([]);
  });

  it('plans a product for the modal, and shows the stored plan again when the job comes twice', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    deps.reader.set(pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c9', token: token(9) } }));
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));

    // Assess
    const shown = deps.reporter.plans.map(({ plan }) =>
      plan.items.map((item) => (item.kind === 'include' ? item.approval.token : item.pipelineName)),
    );
    expect(shown).toEqual([
      [token(1), token(2)],
      [token(1), token(2)],
    ]);
    expect((await deps.releases.get('rel-p1'))?.requestedBy).toEqual({
      id: 'U0ALICE',
      name: 'Alice',
      via: 'slack',
    });
  });

  it('lets a plan go when the person closed the modal meanwhile', async () => {
    // Prepare
    const { deps } = setup();
    deps.reporter.closedViews.add('V0GONE');

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify(planJob('V0GONE'))));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
  });

  it('says in the modal which products there are when the product is gone', async () => {
    // Prepare
    const { deps } = setup();

    // Act
    await processReleaseJobs(deps, event(JSON.stringify({ ...planJob(), product: 'blog' })));

    // Assess
    expect(deps.reporter.problems).toEqual(['There is no product `blog`. Products: `shop`.']);
  });

  it('runs a confirmed release and answers a board request', async () => {
    // Prepare
    const { deps } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());

    // Act
    const response = await processReleaseJobs(
      deps,
      event(
        JSON.stringify({ kind: 'release', releaseId: 'rel-p1' }),
        JSON.stringify({ kind: 'board', product: 'shop', responseUrl: 'https://hooks.slack.com/commands/T0/1/x' }),
      ),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.pipelines.calls.map((call) => call.request.pipelineName)).toEqual(['shop-cart', 'shop-catalog']);
    expect(deps.reporter.responses[0]?.message.text).toBe('shop: 2 pipelines, 2 waiting for approval');
  });

  it('reports a job that failed, and only that one, for SQS to deliver again', async () => {
    // Prepare
    const { deps } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    deps.releases.failLeases = 1;

    // Act
    const response = await processReleaseJobs(
      deps,
      event(
        JSON.stringify({ kind: 'release', releaseId: 'rel-p1' }),
        JSON.stringify({ kind: 'release', releaseId: 'rel-none' }),
      ),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('brings a failed job back after a backoff that triples with each receive, sooner for one someone waits for', async () => {
    // Prepare: reading pipelines fails; a plan (someone waits in Slack) on its 2nd receive, a release on its 3rd
    const { deps } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    deps.releases.failLeases = 1;
    const retries: Array<[string, number]> = [];
    deps.queue = { ...deps.queue, retryIn: async (handle, seconds) => void retries.push([handle, seconds]) };
    const received = (body: string, receiptHandle: string, count: number) => ({
      messageId: receiptHandle,
      body,
      receiptHandle,
      attributes: { ApproximateReceiveCount: String(count) } as never,
    });
    deps.reader.listPipelines = async () => {
      throw new Error('CodePipeline is down');
    };

    // Act
    const response = await processReleaseJobs(deps, {
      Records: [
        received(JSON.stringify({ ...planJob(), releaseId: 'rel-p2' }), 'rh-plan', 2),
        received(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' }), 'rh-release', 3),
      ],
    });

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['rh-plan', 'rh-release']);
    expect(retries).toEqual([
      ['rh-plan', 15],
      ['rh-release', 540],
    ]);
  });

  it('hands the rest of a release to a new job when its Lambda runs out of time', async () => {
    // Prepare
    const { deps, sent } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' })), {
      getRemainingTimeInMillis: () => 10_000,
    });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.pipelines.calls).toEqual([]);
    expect(sent).toEqual([{ kind: 'release', releaseId: 'rel-p1' }]);
  });
});

describe('processReleaseJobs near the Lambda timeout', () => {
  it('queues the rest of a release before it waits for a pipeline in flight, so a Lambda that times out meanwhile loses nothing', async () => {
    // Prepare: the first pipeline's PutApprovalResult never answers; the Lambda reaches its stop
    // margin 50 ms after the job starts
    const { deps, sent } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    let started = false;
    deps.pipelines.putApprovalResult = () => {
      started = true;
      return new Promise<void>(() => {});
    };
    const startedAt = Date.now();
    const invocation = {
      getRemainingTimeInMillis: () => deps.settings.stopMarginMs + 50 - (Date.now() - startedAt),
    };

    // Act
    void processReleaseJobs(deps, event(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' })), invocation);

    // Assess: the continuation is on the queue while the Lambda still waits (and would be killed)
    await vi.waitUntil(() => sent.length > 0, { timeout: 2_000 });
    expect(started).toBe(true);
    expect(sent).toEqual([{ kind: 'release', releaseId: 'rel-p1' }]);
  });

  it('queues nothing for a release that is done and only waits for Slack to draw its end', async () => {
    // Prepare: every pipeline approves at once; Slack never answers the progress updates; the stop
    // margin is reached 50 ms into the job
    const { deps, sent } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    deps.reporter.update = () => new Promise<void>(() => {});
    deps.settings.stopMarginMs = 100;
    const startedAt = Date.now();
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    // Act
    const response = await processReleaseJobs(
      { ...deps, sleep },
      event(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' })),
      { getRemainingTimeInMillis: () => 150 - (Date.now() - startedAt) },
    );
    // Assess: finished, and no continuation; the update left undrawn is logged
    expect(response.batchItemFailures).toEqual([]);
    expect((await deps.releases.get('rel-p1'))?.state).toBe('finished');
    expect(sent).toEqual([]);
    expect(deps.log.entries.map((entry) => entry.message)).toContain(
      'Left the release progress message as it was: the invocation is running out of time',
    );
  });

  it('returns in time, once, with the rest queued, when Slack does not answer the final progress update', async () => {
    // Prepare: Slack posts the progress message but never answers its updates
    const { deps, sent } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    deps.reporter.update = () => new Promise<void>(() => {});

    // Act: no time to start anything
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' })), {
      getRemainingTimeInMillis: () => 40_000,
    });

    // Assess: one continuation, and the skipped update is logged
    expect(response.batchItemFailures).toEqual([]);
    expect(sent).toEqual([{ kind: 'release', releaseId: 'rel-p1' }]);
    expect(deps.log.entries.map((entry) => entry.message)).toContain(
      'Left the release progress message as it was: the invocation is running out of time',
    );
  });
});

describe('processReleaseJobs, again and at scale', () => {
  it('shows the stored plan with the modal hash, and reads nothing again, when a plan job comes twice', async () => {
    // Prepare
    const { deps } = setup();
    const job = { ...planJob(), viewHash: '1700000000.00000001' };
    await processReleaseJobs(deps, event(JSON.stringify(job)));
    const reads = deps.reader.reads.length;

    // Act
    await processReleaseJobs(deps, event(JSON.stringify(job)));

    // Assess
    expect(deps.reader.reads).toHaveLength(reads);
    expect(deps.reporter.plans.map((shown) => shown.viewHash)).toEqual(['1700000000.00000001', '1700000000.00000001']);
  });

  it('draws nothing over a confirmed release when its plan job comes again', async () => {
    // Prepare
    const { deps } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    deps.reader.set(pipelineSnapshot('shop-cart', { StagingQA: { revisionId: 'c9', token: token(9) } }));

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify(planJob())));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.reporter.plans).toHaveLength(1);
    const stored = await deps.releases.get('rel-p1');
    expect(stored?.items.map((item) => (item.kind === 'include' ? item.approval.token : ''))).toEqual([
      token(1),
      token(2),
    ]);
  });

  it('brings a release others hold back a minute later as a new job, without failing the message', async () => {
    // Prepare: another delivery holds one pipeline of the release.
    const { deps, sent, delays } = setup();
    await processReleaseJobs(deps, event(JSON.stringify(planJob())));
    await deps.releases.confirm('rel-p1', deps.clock());
    deps.releases.holdLease('rel-p1', 'shop-cart', 'other', new Date('2025-03-04T10:04:00Z'));

    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'release', releaseId: 'rel-p1' })));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(sent).toEqual([{ kind: 'release', releaseId: 'rel-p1' }]);
    expect(delays).toEqual([60]);
  });

  it('answers only Slack response URLs, and drops a job that names another', async () => {
    // Prepare
    const { deps } = setup();
    const board = (responseUrl: string) => JSON.stringify({ kind: 'board', product: 'shop', responseUrl });

    // Act
    const response = await processReleaseJobs(
      deps,
      event(
        board('https://hooks.slack.com/commands/T0/1/x'),
        board('http://127.0.0.1:4390/actions/T0/2/y'),
        board('https://attacker.example/collect'),
        board('https://hooks.slack.com.attacker.example/commands/T0/1/x'),
        board('http://hooks.slack.com/commands/T0/1/x'),
      ),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.reporter.responses.map((r) => r.url)).toEqual([
      'https://hooks.slack.com/commands/T0/1/x',
      'http://127.0.0.1:4390/actions/T0/2/y',
    ]);
    const dropped = deps.log.entries.filter(
      (e) => e.message === 'Dropped a release job whose response URL is not Slack',
    );
    expect(dropped).toHaveLength(3);
    expect(JSON.stringify(dropped)).not.toContain('/collect');
  });

  it('builds the digest preview a command handed over, and answers through its response URL', async () => {
    // Prepare
    const { deps } = setup();
    const url = 'https://hooks.slack.com/commands/T0/9/z';

    // Act
    const response = await processReleaseJobs(
      deps,
      event(JSON.stringify({ kind: 'digest', responseUrl: url, userId: 'U0ALICE' })),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deps.reporter.digests.map((d) => d.url)).toEqual([url]);
    expect(deps.reporter.digests[0]?.digest.products.map((p) => p.name)).toEqual(['shop']);
  });
});

describe('the digest preview a command handed over', () => {
  const url = 'https://hooks.slack.com/commands/T0/9/z';
  const preview = async (deps: ReturnType<typeof setup>['deps']) => {
    await processReleaseJobs(deps, event(JSON.stringify({ kind: 'digest', responseUrl: url, userId: 'U0ALICE' })));
    return deps.reporter.digests.at(-1)?.digest;
  };
  const posted = (markers: MemoryMarkers, day: string, until: string) =>
    markers.recordPosted(day, { channel: 'C0DIGEST', ts: `${day}.1` }, new Date(until), {
      day,
      since: new Date(Date.parse(until) - 86_400_000),
      until: new Date(until),
    });

  it('lists what the next digest would: everything since the last digest, over a weekend too', async () => {
    // Prepare: Tuesday 10:00; the last digest went out on Friday (a long weekend, Monday off)
    const { deps } = setup();
    const markers = new MemoryMarkers();
    deps.digestMarkers = markers;
    await posted(markers, '2025-02-28', '2025-02-28T08:00:00Z');
    // Act
    const digest = await preview(deps);
    // Assess
    expect(digest?.decidedSince).toEqual(new Date('2025-02-28T08:00:00Z'));
    expect(markers.log).toEqual(['recorded 2025-02-28.1']);
  });

  it('lists what was decided since today’s digest once it is out', async () => {
    // Prepare: today's digest went out at 08:00
    const { deps } = setup();
    const markers = new MemoryMarkers();
    deps.digestMarkers = markers;
    await posted(markers, '2025-03-03', '2025-03-03T08:00:00Z');
    await posted(markers, '2025-03-04', '2025-03-04T08:00:00Z');
    // Act
    const digest = await preview(deps);
    // Assess
    expect(digest?.decidedSince).toEqual(new Date('2025-03-04T08:00:00Z'));
  });
});

describe('an unreadable release job on the queue', () => {
  it('is received as many times as the release queue allows, then dead-lettered: never dropped, never retried for ever', async () => {
    // Prepare: the worker's real code behind the queue that mirrors SQS's redrive policy locally
    const { deps } = setup();
    const queue = new InProcessReleaseQueue(deps.log, 1, 1);
    deps.queue = queue;
    const answers: string[][] = [];
    queue.consumeWith(async (sqs) => {
      const response = await processReleaseJobs(deps, sqs);
      answers.push(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      return response;
    });

    // Act: a release job in a format this worker does not read (as after a rollback)
    await queue.send({ kind: 'release', releaseId: 'rel-next', v: 2 } as unknown as ReleaseJob);
    await queue.settle();

    // Assess
    expect(answers).toHaveLength(MAX_RECEIVES);
    for (const failed of answers) expect(failed).toHaveLength(1);
    const unreadable = deps.log.entries.filter((entry) => entry.message.startsWith('Could not read a queue message'));
    expect(unreadable.map((entry) => entry.context?.receiveCount)).toEqual([1, 2, 3, 4, 5]);
    expect(deps.log.entries.filter((entry) => entry.message.includes('dead-lettered'))).toHaveLength(1);
  });
});

describe('InProcessReleaseQueue', () => {
  it('delivers later, never inside send, and again after a failure, up to the release queue’s five receives', async () => {
    // Prepare
    const log = memoryLog();
    const queue = new InProcessReleaseQueue(log, 1);
    const receives: string[] = [];
    queue.consumeWith(async (sqs) => {
      const record = sqs.Records[0];
      receives.push(`${record?.body} #${record?.attributes?.ApproximateReceiveCount}`);
      if (record?.body.includes('rel-bad')) throw new Error('boom');
      return { batchItemFailures: record?.body.includes('rel-retry') ? [{ itemIdentifier: record.messageId }] : [] };
    });

    // Act
    await queue.send({ kind: 'release', releaseId: 'rel-ok' });
    const duringSend = receives.length;
    await queue.send({ kind: 'release', releaseId: 'rel-bad' });
    await queue.send({ kind: 'release', releaseId: 'rel-retry' });
    await queue.settle();

    // Assess
    expect(duringSend).toBe(0);
    expect(queue.idle()).toBe(true);
    expect(receives.filter((r) => r.includes('rel-ok'))).toHaveLength(1);
    expect(receives.filter((r) => r.includes('rel-bad')).map((r) => r.slice(-2))).toEqual([
      '#1',
      '#2',
      '#3',
      '#4',
      '#5',
    ]);
    expect(receives.filter((r) => r.includes('rel-retry'))).toHaveLength(5);
    expect(log.entries.filter((entry) => entry.message.includes('dead-lettered'))).toHaveLength(2);
  });
});

describe('a post job', () => {
  it('posts an approval stored without a message for people to decide, never approving it by the rules it was stored with', async () => {
    // Prepare: a record whose stored rules say auto-approve and whose stored review says it is safe
    const { deps } = setup();
    const request = {
      ...approvalRequest({ pipelineName: 'shop-cart', token: token(7) }),
      policy: {
        key: 'shop/qa',
        product: 'shop',
        env: 'qa',
        approvers: [],
        required: 1,
        separateFrom: [],
        freezes: [],
        breakGlass: [],
        autoApprove: 'safe-changes' as const,
      },
      // A change set that modifies one function in place: what the policy approves on its own
      review: {
        revision: { kind: 'unknown' as const, why: 'not read in this test' },
        changeSet: {
          kind: 'read' as const,
          stackName: 'shop-cart',
          changeSetName: 'pipeline-changeset',
          region: 'eu-central-1',
          counts: { add: 0, modify: 1, remove: 0, other: 0, replace: 0, mayReplace: 0, iam: 0 },
          changes: [{ logicalId: 'Handler', type: 'AWS::Lambda::Function', action: 'Modify' as const }],
          total: 1,
        },
      },
    };
    await deps.store.saveRequest(request);
    const leases: number[] = [];
    const take = deps.store.takePostLease.bind(deps.store);
    deps.store.takePostLease = (id, holder, until, now) => {
      leases.push(until.getTime() - now.getTime());
      return take(id, holder, until, now);
    };
    // Act
    const response = await processReleaseJobs(deps, event(JSON.stringify({ kind: 'post', approvalId: request.id })));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await deps.store.get(request.id))?.message).toBeDefined();
    expect(deps.notifier.announced).toHaveLength(1);
    expect(deps.pipelines.calls).toEqual([]);
    // Held as long as the worker may run, not the notification's 45 s: its posts wait out rate limits longer.
    expect(leases).toEqual([5 * 60_000]);
  });
});
