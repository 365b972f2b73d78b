import { describe, expect, it } from 'vitest';
import {
  type ChangeSetReview,
  gatedChangeSet,
  type LayoutAction,
  mayWidenAccess,
  type PipelineLayout,
  readChanges,
  STORED_CHANGES,
  safeChanges,
} from '../../../app/core/change-set.ts';

const where = { stackName: 'orders-prod', changeSetName: 'orders-prod-changes', region: 'us-east-2' };

const read = (raw: Parameters<typeof readChanges>[0]): ChangeSetReview => ({
  kind: 'read',
  ...where,
  ...readChanges(raw),
});

describe('reading a change set', () => {
  it('orders replacements first, then possible replacements, removals, grants, additions and modifications', () => {
    // Prepare: in the order DescribeChangeSet might give them
    const raw = [
      { action: 'Modify', logicalId: 'Fn', type: 'AWS::Lambda::Function', replacement: 'False', properties: ['Code'] },
      { action: 'Add', logicalId: 'NewQueue', type: 'AWS::SQS::Queue' },
      { action: 'Modify', logicalId: 'Role', type: 'AWS::IAM::Role', replacement: 'False', properties: ['Policies'] },
      { action: 'Remove', logicalId: 'OldTopic', type: 'AWS::SNS::Topic' },
      { action: 'Modify', logicalId: 'Cache', type: 'AWS::ElastiCache::CacheCluster', replacement: 'Conditional' },
      { action: 'Modify', logicalId: 'OrdersTable', type: 'AWS::DynamoDB::Table', replacement: 'True' },
    ];
    // Act
    const { changes, counts, total } = readChanges(raw);
    // Assess
    expect(changes.map((line) => line.logicalId)).toEqual([
      'OrdersTable',
      'Cache',
      'OldTopic',
      'Role',
      'NewQueue',
      'Fn',
    ]);
    expect(counts).toEqual({ add: 1, modify: 4, remove: 1, other: 0, replace: 1, mayReplace: 1, iam: 1 });
    expect(total).toBe(6);
    expect(changes[0]).toEqual({
      logicalId: 'OrdersTable',
      type: 'AWS::DynamoDB::Table',
      action: 'Modify',
      replacement: 'True',
    });
  });

  it('keeps at most STORED_CHANGES lines, and says how many there were', () => {
    const raw = Array.from({ length: STORED_CHANGES + 5 }, (_, i) => ({
      action: 'Add',
      logicalId: `R${i}`,
      type: 'AWS::SQS::Queue',
    }));
    const { changes, total } = readChanges(raw);
    expect(changes).toHaveLength(STORED_CHANGES);
    expect(total).toBe(STORED_CHANGES + 5);
  });

  it('flags added or changed grants, not removed ones', () => {
    expect(mayWidenAccess({ action: 'Add', type: 'AWS::IAM::Policy' })).toBe(true);
    expect(mayWidenAccess({ action: 'Modify', type: 'AWS::S3::BucketPolicy' })).toBe(true);
    expect(mayWidenAccess({ action: 'Modify', type: 'AWS::KMS::Key', properties: ['KeyPolicy'] })).toBe(true);
    expect(mayWidenAccess({ action: 'Modify', type: 'AWS::KMS::Key', properties: ['Description'] })).toBe(false);
    expect(mayWidenAccess({ action: 'Remove', type: 'AWS::IAM::Role' })).toBe(false);
  });
});

describe('safe changes (auto-approve)', () => {
  it('are modifications and additions in place, with the reason counted', () => {
    const review = read([
      { action: 'Modify', logicalId: 'A', type: 'AWS::Lambda::Function', replacement: 'False' },
      { action: 'Modify', logicalId: 'B', type: 'AWS::Lambda::Function', replacement: 'False' },
      { action: 'Modify', logicalId: 'C', type: 'AWS::Lambda::Function', replacement: 'False' },
      { action: 'Modify', logicalId: 'D', type: 'AWS::CloudWatch::Alarm', replacement: 'False' },
    ]);
    expect(safeChanges(review)).toEqual({ safe: true, reason: '4 modifications, no replacements' });
  });

  it.each([
    [[{ action: 'Modify', logicalId: 'T', type: 'AWS::DynamoDB::Table', replacement: 'True' }], '1 replacement: T'],
    [
      [{ action: 'Modify', logicalId: 'C', type: 'AWS::RDS::DBInstance', replacement: 'Conditional' }],
      '1 replacement: C',
    ],
    [[{ action: 'Remove', logicalId: 'Q', type: 'AWS::SQS::Queue' }], '1 removal: Q'],
    [[{ action: 'Add', logicalId: 'P', type: 'AWS::IAM::Policy' }], '1 IAM or policy change: P'],
    [[{ action: 'Import', logicalId: 'I', type: 'AWS::S3::Bucket' }], '1 import or dynamic change'],
    [[], 'the change set has no changes'],
  ])('are not %j', (raw, reason) => {
    expect(safeChanges(read(raw))).toEqual({ safe: false, reason });
  });

  it('are not what could not be read, or no change set at all', () => {
    expect(safeChanges({ kind: 'denied', ...where }).safe).toBe(false);
    expect(safeChanges(undefined)).toEqual({
      safe: false,
      reason: 'no CloudFormation change set is gated by this approval',
    });
  });
});

