import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../../app/core/approval.ts';
import type { AuditEvent } from '../../../app/core/audit.ts';
import { AUDIT_DAYS, buildDigest, type DigestDeps } from '../../../app/core/digest.ts';
import { PipelineGoneError, RoleNotAssumedError, TransientError } from '../../../app/core/errors.ts';
import type { ExecutionSummary, PipelineSnapshot } from '../../../app/core/pipeline.ts';
import type { PipelineReader } from '../../../app/core/ports.ts';
import { digestMessages } from '../../../app/views/digest-message.ts';
import { approvalRequest, memoryLog, slackDecision } from '../../support/fakes.ts';
import { MemoryApprovalStore } from '../../support/memory-store.ts';
import { pipelineSnapshot } from '../../support/release-fakes.ts';

const NOW = new Date('2025-03-11T07:00:00Z');
const HOUR = 60 * 60 * 1000;
const ago = (hours: number) => new Date(NOW.getTime() - hours * HOUR);

/** Pipelines as the digest reads them, counting every call; a pipeline can be gone or not answering. */
class CountingReader implements PipelineReader {
  readonly calls: string[] = [];
  readonly #snapshots = new Map<string, PipelineSnapshot | 'gone' | 'busy'>();
  readonly #executions = new Map<string, ExecutionSummary[]>();

  add(snapshot: PipelineSnapshot | { name: string; state: 'gone' | 'busy' }, executions: ExecutionSummary[] = []) {
    this.#snapshots.set(snapshot.name, 'stages' in snapshot ? snapshot : snapshot.state);
    this.#executions.set(snapshot.name, executions);
    return this;
  }

