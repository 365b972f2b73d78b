import { Stack, type StackProps, Token } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { ArnPrincipal, CompositePrincipal, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
// Like infra/config.ts, the one exception to "infra never imports app/": which products live in this
// account is read by the same pure core rules the app routes by.
import { ACCESS_SESSION, type AccessSession } from '../app/core/access.ts';
import { allTargets, type ProductOverride } from '../app/core/products.ts';
import { type ProductSettings, productPrefix } from './config.ts';
import { pipelineEventPattern } from './constructs/pipeline-accounts.ts';
import { acknowledge, wildcardResource } from './nag.ts';

export interface AccessStackProps extends StackProps {
  /** The same products as Greenlight's (`-c products=…`): those whose account is `account` are granted here. */
  readonly products: Readonly<Record<string, ProductSettings>>;
  /** The pipeline account this stack is deployed into (`-c accessAccount=…`). */
  readonly account: string;
  /** Greenlight's handler roles (its GreenlightRoleArns output): the only principals the role trusts. */
  readonly greenlightRoleArns: readonly string[];
  /**
   * Those of them that answer approvals (its GreenlightApproverRoleArns output): only their sessions
   * may call PutApprovalResult here; the others may only read.
   */
  readonly greenlightApproverRoleArns: readonly string[];
  /** The external id Greenlight gives (`-c externalId=…`, GREENLIGHT_EXTERNAL_ID). */
  readonly externalId: string;
  /** Grant cloudformation:DescribeChangeSet, for the change-set preview (default true). */
  readonly changeSets?: boolean;
  /**
   * Greenlight's default event bus (`-c greenlightEventBus=…`, its GreenlightEventBusArn output):
   * forward this account's CodePipeline events there. Unset: no forwarding.
   */
  readonly greenlightEventBus?: string;
}

/** Where the products of `account` live: each one's pipeline name prefix and region. */
export function placesIn(
  products: Readonly<Record<string, ProductSettings>>,
  account: string,
): { prefix: string; region: string }[] {
  return Object.entries(products).flatMap(([name, product]) =>
    allTargets({ [name]: product as ProductOverride })
      .filter((target) => target.account === account)
      .map((target) => ({ prefix: productPrefix(name, product), region: target.region })),
  );
}

export interface EventForwardingProps {
  /** Greenlight's default event bus, in Greenlight's account. */
  readonly eventBusArn: string;
  /** The pipeline name prefixes of the products that live in this account and region. */
  readonly prefixes: readonly string[];
}

/**
 * Forwards this account's CodePipeline events (of the products' pipelines, in the states Greenlight
 * follows: infra/constructs/pipeline-accounts.ts) to Greenlight's default bus, unchanged: EventBridge
 * keeps the source `account` and `region` in each. A rule is regional, so one per region. The target
 * in another account needs a role here (EventBridge user guide, "Sending and receiving events
 * between AWS accounts"), which may only PutEvents on that one bus and only EventBridge of this
 * account may assume; Greenlight's bus policy accepts exactly the configured accounts. EventBridge
 * retries a delivery for 24 hours; what still fails is lost, and the next click or release settles
 * the approval as before.
 */
export class EventForwarding extends Construct {
  readonly rule: Rule;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      description: "EventBridge forwards this account's CodePipeline events to Greenlight's event bus",
      assumedBy: new ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.rule = new Rule(this, 'Rule', {
      description: "Greenlight: forward the products' CodePipeline state changes to Greenlight's event bus",
      eventPattern: pipelineEventPattern([...new Set(props.prefixes)].sort()),
      // The target adds events:PutEvents on exactly this bus to the role.
      targets: [
        new EventBusTarget(EventBus.fromEventBusArn(this, 'GreenlightBus', props.eventBusArn), { role: this.role }),
      ],
    });
  }
}

export interface EventForwardingStackProps extends StackProps, EventForwardingProps {}

/**
 * The forwarding rule for a region of the pipeline account other than GreenlightAccess's own
 * (`GreenlightAccessEvents-<region>`, infra/main.ts): a rule sees only its region's events.
 */
export class EventForwardingStack extends Stack {
  readonly forwarding: EventForwarding;

  constructor(scope: Construct, id: string, props: EventForwardingStackProps) {
    super(scope, id, props);
    this.forwarding = new EventForwarding(this, 'ForwardPipelineEvents', props);
  }
}

/** The role's name: the products' `roleArn` is `arn:aws:iam::<account>:role/GreenlightAccess`. */
export const ACCESS_ROLE_NAME = 'GreenlightAccess';

const READS = [
  'codepipeline:GetPipeline',
  'codepipeline:GetPipelineExecution',
  'codepipeline:GetPipelineState',
  'codepipeline:ListPipelineExecutions',
];

/**
 * GreenlightAccess, deployed into each account whose pipelines Greenlight approves (the second step
 * of the deploy, README "Pipelines in other accounts"): the one role Greenlight assumes there. It
 * trusts only Greenlight's handler roles, and only with the external id; it may read the pipelines
 * of the products that live in this account (by their name prefix, in their regions) and describe
 * change sets for the preview. Nothing else. Only the handlers that answer approvals may answer
 * them here too (app/core/access.ts): the trust policy holds each handler to its role session name,
 * `greenlight-approve` or `greenlight-read`, and PutApprovalResult is allowed to the first only.
 */