const cfn = (name: string, runOrder: number, mode: string, extra: Partial<LayoutAction> = {}): LayoutAction => ({
  name,
  category: 'Deploy',
  provider: 'CloudFormation',
  runOrder,
  configuration: { ActionMode: mode, StackName: 'orders-prod', ChangeSetName: 'orders-prod-changes' },
  ...extra,
});
const approve = (runOrder: number): LayoutAction => ({
  name: 'Approve',
  category: 'Approval',
  provider: 'Manual',
  runOrder,
  configuration: {},
});

describe('the change set an approval gates', () => {
  it('is prepared before the approval in its stage and executed after it', () => {
    const layout: PipelineLayout = {
      stages: [
        {
          name: 'StagingPROD',
          actions: [cfn('Prepare', 1, 'CHANGE_SET_REPLACE'), approve(2), cfn('Deploy', 3, 'CHANGE_SET_EXECUTE')],
        },
      ],
    };
    expect(gatedChangeSet(layout, 'StagingPROD', 'Approve', 'us-east-2')).toEqual(where);
  });

  it('may be prepared in the stage before and executed in the next (CDK Pipelines shapes), in its own region and role', () => {
    const layout: PipelineLayout = {
      stages: [
        {
          name: 'Prepare',
          actions: [
            cfn('Prepare', 1, 'CHANGE_SET_REPLACE', {
              region: 'eu-west-1',
              roleArn: 'arn:aws:iam::111122223333:role/deploy',
            }),
          ],
        },
        { name: 'Gate', actions: [approve(1)] },
        { name: 'Deploy', actions: [cfn('Deploy', 1, 'CHANGE_SET_EXECUTE', { region: 'eu-west-1' })] },
      ],
    };
    expect(gatedChangeSet(layout, 'Gate', 'Approve', 'us-east-2')).toEqual({
      ...where,
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::111122223333:role/deploy',
    });
  });

  it('is none when nothing executes the change set after the approval, or nothing prepares it before', () => {
    const noExecute: PipelineLayout = {
      stages: [{ name: 'S', actions: [cfn('Prepare', 1, 'CHANGE_SET_REPLACE'), approve(2)] }],
    };
    const prepareAfter: PipelineLayout = {
      stages: [
        {
          name: 'S',
          actions: [approve(1), cfn('Prepare', 2, 'CHANGE_SET_REPLACE'), cfn('Deploy', 3, 'CHANGE_SET_EXECUTE')],
        },
      ],
    };
    expect(gatedChangeSet(noExecute, 'S', 'Approve', 'us-east-2')).toBeUndefined();
    expect(gatedChangeSet(prepareAfter, 'S', 'Approve', 'us-east-2')).toBeUndefined();
  });

  it('says when its names are set by variables', () => {
    const layout: PipelineLayout = {
      stages: [
        {
          name: 'S',
          actions: [
            {
              ...cfn('Prepare', 1, 'CHANGE_SET_REPLACE'),
              configuration: { ActionMode: 'CHANGE_SET_REPLACE', StackName: '#{variables.stack}', ChangeSetName: 'x' },
            },
            approve(2),
            {
              ...cfn('Deploy', 3, 'CHANGE_SET_EXECUTE'),
              configuration: { ActionMode: 'CHANGE_SET_EXECUTE', StackName: '#{variables.stack}', ChangeSetName: 'x' },
            },
          ],
        },
      ],
    };
    expect(gatedChangeSet(layout, 'S', 'Approve', 'us-east-2')).toEqual({ variables: true });
  });
});