  async listPipelines(prefix: string): Promise<string[]> {
    this.calls.push(`list ${prefix}`);
    return [...this.#snapshots.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  async snapshot(name: string): Promise<PipelineSnapshot> {
    this.calls.push(`snapshot ${name}`);
    const found = this.#snapshots.get(name);
    if (!found || found === 'gone') throw new PipelineGoneError('pipeline', `No pipeline ${name}`);
    if (found === 'busy') throw new TransientError(`CodePipeline did not answer for ${name}`);
    return structuredClone(found);
  }

  async executionsSince(name: string, since: Date): Promise<ExecutionSummary[]> {
    this.calls.push(`executions ${name}`);
    if (this.#snapshots.get(name) === 'busy') throw new TransientError(`CodePipeline did not answer for ${name}`);
    return (this.#executions.get(name) ?? []).filter((e) => e.startTime >= since);
  }
}

/** A store that counts its day queries (the digest must not scan). */
class CountingStore extends MemoryApprovalStore {
  readonly days: string[] = [];
  override async eventsForDay(day: string): Promise<AuditEvent[]> {
    this.days.push(day);
    return super.eventsForDay(day);
  }
}

async function waitingRequest(
  store: MemoryApprovalStore,
  overrides: Partial<ApprovalRequest>,
): Promise<ApprovalRequest> {
  const request = approvalRequest({
    actionName: 'Approve',
    expiresAt: new Date(NOW.getTime() + 3 * 24 * HOUR),
    ...overrides,
  });
  await store.saveRequest(request);
  await store.recordMessage(request.id, { channel: 'C0APPROVALS', ts: `1741600000.${request.id.slice(0, 6)}` });
  return request;
}

const deps = (store: MemoryApprovalStore, reader: PipelineReader): DigestDeps => ({
  store,
  reader,
  clock: () => NOW,
  log: memoryLog(),
  config: { products: {} },
});

describe('building the digest', () => {
  it('lists only approvals CodePipeline still waits for, and counts the rest as out of date', async () => {
    // Prepare
    const store = new MemoryApprovalStore();
    const live = await waitingRequest(store, { pipelineName: 'shop-cart', token: 'live-token', receivedAt: ago(30) });
    await waitingRequest(store, { pipelineName: 'shop-catalog', token: 'answered-in-console', receivedAt: ago(20) });
    await waitingRequest(store, { pipelineName: 'shop-payments', expiresAt: ago(1), receivedAt: ago(7 * 24 + 1) });
    await waitingRequest(store, { pipelineName: 'shop-deleted', receivedAt: ago(3) });
    const unknown = await waitingRequest(store, { pipelineName: 'shop-flaky', receivedAt: ago(2) });
    const reader = new CountingReader()
      .add(pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'c7', token: 'live-token' } }))
      .add(pipelineSnapshot('shop-catalog', { StagingDEV: { revisionId: 'k2', token: 'a-newer-token' } }))
      .add(pipelineSnapshot('shop-payments', { StagingDEV: { revisionId: 'p1', token: 'old-token' } }))
      .add({ name: 'shop-flaky', state: 'busy' });

    // Act
    const digest = await buildDigest(deps(store, reader), NOW);

    // Assess
    expect(digest.waiting.map((w) => w.approvalId)).toEqual([live.id, unknown.id]);
    expect(digest.waiting[0]).toMatchObject({
      pipelineName: 'shop-cart',
      revision: { revisionId: 'c7' },
      requestedAt: ago(30),
      expiresSoon: false,
      message: { channel: 'C0APPROVALS' },
    });
    expect(digest.waiting[1]?.revision).toBeUndefined(); // CodePipeline did not answer: shown as Greenlight knows it
    expect(digest.outdated).toBe(3);
    expect(digest.unreadable).toEqual(['shop-flaky']);
    expect(digest.products[0]?.board.rows.find((r) => r.pipelineName === 'shop-flaky')?.problem).toBeDefined();
    expect(JSON.stringify(digest)).not.toContain('live-token');
  });

  it('flags approvals expiring within a day and shows who is deciding right now', async () => {
    // Prepare
    const store = new MemoryApprovalStore();
    const soon = await waitingRequest(store, {
      pipelineName: 'blog-web',
      token: 't1',
      expiresAt: new Date(NOW.getTime() + 23 * HOUR),
    });
    await store.claim(
      soon.id,
      {
        ...slackDecision('approve', ago(0), { id: 'U0BOB' }),
        claimId: 'c',
        until: new Date(ago(0).getTime() + 60_000),
      },
      ago(0),
    );
    const reader = new CountingReader().add(
      pipelineSnapshot('blog-web', { StagingDEV: { revisionId: 'b1', token: 't1' } }),
    );

    // Act
    const [approval] = (await buildDigest(deps(store, reader), NOW)).waiting;

    // Assess
    expect(approval?.expiresSoon).toBe(true);
    expect(approval?.deciding?.id).toBe('U0BOB');
  });

  it('reads the audit trail one day at a time, and each pipeline once', async () => {
    // Prepare
    const store = new CountingStore();
    const reader = new CountingReader()
      .add(pipelineSnapshot('shop-cart', { StagingPROD: { revisionId: 'c1' } }))
      .add(pipelineSnapshot('shop-catalog', {}))
      .add(pipelineSnapshot('tools', {}));

    // Act
    await buildDigest(deps(store, reader), NOW);

    // Assess: days today back to AUDIT_DAYS ago, each once; product pipelines read once each, `tools` (no product) not
    expect(store.days).toHaveLength(AUDIT_DAYS + 1);
    expect(new Set(store.days).size).toBe(AUDIT_DAYS + 1);
    expect(store.days[0]).toBe('2025-03-11');
    expect(reader.calls.sort()).toEqual([
      'executions shop-cart',
      'executions shop-catalog',
      'list ',
      'snapshot shop-cart',
      'snapshot shop-catalog',
    ]);
  });

  it('tells the decisions of the last 24 hours, newest first, with how long each waited', async () => {
    // Prepare: a request two days ago decided 20 hours ago; another decided 25 hours ago
    const store = new MemoryApprovalStore();
    const event = (id: string, type: AuditEvent['type'], at: Date, extra: Partial<AuditEvent> = {}): AuditEvent => ({
      eventId: `${id}#${type}`,
      type,
      at,
      approvalId: id,
      approval: { pipelineName: 'shop-cart', stageName: 'StagingQA', actionName: 'Approve', region: 'eu-central-1' },
      ...extra,
    });
    const carol = { id: 'U0CAROL', name: 'carol', via: 'slack' as const };
    await store.append(event('a1', 'requested', ago(48)));
    await store.append(event('a1', 'outcome', ago(20), { result: 'rejected', actor: carol, reason: 'Totals wrong' }));
    await store.append(event('a2', 'requested', ago(30)));
    await store.append(event('a2', 'outcome', ago(25), { result: 'approved', actor: carol }));
    await store.append(event('a3', 'requested', ago(5)));
    await store.append(event('a3', 'outcome', ago(1), { result: 'approved', actor: carol }));

    // Act
    const { decided } = await buildDigest(deps(store, new CountingReader()), NOW);

    // Assess
    expect(decided).toEqual([
      expect.objectContaining({ approvalId: 'a3', result: 'approved', waitedMs: 4 * HOUR }),
      expect.objectContaining({ approvalId: 'a1', result: 'rejected', reason: 'Totals wrong', waitedMs: 28 * HOUR }),
    ]);
  });

  it('tells a console answer’s verdict and a break-glass approve as such, and the message shows both', async () => {
    // Prepare: one rejected in the console three hours ago, which Greenlight heard of an hour ago;
    // one approved by break glass two hours ago
    const store = new MemoryApprovalStore();
    const rejected = await waitingRequest(store, { pipelineName: 'shop-cart' });
    await store.recordOutcome(rejected.id, {
      kind: 'decided-elsewhere',
      verdict: 'reject',
      by: 'arn:aws:iam::123456789012:user/console',
      decidedAt: ago(3),
      at: ago(1),
    });
    const broken = await waitingRequest(store, { pipelineName: 'shop-web' });
    const decision = { ...slackDecision('approve', ago(2), { id: 'U0CAROL', reason: 'Outage' }) };
    await store.recordOutcome(broken.id, {
      kind: 'approved',
      decision: { ...decision, override: { freeze: 'Weekend' } },
      at: ago(2),
    });
    // Act
    const digest = await buildDigest(deps(store, new CountingReader()), NOW);
    const text = JSON.stringify(digestMessages(digest).top.blocks);
    // Assess
    // Newest first by the time shown: the console's answer 3 hours ago comes after the 2-hour-old approve
    expect(digest.decided).toEqual([
      expect.objectContaining({ approvalId: broken.id, result: 'approved', override: 'freeze override (Weekend)' }),
      expect.objectContaining({ approvalId: rejected.id, result: 'decided-elsewhere', verdict: 'reject' }),
    ]);
    expect(text).toContain('shop-cart › StagingDEV* rejected outside Slack by console (IAM user) 3 hours ago');
    expect(text).toContain('approved by <@U0CAROL> 2 hours ago · ❄️ freeze override (Weekend)');
  });

  it('computes each product’s metrics from its own pipelines and approvals', async () => {
    // Prepare: shop deployed once (2 h lead time, a 1-hour approval); blog failed once
    const store = new MemoryApprovalStore();
    await store.append({ eventId: 'r', type: 'requested', at: ago(4), approvalId: 's1', approval: ref('shop-cart') });
    await store.append({
      eventId: 'o',
      type: 'outcome',
      at: ago(3),
      approvalId: 's1',
      approval: ref('shop-cart'),
      result: 'approved',
    });
    const execution = (id: string, status: 'Succeeded' | 'Failed', start: number, end: number): ExecutionSummary => ({
      executionId: id,
      status,
      startTime: ago(start),
      lastUpdateTime: ago(end),
    });
    const reader = new CountingReader()
      .add(pipelineSnapshot('shop-cart', {}), [execution('s', 'Succeeded', 5, 3)])
      .add(pipelineSnapshot('blog-web', {}), [execution('b', 'Failed', 6, 5)]);

    // Act
    const { products } = await buildDigest(deps(store, reader), NOW);

    // Assess
    const [blog, shop] = products;
    expect(shop?.week.current).toMatchObject({ deployments: 1, leadTimeMs: 2 * HOUR, approvalWait: { p50Ms: HOUR } });
    expect(blog?.week.current).toMatchObject({ deployments: 0, failures: 1, changeFailureRate: 1 });
    expect(blog?.failing).toEqual([{ pipelineName: 'blog-web', since: ago(6) }]);
    expect(blog?.week.current.approvalWait).toBeUndefined();
  });

  it('counts a nested product’s pipelines and approvals in that product only, as /release does', async () => {
    // Prepare: shop-admin-api is shopadmin's (its prefix is longer), not shop's too
    const store = new MemoryApprovalStore();
    await store.append({
      eventId: 'r',
      type: 'requested',
      at: ago(4),
      approvalId: 'a1',
      approval: ref('shop-admin-api'),
    });
    await store.append({
      eventId: 'o',
      type: 'outcome',
      at: ago(3),
      approvalId: 'a1',
      approval: ref('shop-admin-api'),
      result: 'approved',
    });
    const succeeded = (id: string): ExecutionSummary => ({
      executionId: id,
      status: 'Succeeded',
      startTime: ago(5),
      lastUpdateTime: ago(3),
    });
    const reader = new CountingReader()
      .add(pipelineSnapshot('shop-admin-api', {}), [succeeded('a')])
      .add(pipelineSnapshot('shop-cart', {}), [succeeded('c')]);
    // Act
    const { products } = await buildDigest(
      { ...deps(store, reader), config: { products: { shop: {}, shopadmin: { prefix: 'shop-admin-' } } } },
      NOW,
    );
    // Assess
    const byName = Object.fromEntries(products.map((product) => [product.name, product]));
    expect(byName.shop?.board.rows.map((row) => row.pipelineName)).toEqual(['shop-cart']);
    expect(byName.shopadmin?.board.rows.map((row) => row.pipelineName)).toEqual(['shop-admin-api']);
    expect(byName.shop?.week.current).toMatchObject({ deployments: 1 });
    expect(byName.shop?.week.current.approvalWait).toBeUndefined();
    expect(byName.shopadmin?.week.current).toMatchObject({ deployments: 1, approvalWait: { p50Ms: HOUR } });
  });
});

