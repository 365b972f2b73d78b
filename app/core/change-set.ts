/**
 * The CloudFormation change set an approval gates (docs/what-am-i-approving.md): the "Prepare"
 * action creates it (CHANGE_SET_REPLACE), the approval stands between it and the action that
 * executes it (CHANGE_SET_EXECUTE), as CDK Pipelines builds its manual gate. What it
 * would replace or remove is what an approver most needs to see: a replaced table or queue can
 * mean an outage.
 *
 * JSON-safe, so it is stored with the request as it is.
 */

/** ResourceChange.Action (CloudFormation API reference). */
export type ChangeAction = 'Add' | 'Modify' | 'Remove' | 'Import' | 'Dynamic';
/** ResourceChange.Replacement: `Conditional` depends on a value only known when the change runs. */
export type Replacement = 'True' | 'False' | 'Conditional';

/** One resource change, as the message shows it. */
export interface ResourceChangeLine {
  logicalId: string;
  type: string;
  action: ChangeAction;
  replacement?: Replacement;
  /** It adds or changes IAM or a resource policy: it may widen who may do what. */
  iam?: true;
}

/** What a change set's changes amount to. */
export interface ChangeCounts {
  add: number;
  modify: number;
  remove: number;
  /** Import and Dynamic changes, rare enough to be counted together. */
  other: number;
  /** Modifications that replace the resource (`True`), and those that may (`Conditional`). */
  replace: number;
  mayReplace: number;
  iam: number;
}

/** Which change set, where (what the CHANGE_SET_REPLACE action names). */
export interface ChangeSetRef {
  stackName: string;
  changeSetName: string;
  region: string;
  /** The role the action runs with, for the stack's own account (cross-account pipelines). */
  roleArn?: string;
}

/**
 * The most changes kept with a request. The DynamoDB item holds 400 KB; at most ~100 bytes a line
 * this keeps it far below that, and a modal shows about as many (views/change-set-lines.ts).
 */
export const STORED_CHANGES = 1_000;

export type ChangeSetReview = Pick<ChangeSetRef, 'stackName' | 'changeSetName' | 'region'> &
  (
    | {
        kind: 'read';
        counts: ChangeCounts;
        /** Ordered for reading: replacements, possible replacements, removals, IAM, then the rest. */
        changes: ResourceChangeLine[];
        /** All changes the change set holds (`changes` keeps at most STORED_CHANGES). */
        total: number;
      }
    /** The change set FAILED because the template changes nothing: nothing would be deployed. */
    | { kind: 'empty' }
    /** ChangeSetNotFound: deleted, or not created (yet) under that name. */
    | { kind: 'missing' }
    /** Greenlight may not read it (AccessDenied). */
    | { kind: 'denied' }
    /** It FAILED for another reason (its StatusReason), or is still being created. */
    | { kind: 'failed'; reason?: string }
    | { kind: 'pending'; status: string }
    /** It could not be read now (CloudFormation did not answer), or its names are set by variables. */
    | { kind: 'unreadable'; why: string }
  );

/** A resource change as DescribeChangeSet gives it, reduced to what is shown. */
export interface RawResourceChange {
  action?: string;
  logicalId?: string;
  type?: string;
  replacement?: string;
  /** Names of the properties the change touches (Details[].Target.Name). */
  properties?: string[];
}

/** Types whose whole purpose is to grant: adding or changing one may widen access. */
const GRANTING_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::RolePolicy',
  'AWS::IAM::UserPolicy',
  'AWS::IAM::GroupPolicy',
  'AWS::IAM::User',
  'AWS::IAM::Group',
  'AWS::IAM::UserToGroupAddition',
  'AWS::IAM::AccessKey',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::OIDCProvider',
  'AWS::IAM::SAMLProvider',
  'AWS::S3::BucketPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::Lambda::Permission',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::KMS::Grant',
  'AWS::Events::EventBusPolicy',
  'AWS::Logs::ResourcePolicy',
]);