export class AccessStack extends Stack {
  readonly role: Role;
  /** This region's forwarding of CodePipeline events, with `greenlightEventBus` and products here. */
  readonly forwarding: EventForwarding | undefined;
  /**
   * With `greenlightEventBus`: the other regions whose products' events need a forwarding rule of
   * their own (EventForwardingStack), sorted.
   */
  readonly forwardElsewhere: readonly string[];

  constructor(scope: Construct, id: string, props: AccessStackProps) {
    super(scope, id, props);
    const places = placesIn(props.products, props.account);
    if (places.length === 0)
      throw new Error(`No product in products lives in account ${props.account}: nothing to grant GreenlightAccess`);
    if (props.greenlightRoleArns.length === 0) throw new Error('greenlightRoleArns: Greenlight has no roles to trust');
    const approvers = new Set(props.greenlightApproverRoleArns);
    const strangers = [...approvers].filter((arn) => !props.greenlightRoleArns.includes(arn));
    if (strangers.length > 0)
      throw new Error(
        `greenlightApproverRoleArns: ${strangers.join(', ')} not in greenlightRoleArns (give both outputs of the same Greenlight deploy)`,
      );
    const readers = props.greenlightRoleArns.filter((arn) => !approvers.has(arn));

    // Each handler as the session it is: the name shows in this account's CloudTrail, and it decides
    // what the session may do (below).
    const trusted = (arns: readonly string[], session: AccessSession) =>
      new CompositePrincipal(...arns.map((arn) => new ArnPrincipal(arn))).withConditions({
        StringEquals: { 'sts:ExternalId': props.externalId, 'sts:RoleSessionName': session },
      });
    const [first, ...others] = [
      ...(approvers.size > 0 ? [trusted([...approvers], ACCESS_SESSION.approve)] : []),
      ...(readers.length > 0 ? [trusted(readers, ACCESS_SESSION.read)] : []),
    ];
    this.role = new Role(this, 'Role', {
      roleName: ACCESS_ROLE_NAME,
      description: 'Greenlight reads the pipelines of its products here, and its approvers answer their approvals',
      // biome-ignore lint/style/noNonNullAssertion: greenlightRoleArns is not empty (checked above), so one of the two is there.
      assumedBy: first!,
    });
    for (const principal of others)
      this.role.assumeRolePolicy?.addStatements(
        new PolicyStatement({ actions: ['sts:AssumeRole'], principals: [principal] }),
      );

    const unique = (values: string[]) => [...new Set(values)].sort();
    const pipelines = unique(
      places.map(({ prefix, region }) =>
        this.formatArn({ service: 'codepipeline', region, account: props.account, resource: `${prefix}*` }),
      ),
    );
    // PutApprovalResult authorizes on the action: pipeline/stage/action.
    const actions = pipelines.map((arn) => `${arn}/*`);
    this.role.addToPolicy(new PolicyStatement({ actions: READS, resources: pipelines }));
    // An assumed role's aws:userid is `<role id>:<role session name>` (IAM policy variables).
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['codepipeline:PutApprovalResult'],
        resources: actions,
        conditions: { StringEquals: { 'aws:userid': `${this.role.roleId}:${ACCESS_SESSION.approve}` } },
      }),
    );
    this.role.addToPolicy(new PolicyStatement({ actions: ['codepipeline:ListPipelines'], resources: ['*'] }));
    const findings = [...pipelines, ...actions, '*'];
    if (props.changeSets !== false) {
      const stacks = unique(
        places.map(({ region }) =>
          this.formatArn({
            service: 'cloudformation',
            region,
            account: props.account,
            resource: 'stack',
            resourceName: '*',
          }),
        ),
      );
      this.role.addToPolicy(new PolicyStatement({ actions: ['cloudformation:DescribeChangeSet'], resources: stacks }));
      findings.push(...stacks);
    }
    acknowledge(
      this.role,
      'CodePipeline ListPipelines allows no resource but "*". Pipeline access is scoped to the products\' name prefixes ' +
        '(<prefix>* and <prefix>*/* for approval actions) in their regions, the only way to cover pipelines that do not ' +
        'exist yet; change sets are read, never changed, in the stacks of those regions.',
      ...new Set(findings.map((arn) => wildcardResource(this.role, arn))),
    );

    const here = Token.isUnresolved(this.region) ? [] : places.filter((place) => place.region === this.region);
    this.forwarding =
      props.greenlightEventBus && here.length > 0
        ? new EventForwarding(this, 'ForwardPipelineEvents', {
            eventBusArn: props.greenlightEventBus,
            prefixes: here.map((place) => place.prefix),
          })
        : undefined;
    this.forwardElsewhere = props.greenlightEventBus
      ? [...new Set(places.map((place) => place.region))].filter((region) => region !== this.region).sort()
      : [];
  }
}
