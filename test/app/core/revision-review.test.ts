import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../../app/core/approval.ts';
import type { LayoutAction, PipelineLayout } from '../../../app/core/change-set.ts';
import { TransientError } from '../../../app/core/errors.ts';
import {
  type ChangeSetReader,
  type ReviewReader,
  reviewApproval,
  type Waiting,
} from '../../../app/core/revision-review.ts';

/* The review's own logic with in-memory ports; the adapters run against the emulators in test/e2e. */

const request: ApprovalRequest = {
  id: 'abcdefghijklmnopqrstuv',
  pipelineName: 'orders-api',
  stageName: 'StagingPROD',
  actionName: 'Approve',
  region: 'us-east-2',
  token: 't',
  expiresAt: new Date('2026-12-04T00:00:00Z'),
  consoleLink: 'https://console.aws.amazon.com/',
  receivedAt: new Date('2026-11-27T00:00:00Z'),
};

const cfn = (name: string, runOrder: number, mode: string): LayoutAction => ({
  name,
  category: 'Deploy',
  provider: 'CloudFormation',
  runOrder,
  configuration: { ActionMode: mode, StackName: 'orders-prod', ChangeSetName: 'orders-changes' },
});
const layout: PipelineLayout & { source: { provider: string; repository: string } } = {
  source: { provider: 'GitHub', repository: 'acme/orders' },
  stages: [
    { name: 'Source', actions: [] },
    {
      name: 'StagingPROD',
      actions: [
        cfn('Prepare', 1, 'CHANGE_SET_REPLACE'),
        { name: 'Approve', category: 'Approval', provider: 'Manual', runOrder: 2, configuration: {} },
        cfn('Deploy', 3, 'CHANGE_SET_EXECUTE'),
      ],
    },
  ],
};
const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(40)) as [string, string, string];

function reader(overrides: Partial<ReviewReader> = {}, calls: string[] = []): ReviewReader {
  const noted = <T>(call: string, value: T): T => {
    calls.push(call);
    return value;
  };
  const waiting: Waiting = {
    executionId: 'e3',
    pipelineVersion: 1,
    lastStage: { name: 'StagingPROD', executionId: 'e1', status: 'Succeeded' },
  };
  const base: ReviewReader = {
    layout: async () => noted('layout', layout),
    waitingExecution: async () => noted('state', waiting),
    executionRevision: async (_, id) => noted(`revision ${id}`, { revisionId: id === 'e3' ? c : a }),
    lastSucceededIn: async () => noted('lastSucceeded', undefined),
    executionsBackTo: async () =>
      noted('list', [
        { executionId: 'e3', startedAt: 3, revisionId: c, revision: { revisionId: c, revisionSummary: 'Fix totals' } },
        { executionId: 'e2', startedAt: 2, revisionId: b },
        { executionId: 'e1', startedAt: 1, revisionId: a },
      ]),
  };
  return { ...base, ...overrides };
}

const log = { debug() {}, info() {}, warn() {}, error() {} };
const changeSets: ChangeSetReader = {
  read: async (ref) => ({
    kind: 'empty',
    stackName: ref.stackName,
    changeSetName: ref.changeSetName,
    region: ref.region,
  }),
};

describe('the review of an approval', () => {
  it('takes production from the last stage’s state and the revision from the listing: three calls', async () => {
    const calls: string[] = [];
    const review = await reviewApproval({ reader: reader({}, calls), changeSets, log }, request);
    expect(calls).toEqual(['state', 'layout', 'list']);
    expect(review.revision).toEqual({
      kind: 'known',
      revision: { revisionId: c, message: 'Fix totals', url: `https://github.com/acme/orders/commit/${c}` },
      production: {
        kind: 'behind',
        revisionId: a,
        count: 2,
        compareUrl: `https://github.com/acme/orders/compare/${a}...${c}`,
      },
    });
    expect(review.changeSet).toMatchObject({ kind: 'empty', stackName: 'orders-prod' });
  });

  it('asks for the last success only when production’s latest did not succeed, and says when none did', async () => {
    const calls: string[] = [];
    const failing = reader(
      {
        waitingExecution: async () => {
          calls.push('state');
          return { executionId: 'e3', lastStage: { name: 'StagingPROD', executionId: 'e2', status: 'Failed' } };
        },
      },
      calls,
    );
    const review = await reviewApproval({ reader: failing, changeSets, log }, request);
    expect(calls).toEqual(['state', 'layout', 'lastSucceeded', 'revision e3']);
    expect(review.revision).toMatchObject({ kind: 'known', production: { kind: 'none', stageName: 'StagingPROD' } });
  });

  it('starts no read once the notification has given the review up', async () => {
    // Prepare: the review is given up while its first read is under way
    const calls: string[] = [];
    const giveUp = new AbortController();
    const slow = reader(
      {
        waitingExecution: async () => {
          calls.push('state');
          giveUp.abort();
          return { executionId: 'e3', pipelineVersion: 1 };
        },
      },
      calls,
    );
    // Act
    const review = await reviewApproval({ reader: slow, changeSets, log, signal: giveUp.signal }, request);
    // Assess
    expect(calls).toEqual(['state']);
    expect(review.revision.kind).not.toBe('known');
  });

  it('says plainly what could not be read, and still reads the rest', async () => {
    const noState = reader({ waitingExecution: async () => Promise.reject(new TransientError('throttled')) });
    const review = await reviewApproval({ reader: noState, changeSets, log }, request);
    expect(review.revision).toEqual({ kind: 'unknown', why: 'CodePipeline did not answer' });
    expect(review.changeSet?.kind).toBe('empty');

    const noLayout = reader({ layout: async () => Promise.reject(new TransientError('throttled')) });
    const withoutLayout = await reviewApproval({ reader: noLayout, changeSets, log }, request);
    expect(withoutLayout.changeSet).toBeUndefined();
    expect(withoutLayout.revision).toMatchObject({ kind: 'known', production: { kind: 'behind', count: 2 } });

    const silent: ChangeSetReader = { read: async () => Promise.reject(new TransientError('no answer')) };
    const unread = await reviewApproval({ reader: reader(), changeSets: silent, log }, request);
    expect(unread.changeSet).toMatchObject({ kind: 'unreadable', why: 'CloudFormation did not answer' });

    const gone = reader({ waitingExecution: async () => undefined });
    expect((await reviewApproval({ reader: gone, changeSets, log }, request)).revision).toEqual({
      kind: 'unknown',
      why: 'CodePipeline no longer shows this approval waiting',
    });
  });
});
