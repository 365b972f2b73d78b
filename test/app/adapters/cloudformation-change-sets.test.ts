import { CloudFormationClient, DescribeChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudFormationChangeSets } from '../../../app/adapters/cloudformation-change-sets.ts';
import { TransientError } from '../../../app/core/errors.ts';
import { NO_CHANGES_REASON } from '../../../sandbox/cloudformation/demo.ts';
import { type CloudFormationEmulator, startCloudFormationEmulator } from '../../../sandbox/cloudformation/index.ts';

/*
 * The adapter with the real @aws-sdk/client-cloudformation against the emulator over loopback
 * (awsQuery: form-encoded requests, XML answers).
 */

let emulator: CloudFormationEmulator;
let client: CloudFormationClient;
let changeSets: CloudFormationChangeSets;

beforeAll(async () => {
  emulator = await startCloudFormationEmulator();
  client = new CloudFormationClient({
    region: emulator.region,
    endpoint: emulator.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  changeSets = new CloudFormationChangeSets(() => client);
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
});

const ref = (stackName: string) => ({ stackName, changeSetName: `${stackName}-changes`, region: 'us-east-2' });

describe('DescribeChangeSet over awsQuery', () => {
  it('answers in the shape of the SDK model', async () => {
    // Prepare
    const arn = emulator.putChangeSet({
      stackName: 'shape',
      changeSetName: 'shape-changes',
      changes: [
        {
          action: 'Modify',
          logicalId: 'OrdersTable',
          type: 'AWS::DynamoDB::Table',
          physicalId: 'orders',
          replacement: 'True',
          properties: [{ name: 'KeySchema', requiresRecreation: 'Always' }],
        },
      ],
    });
    // Act
    const answer = await client.send(
      new DescribeChangeSetCommand({ StackName: 'shape', ChangeSetName: 'shape-changes' }),
    );
    // Assess
    expect(answer).toMatchObject({
      ChangeSetId: arn,
      StackName: 'shape',
      Status: 'CREATE_COMPLETE',
      ExecutionStatus: 'AVAILABLE',
    });
    expect(answer.CreationTime).toBeInstanceOf(Date);
    expect(answer.Changes?.[0]).toEqual({
      Type: 'Resource',
      ResourceChange: {
        Action: 'Modify',
        LogicalResourceId: 'OrdersTable',
        PhysicalResourceId: 'orders',
        ResourceType: 'AWS::DynamoDB::Table',
        Replacement: 'True',
        Scope: ['Properties'],
        Details: [
          {
            Target: { Attribute: 'Properties', Name: 'KeySchema', RequiresRecreation: 'Always' },
            Evaluation: 'Static',
            ChangeSource: 'DirectModification',
          },
        ],
      },
    });
  });

  it('reads nested stacks’ change sets, named under their stack', async () => {
    const nested = emulator.putChangeSet({
      stackName: 'parent-Network-1',
      changeSetName: 'nested',
      changes: [{ action: 'Remove', logicalId: 'Subnet', type: 'AWS::EC2::Subnet' }],
    });
    emulator.putChangeSet({
      stackName: 'parent',
      changeSetName: 'parent-changes',
      changes: [
        {
          action: 'Modify',
          logicalId: 'Network',
          type: 'AWS::CloudFormation::Stack',
          replacement: 'False',
          changeSetId: nested,
        },
      ],
    });
    const review = await changeSets.read(ref('parent'));
    expect(review).toMatchObject({ kind: 'read', total: 2, counts: { remove: 1, modify: 1 } });
    expect(review.kind === 'read' && review.changes[0]?.logicalId).toBe('Network/Subnet');
  });

  it('tells a change set still being created, and one that FAILED for another reason than no changes', async () => {
    emulator.putChangeSet({
      stackName: 'pending',
      changeSetName: 'pending-changes',
      status: 'CREATE_IN_PROGRESS',
      changes: [],
    });
    emulator.putChangeSet({
      stackName: 'failed',
      changeSetName: 'failed-changes',
      status: 'FAILED',
      statusReason: 'Requires capabilities : [CAPABILITY_NAMED_IAM]',
      changes: [],
    });
    emulator.putChangeSet({
      stackName: 'empty',
      changeSetName: 'empty-changes',
      status: 'FAILED',
      statusReason: NO_CHANGES_REASON,
      changes: [],
    });
    expect(await changeSets.read(ref('pending'))).toMatchObject({ kind: 'pending', status: 'CREATE_IN_PROGRESS' });
    expect(await changeSets.read(ref('failed'))).toMatchObject({
      kind: 'failed',
      reason: 'Requires capabilities : [CAPABILITY_NAMED_IAM]',
    });
    expect(await changeSets.read(ref('empty'))).toMatchObject({ kind: 'empty' });
  });

  it('maps ChangeSetNotFound and AccessDenied to their kinds, and no answer to TransientError', async () => {
    expect(await changeSets.read(ref('nowhere'))).toMatchObject({ kind: 'missing', stackName: 'nowhere' });
    emulator.denyAccess(true);
    try {
      expect(await changeSets.read(ref('nowhere'))).toMatchObject({ kind: 'denied' });
    } finally {
      emulator.denyAccess(false);
    }
    const unreachable = new CloudFormationChangeSets(
      () =>
        new CloudFormationClient({
          region: 'us-east-2',
          endpoint: 'http://127.0.0.1:9',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          maxAttempts: 1,
        }),
    );
    await expect(unreachable.read(ref('nowhere'))).rejects.toBeInstanceOf(TransientError);
  });
});