describe('building the digest of products in several accounts', () => {
  const A = { account: '111122223333', region: 'eu-west-1' };
  const B = { account: '444455556666', region: 'us-west-2' };
  const role = (account: string) => `arn:aws:iam::${account}:role/GreenlightAccess`;
  const products = {
    shop: { ...A, roleArn: role(A.account) },
    blog: { ...B, roleArn: role(B.account) },
  };

  /** Readers by place, as app/deps.ts `readerAt` gives them; a place's role may be refused. */
  function places(readers: Record<string, PipelineReader>) {
    const asked: string[] = [];
    const readerAt = async (place: { account?: string; region: string }) => {
      const key = `${place.account}/${place.region}`;
      asked.push(key);
      const reader = readers[key];
      if (!reader) throw new Error(`No reader for ${key}`);
      return reader;
    };
    return { asked, readerAt };
  }

  /** A reader whose every call fails as a refused role does (adapters/sts-credentials.ts). */
  class RefusedReader extends CountingReader {
    override async listPipelines(prefix: string): Promise<string[]> {
      this.calls.push(`list ${prefix}`);
      throw new RoleNotAssumedError(B.account, B.region);
    }
    override async snapshot(name: string): Promise<PipelineSnapshot> {
      this.calls.push(`snapshot ${name}`);
      throw new RoleNotAssumedError(B.account, B.region);
    }
  }

  it('reads each product where it lives, each account listed once and each pipeline once', async () => {
    // Prepare: shop lives in A; data is known only by its pipelines in Greenlight's own account
    const store = new MemoryApprovalStore();
    const local = new CountingReader()
      .add(pipelineSnapshot('data-etl', { StagingDEV: { revisionId: 'd1' } }))
      .add(pipelineSnapshot('shop-old', {}));
    const inA = new CountingReader()
      .add(pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'a1' } }))
      .add(pipelineSnapshot('shop-search', {}));
    const { asked, readerAt } = places({ [`${A.account}/${A.region}`]: inA });

    // Act
    const digest = await buildDigest(
      { ...deps(store, local), readerAt, config: { products: { shop: products.shop } } },
      NOW,
    );

    // Assess
    const [data, shop] = digest.products;
    expect(shop).toMatchObject({ name: 'shop', place: A });
    expect(shop?.board.rows.map((row) => row.pipelineName)).toEqual(['shop-cart', 'shop-search']);
    expect(shop?.board.rows[0]?.cells.find((cell) => cell.stageName === 'StagingDEV')?.revision?.revisionId).toBe('a1');
    expect(data).toMatchObject({ name: 'data', board: { rows: [{ pipelineName: 'data-etl' }] } });
    expect(data?.place).toBeUndefined();
    expect(asked).toEqual([`${A.account}/${A.region}`]);
    expect(inA.calls.sort()).toEqual([
      'executions shop-cart',
      'executions shop-search',
      'list ',
      'snapshot shop-cart',
      'snapshot shop-search',
    ]);
    // shop's pipelines in Greenlight's own account are not shop's: it lives in A.
    expect(local.calls.sort()).toEqual(['executions data-etl', 'list ', 'snapshot data-etl']);
  });

  it('checks each waiting approval where it waits, and tells two shop-carts apart', async () => {
    // Prepare: a shop-cart waits in A and another in Greenlight's own account
    const store = new MemoryApprovalStore();
    const there = await waitingRequest(store, { pipelineName: 'shop-cart', token: 'token-a', ...A });
    const here = await waitingRequest(store, { pipelineName: 'shop-cart', token: 'token-here', region: 'us-east-1' });
    const local = new CountingReader().add(
      pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'h1', token: 'token-here' } }),
    );
    const inA = new CountingReader().add(
      pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'a1', token: 'token-a' } }),
    );
    const { readerAt } = places({ [`${A.account}/${A.region}`]: inA });

    // Act
    const digest = await buildDigest({ ...deps(store, local), readerAt, config: { products: {} } }, NOW);

    // Assess
    expect(digest.outdated).toBe(0);
    const shown = digest.waiting.map((w) => ({ id: w.approvalId, place: w.place, revision: w.revision?.revisionId }));
    expect(shown).toContainEqual({ id: there.id, place: A, revision: 'a1' });
    expect(shown).toContainEqual({ id: here.id, place: undefined, revision: 'h1' });
    expect(inA.calls).toEqual(['snapshot shop-cart']);
  });

  it('counts in each place of a product only the approvals that waited there; a product in one place keeps all of its own', async () => {
    // Prepare: shop's qa lives in Greenlight's own account, its prod in A and B; blog lives in B only,
    // and one of its approvals was recorded before the audit trail named accounts
    const store = new MemoryApprovalStore();
    const decidedAfter = async (id: string, hours: number, approval: NonNullable<AuditEvent['approval']>) => {
      await store.append({ eventId: `${id}#r`, type: 'requested', at: ago(hours + 1), approvalId: id, approval });
      await store.append({
        eventId: `${id}#o`,
        type: 'outcome',
        at: ago(1),
        approvalId: id,
        approval,
        result: 'approved',
      });
    };
    await decidedAfter('here', 1, ref('shop-cart'));
    await decidedAfter('in-a', 2, { ...ref('shop-cart'), ...A });
    await decidedAfter('in-b', 4, { ...ref('shop-cart'), ...B });
    await decidedAfter('blog-b', 8, { ...ref('blog-web'), ...B });
    await decidedAfter('blog-old', 8, ref('blog-web'));
    const shop = {
      envs: {
        qa: { stage: 'StagingDEV' },
        prod: { stage: 'StagingQA', targets: [A, B].map((place) => ({ ...place, roleArn: role(place.account) })) },
      },
    };
    const inA = new CountingReader().add(pipelineSnapshot('shop-cart', {}));
    const inB = new CountingReader().add(pipelineSnapshot('shop-cart', {})).add(pipelineSnapshot('blog-web', {}));
    const { readerAt } = places({ [`${A.account}/${A.region}`]: inA, [`${B.account}/${B.region}`]: inB });

    // Act
    const digest = await buildDigest(
      { ...deps(store, new CountingReader()), readerAt, config: { products: { shop, blog: products.blog } } },
      NOW,
    );

    // Assess
    const wait = (name: string, place?: typeof A) =>
      digest.products.find((p) => p.name === name && p.place?.account === place?.account)?.week.current.approvalWait;
    expect(wait('shop')).toEqual({ p50Ms: HOUR, p90Ms: HOUR, count: 1 });
    expect(wait('shop', A)).toEqual({ p50Ms: 2 * HOUR, p90Ms: 2 * HOUR, count: 1 });
    expect(wait('shop', B)).toEqual({ p50Ms: 4 * HOUR, p90Ms: 4 * HOUR, count: 1 });
    expect(wait('blog', B)).toEqual({ p50Ms: 8 * HOUR, p90Ms: 8 * HOUR, count: 2 });
  });

  it('notes a product whose role is refused, asks its account nothing more, and keeps the rest', async () => {
    // Prepare: blog lives in B, whose role is refused; an approval waits there too
    const store = new MemoryApprovalStore();
    const stuck = await waitingRequest(store, { pipelineName: 'blog-web', ...B });
    const inA = new CountingReader().add(pipelineSnapshot('shop-cart', { StagingDEV: { revisionId: 'a1' } }));
    const inB = new RefusedReader();
    const log = memoryLog();
    const { readerAt } = places({ [`${A.account}/${A.region}`]: inA, [`${B.account}/${B.region}`]: inB });

    // Act
    const digest = await buildDigest(
      { ...deps(store, new CountingReader()), log, readerAt, config: { products } },
      NOW,
    );

    // Assess
    const [blog, shop] = digest.products;
    expect(blog).toMatchObject({ name: 'blog', place: B, unreachable: true, board: { rows: [] } });
    expect(blog?.week.current.deployments).toBe(0);
    expect(shop?.unreachable).toBeUndefined();
    expect(shop?.board.rows.map((row) => row.pipelineName)).toEqual(['shop-cart']);
    // One try: every call there would ask STS for the role again.
    expect(inB.calls).toEqual(['list ']);
    // Greenlight cannot tell whether it still waits: it is shown as Greenlight knows it.
    expect(digest.waiting.map((w) => w.approvalId)).toEqual([stuck.id]);
    expect(digest.unreadable).toEqual([]);
  });
});

const ref = (pipelineName: string) => ({
  pipelineName,
  stageName: 'StagingQA',
  actionName: 'Approve',
  region: 'eu-central-1',
});