/** Properties that hold a policy on resources of other types (a key policy, a repository policy…). */
const POLICY_PROPERTIES = new Set([
  'Policies',
  'PolicyDocument',
  'AssumeRolePolicyDocument',
  'ManagedPolicyArns',
  'KeyPolicy',
  'PolicyText',
  'RepositoryPolicyText',
  'ResourcePolicy',
  'AccessPolicies',
  'Role',
  'RoleArn',
]);

const ACTIONS: readonly ChangeAction[] = ['Add', 'Modify', 'Remove', 'Import', 'Dynamic'];

/**
 * Whether a change may widen access. The change set names the properties a change touches, not
 * whether the new policy allows more, so any added or changed grant counts: auto-approve must never
 * pass one, and an approver should look. Removing a grant narrows access and is not flagged.
 */
export function mayWidenAccess(change: RawResourceChange): boolean {
  if (change.action === 'Remove') return false;
  if (change.type && GRANTING_TYPES.has(change.type)) return true;
  return (change.properties ?? []).some((property) => POLICY_PROPERTIES.has(property));
}

const rank = (line: ResourceChangeLine): number =>
  line.replacement === 'True'
    ? 0
    : line.replacement === 'Conditional'
      ? 1
      : line.action === 'Remove'
        ? 2
        : line.iam
          ? 3
          : line.action === 'Add'
            ? 4
            : 5;

/** The lines, counts and order a change set's resource changes come to. */
export function readChanges(raw: readonly RawResourceChange[]): {
  counts: ChangeCounts;
  changes: ResourceChangeLine[];
  total: number;
} {
  const counts: ChangeCounts = { add: 0, modify: 0, remove: 0, other: 0, replace: 0, mayReplace: 0, iam: 0 };
  const lines: ResourceChangeLine[] = raw.map((change) => {
    const action = ACTIONS.find((known) => known === change.action) ?? 'Dynamic';
    const replacement =
      change.replacement === 'True' || change.replacement === 'False' || change.replacement === 'Conditional'
        ? change.replacement
        : undefined;
    const iam = mayWidenAccess(change);
    return {
      logicalId: change.logicalId ?? '(unnamed)',
      type: change.type ?? '(unknown type)',
      action,
      ...(replacement && replacement !== 'False' ? { replacement } : {}),
      ...(iam ? { iam: true as const } : {}),
    };
  });
  for (const line of lines) {
    if (line.action === 'Add') counts.add += 1;
    else if (line.action === 'Modify') counts.modify += 1;
    else if (line.action === 'Remove') counts.remove += 1;
    else counts.other += 1;
    if (line.replacement === 'True') counts.replace += 1;
    if (line.replacement === 'Conditional') counts.mayReplace += 1;
    if (line.iam) counts.iam += 1;
  }
  // Stable: within a rank, the change set's own order.
  const ordered = lines
    .map((line, index) => ({ line, index }))
    .sort((a, b) => rank(a.line) - rank(b.line) || a.index - b.index);
  return { counts, changes: ordered.slice(0, STORED_CHANGES).map(({ line }) => line), total: lines.length };
}

/**
 * Whether a change set is safe to approve without a person (`autoApprove: "safe-changes"`): it
 * replaces nothing (not even conditionally), removes nothing and adds or changes no grant. The
 * reason says why, either way: "4 modifications, no replacements" or "1 replacement: OrdersTable".
 */
