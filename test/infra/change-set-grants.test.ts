import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES } from '../../infra/constructs/handler-function.ts';
import { asList, handlerStatements, type Statement, synthGreenlight } from './synth.ts';

/*
 * What the approval review needs in IAM (docs/what-am-i-approving.md#permissions): approval-notification
 * may describe change sets, and may approve only where an env opts into auto-approve.
 */

const actions = (statement: Statement) => asList(statement.Action);

const grants = (template: ReturnType<typeof synthGreenlight>['template'], action: string) =>
  Object.fromEntries(
    HANDLER_NAMES.map((name) => [
      name,
      handlerStatements(template, name)
        .filter((statement) => actions(statement).includes(action))
        .map((statement) => statement.Resource),
    ]),
  );

describe('the approval review’s grants', () => {
  it('lets approval-notification alone describe change sets, on this account’s stacks, and approve nothing by default', () => {
    // Act
    const { template, stack } = synthGreenlight();
    // Assess
    const describeChangeSet = grants(template, 'cloudformation:DescribeChangeSet');
    expect(
      Object.entries(describeChangeSet)
        .filter(([, resources]) => resources.length > 0)
        .map(([name]) => name),
    ).toEqual(['approval-notification']);
    expect(JSON.stringify(describeChangeSet['approval-notification'])).toContain(
      ':cloudformation:*:123456789012:stack/*',
    );
    expect(grants(template, 'codepipeline:PutApprovalResult')['approval-notification']).toEqual([]);
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });

  it('lets approval-notification approve the products’ actions once an env opts into auto-approve', () => {
    // Act
    const { template, stack } = synthGreenlight({
      products: {
        shop: { envs: { qa: { stage: 'StagingDEV' }, prod: { stage: 'StagingQA', autoApprove: 'safe-changes' } } },
      },
    });
    // Assess
    expect(JSON.stringify(grants(template, 'codepipeline:PutApprovalResult')['approval-notification'])).toContain(
      ':codepipeline:eu-central-1:123456789012:shop-*/*',
    );
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });
});
