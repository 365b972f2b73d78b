import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoReleaseStore } from '../../../app/adapters/dynamo-release-store.ts';
import type { PlanItem, ReleasePlan } from '../../../app/core/release.ts';
import type { ReleaseStore } from '../../../app/core/release-ports.ts';
import { useLocalDynamo } from '../../support/local-dynamo.ts';
import { MemoryReleaseStore, token } from '../../support/release-fakes.ts';

const local = useLocalDynamo();
let releases = 0;

const at = (minute: number) => new Date(Date.UTC(2025, 2, 4, 10, minute));

function plan(pipelines: number): ReleasePlan {
  releases += 1;
  const items = Array.from(
    { length: pipelines },
    (_, i): PlanItem =>
      i % 3 === 2
        ? {
            pipelineName: `shop-s${i}`,
            kind: 'exclude',
            exclusion: { kind: 'nothing-pending', detail: 'nothing waits' },
          }
        : {
            pipelineName: `shop-s${i}`,
            kind: 'include',
            approval: {
              approvalId: `approval-${i}`,
              stageName: 'StagingQA',
              actionName: 'Approve',
              token: token(i),
              revision: { revisionId: `rev${i}`, summary: 'Fix checkout' },
              waitingSince: at(1),
            },
          },
  );
  return {
    releaseId: `rel-test-${releases}`,
    product: { name: 'shop', displayName: 'Shop' },
    env: 'prod',
    stageName: 'StagingQA',
    region: 'eu-central-1',
    requestedBy: { id: 'U0ALICE', name: 'Alice', teamId: 'T0ACME', via: 'slack' },
    source: 'slack',
    channel: 'C0RELEASES',
    createdAt: at(0),
    items,
  };
}

