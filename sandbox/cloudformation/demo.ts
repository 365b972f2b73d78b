import type { SucceededAction } from '../codepipeline/index.ts';
import type { CloudFormationEmulator, EmulatedChange, EmulatedChangeSet } from './index.ts';

/** What a commit's template changes, as its change set will say: the changes, or a FAILED change set. */
export type ChangePlan = Pick<EmulatedChangeSet, 'changes' | 'status' | 'statusReason'> & {
  /** Someone deletes the change set (DeleteChangeSet) right after Prepare created it. */
  missing?: boolean;
};

/**
 * An ordinary change: three modifications in place (new code for two functions, an alarm threshold),
 * nothing replaced, removed or granted. Resource types and properties as in the CloudFormation user
 * guide's resource reference.
 */
export const SAFE_CHANGES: readonly EmulatedChange[] = [
  {
    action: 'Modify',
    logicalId: 'OrdersFunction',
    type: 'AWS::Lambda::Function',
    replacement: 'False',
    properties: [{ name: 'Code', requiresRecreation: 'Never' }],
  },
  {
    action: 'Modify',
    logicalId: 'CheckoutFunction',
    type: 'AWS::Lambda::Function',
    replacement: 'False',
    properties: [{ name: 'Code', requiresRecreation: 'Never' }],
  },
  {
    action: 'Modify',
    logicalId: 'ErrorsAlarm',
    type: 'AWS::CloudWatch::Alarm',
    replacement: 'False',
    properties: [{ name: 'Threshold', requiresRecreation: 'Never' }],
  },
];

/**
 * A change that replaces the orders table: its key schema changed, which DynamoDB cannot do in place
 * (`KeySchema`: "Update requires: Replacement" in the AWS::DynamoDB::Table reference).
 */
export const REPLACING_CHANGES: readonly EmulatedChange[] = [
  ...SAFE_CHANGES,
  {
    action: 'Modify',
    logicalId: 'OrdersTable',
    type: 'AWS::DynamoDB::Table',
    replacement: 'True',
    properties: [{ name: 'KeySchema', requiresRecreation: 'Always' }],
  },
];

/** CloudFormation's StatusReason for a change set whose template changes nothing. */
export const NO_CHANGES_REASON =
  "The submitted information didn't contain changes. Submit different information to create a change set.";

/**
 * The sandbox's CloudFormation side: each commit may say what its template changes (plan), and when
 * a pipeline's CHANGE_SET_REPLACE action succeeds for that commit's execution, the change set it
 * names is created with those changes (by default, SAFE_CHANGES).
 */
export class ChangePlans {
  readonly #plans = new Map<string, ChangePlan>();

  constructor(private readonly cloudformation: CloudFormationEmulator) {}

  plan(revisionId: string, plan: ChangePlan): void {
    this.#plans.set(revisionId, structuredClone(plan));
  }

  /** For the CodePipeline emulator's onActionSucceeded. */
  readonly actionSucceeded = (facts: SucceededAction): void => {
    const { action } = facts;
    const configuration = action.configuration ?? {};
    if (action.actionTypeId?.provider !== 'CloudFormation' || configuration.ActionMode !== 'CHANGE_SET_REPLACE') return;
    const { StackName: stackName, ChangeSetName: changeSetName } = configuration;
    if (!stackName || !changeSetName) return;
    const { missing, ...plan } = this.#plans.get(facts.revisionId) ?? { changes: [...SAFE_CHANGES] };
    this.cloudformation.putChangeSet({ stackName, changeSetName, ...structuredClone(plan) });
    if (missing) this.cloudformation.deleteChangeSet(stackName, changeSetName);
  };
}