export function safeChanges(review: ChangeSetReview | undefined): { safe: boolean; reason: string } {
  if (!review) return { safe: false, reason: 'no CloudFormation change set is gated by this approval' };
  if (review.kind !== 'read') return { safe: false, reason: `the change set could not be read (${review.kind})` };
  const { counts } = review;
  if (review.total > review.changes.length)
    return { safe: false, reason: `the change set has ${review.total} changes, more than Greenlight keeps` };
  const named = (lines: ResourceChangeLine[]) =>
    lines
      .slice(0, 3)
      .map((line) => line.logicalId)
      .join(', ') + (lines.length > 3 ? ', …' : '');
  const replaced = review.changes.filter((line) => line.replacement);
  if (replaced.length > 0)
    return { safe: false, reason: `${plural(replaced.length, 'replacement')}: ${named(replaced)}` };
  const removed = review.changes.filter((line) => line.action === 'Remove');
  if (removed.length > 0) return { safe: false, reason: `${plural(removed.length, 'removal')}: ${named(removed)}` };
  const grants = review.changes.filter((line) => line.iam);
  if (grants.length > 0)
    return { safe: false, reason: `${plural(grants.length, 'IAM or policy change')}: ${named(grants)}` };
  if (counts.other > 0) return { safe: false, reason: `${plural(counts.other, 'import or dynamic change')}` };
  const parts = [
    counts.add > 0 ? plural(counts.add, 'addition') : undefined,
    counts.modify > 0 ? plural(counts.modify, 'modification') : undefined,
  ].filter(Boolean);
  if (parts.length === 0) return { safe: false, reason: 'the change set has no changes' };
  return { safe: true, reason: `${parts.join(', ')}, no replacements` };
}

export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** An action of a pipeline's structure (GetPipeline), as far as finding change sets and sources goes. */
export interface LayoutAction {
  name: string;
  category: string;
  provider: string;
  runOrder: number;
  configuration: Readonly<Record<string, string>>;
  region?: string;
  roleArn?: string;
}

export interface PipelineLayout {
  stages: ReadonlyArray<{ name: string; actions: readonly LayoutAction[] }>;
}

const isCloudFormation = (action: LayoutAction, mode: string) =>
  action.category === 'Deploy' && action.provider === 'CloudFormation' && action.configuration.ActionMode === mode;

const sameChangeSet = (a: LayoutAction, b: LayoutAction) =>
  a.configuration.StackName === b.configuration.StackName &&
  a.configuration.ChangeSetName === b.configuration.ChangeSetName &&
  (a.region ?? '') === (b.region ?? '');

/**
 * The change set an approval gates: one a CHANGE_SET_REPLACE action creates before the approval (an
 * earlier run order of its stage, or the stage before) and a CHANGE_SET_EXECUTE action executes
 * after it (a later run order, or the next stage). Undefined when there is none; `variables` when
 * its names are set by variables (`#{…}`), which only the running action knows.
 */
export function gatedChangeSet(
  layout: PipelineLayout,
  stageName: string,
  actionName: string,
  region: string,
): ChangeSetRef | { variables: true } | undefined {
  const at = layout.stages.findIndex((stage) => stage.name === stageName);
  const stage = layout.stages[at];
  const approval = stage?.actions.find((action) => action.name === actionName);
  if (!stage || !approval) return undefined;
  const before = [
    ...stage.actions.filter((action) => action.runOrder < approval.runOrder),
    ...(layout.stages[at - 1]?.actions ?? []),
  ].filter((action) => isCloudFormation(action, 'CHANGE_SET_REPLACE'));
  const after = [
    ...stage.actions.filter((action) => action.runOrder > approval.runOrder),
    ...(layout.stages[at + 1]?.actions ?? []),
  ].filter((action) => isCloudFormation(action, 'CHANGE_SET_EXECUTE'));
  const prepare = before.find((candidate) => after.some((execute) => sameChangeSet(candidate, execute)));
  if (!prepare) return undefined;
  const { StackName: stackName, ChangeSetName: changeSetName } = prepare.configuration;
  if (!stackName || !changeSetName) return undefined;
  if (stackName.includes('#{') || changeSetName.includes('#{')) return { variables: true };
  return {
    stackName,
    changeSetName,
    region: prepare.region ?? region,
    ...(prepare.roleArn ? { roleArn: prepare.roleArn } : {}),
  };
}