/** The in-memory fake the core's tests use must behave as the DynamoDB store does: same cases, both stores. */
describe.each([
  [
    'DynamoReleaseStore',
    (): ReleaseStore => new DynamoReleaseStore(DynamoDBDocumentClient.from(local.client), local.dynamo.tableName),
  ],
  ['MemoryReleaseStore', (): ReleaseStore => new MemoryReleaseStore()],
])('%s', (_name, makeStore) => {
  it('keeps a plan of 250 pipelines exactly, tokens, dates and order included', async () => {
    // Prepare
    const store = makeStore();
    const release = plan(250);

    // Act
    const saved = await store.savePlan(release);
    const again = await store.savePlan(release);
    const read = await store.get(release.releaseId);

    // Assess
    expect([saved, again]).toEqual(['created', 'exists']);
    expect(read).toEqual({ ...release, state: 'planned', results: {} });
  });

  it('keeps the first plan when the release is saved again with other approvals', async () => {
    // Prepare: a redelivered plan job read the pipelines again and pinned other tokens.
    const store = makeStore();
    const first = plan(250);
    const reread: ReleasePlan = {
      ...first,
      createdAt: at(5),
      items: first.items.map((item) =>
        item.kind === 'include'
          ? { ...item, approval: { ...item.approval, token: token(900), approvalId: 'other' } }
          : item,
      ),
    };
    await store.savePlan(first);

    // Act
    const again = await store.savePlan(reread);
    const read = await store.get(first.releaseId);

    // Assess
    expect(again).toBe('exists');
    expect(read).toEqual({ ...first, state: 'planned', results: {} });
  });

  it('lets one delivery at a time post the progress message, and none once it is recorded', async () => {
    // Prepare
    const store = makeStore();
    const release = plan(1);
    await store.savePlan(release);
    const id = release.releaseId;

    // Act
    const leases = await Promise.all([store.leaseMessage(id, at(5), at(0)), store.leaseMessage(id, at(5), at(0))]);
    const whileHeld = await store.leaseMessage(id, at(9), at(4));
    const afterExpiry = await store.leaseMessage(id, at(10), at(6));
    await store.recordMessage(id, { channel: 'C0RELEASES', ts: '1.000001' });
    const afterPost = await store.leaseMessage(id, at(30), at(20));
    const unknown = await store.leaseMessage('rel-unknown-2', at(5), at(0));

    // Assess: the holder after the first one's expiry learns when the post was first leased
    expect(leases.filter(Boolean)).toEqual([{ firstTakenAt: at(0) }]);
    expect([whileHeld, afterExpiry, afterPost, unknown]).toEqual([false, { firstTakenAt: at(0) }, false, false]);
    expect((await store.get(id))?.message).toEqual({ channel: 'C0RELEASES', ts: '1.000001' });
  });

  it('confirms once and finishes once', async () => {
    // Prepare
    const store = makeStore();
    const release = plan(2);
    await store.savePlan(release);

    // Act
    const confirmations = await Promise.all([
      store.confirm(release.releaseId, at(2)),
      store.confirm(release.releaseId, at(2)),
    ]);
    const finishes = [await store.finishRun(release.releaseId, at(3)), await store.finishRun(release.releaseId, at(4))];

    // Assess
    expect(confirmations.sort()).toEqual(['already', 'confirmed']);
    expect(finishes).toEqual([true, false]);
    expect(await store.get(release.releaseId)).toMatchObject({
      state: 'finished',
      confirmedAt: at(2),
      finishedAt: at(3),
    });
    expect(await store.confirm('rel-unknown-1', at(2))).toBe('not-found');
  });

  it('records the first progress message only', async () => {
    // Prepare
    const store = makeStore();
    const release = plan(1);
    await store.savePlan(release);

    // Act
    const first = await store.recordMessage(release.releaseId, { channel: 'C0RELEASES', ts: '1.000001' });
    const second = await store.recordMessage(release.releaseId, { channel: 'C0RELEASES', ts: '1.000002' });

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect((await store.get(release.releaseId))?.message).toEqual({ channel: 'C0RELEASES', ts: '1.000001' });
  });

  it('lets one holder work on a pipeline, and records its result once', async () => {
    // Prepare
    const store = makeStore();
    const release = plan(1);
    await store.savePlan(release);
    const id = release.releaseId;

    // Act
    const leases = await Promise.all([
      store.leaseItem(id, 'shop-s0', 'w1', at(10), at(0)),
      store.leaseItem(id, 'shop-s0', 'w2', at(10), at(0)),
    ]);
    const holder = leases[0] ? 'w1' : 'w2';
    const other = leases[0] ? 'w2' : 'w1';
    const strangerFinish = await store.finishItem(id, 'shop-s0', other, { kind: 'failed', why: 'x', at: at(1) });
    const finished = await store.finishItem(id, 'shop-s0', holder, { kind: 'approved', at: at(1) });
    const twice = await store.finishItem(id, 'shop-s0', holder, { kind: 'failed', why: 'y', at: at(2) });
    const leaseAfter = await store.leaseItem(id, 'shop-s0', 'w3', at(30), at(20));

    // Assess
    expect(leases.filter(Boolean)).toHaveLength(1);
    expect([strangerFinish, finished, twice, leaseAfter]).toEqual([false, true, false, false]);
    expect((await store.get(id))?.results).toEqual({ 'shop-s0': { kind: 'approved', at: at(1) } });
  });

  it('lets another holder take a lease that ran out or was given back', async () => {
    // Prepare
    const store = makeStore();
    const release = plan(2);
    await store.savePlan(release);
    const id = release.releaseId;
    await store.leaseItem(id, 'shop-s0', 'w1', at(5), at(0));
    await store.leaseItem(id, 'shop-s1', 'w1', at(5), at(0));

    // Act
    const whileHeld = await store.leaseItem(id, 'shop-s0', 'w2', at(15), at(4));
    const expired = await store.leaseItem(id, 'shop-s0', 'w2', at(16), at(6));
    await store.giveItemBack(id, 'shop-s1', 'w2');
    const stillHeld = await store.leaseItem(id, 'shop-s1', 'w3', at(15), at(4));
    await store.giveItemBack(id, 'shop-s1', 'w1');
    const givenBack = await store.leaseItem(id, 'shop-s1', 'w3', at(15), at(4));

    // Assess
    expect([whileHeld, expired, stillHeld, givenBack]).toEqual([false, true, false, true]);
  });

  it('knows no release it was not given', async () => {
    // Act
    const read = await makeStore().get('rel-never-saved');

    // Assess
    expect(read).toBeUndefined();
  });
});

describe('DynamoReleaseStore plan chunks', () => {
  it('never mixes the chunks of an interrupted save with those of the save that created the release', async () => {
    // Prepare: a first save wrote its chunks, then failed before its RUN item.
    const db = DynamoDBDocumentClient.from(local.client);
    const failingRun = {
      send: (command: { input: { Item?: { sk?: string } } }) =>
        command.input.Item?.sk === 'RUN'
          ? Promise.reject(new Error('ProvisionedThroughputExceededException'))
          : db.send(command as never),
    } as unknown as DynamoDBDocumentClient;
    const interrupted = plan(250);
    const reread: ReleasePlan = {
      ...interrupted,
      items: interrupted.items.map((item) =>
        item.kind === 'include' ? { ...item, approval: { ...item.approval, token: token(901) } } : item,
      ),
    };
    await expect(new DynamoReleaseStore(failingRun, local.dynamo.tableName).savePlan(interrupted)).rejects.toThrow();
    const store = new DynamoReleaseStore(db, local.dynamo.tableName);

    // Act
    const saved = await store.savePlan(reread);
    const read = await store.get(reread.releaseId);

    // Assess
    expect(saved).toBe('created');
    expect(read).toEqual({ ...reread, state: 'planned', results: {} });
  });
});
