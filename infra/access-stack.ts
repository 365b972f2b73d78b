import { Stack, type StackProps } from 'aws-cdk-lib';
import { ArnPrincipal, CompositePrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
// Like infra/config.ts, the one exception to "infra never imports app/": which products live in this
// account is read by the same pure core rules the app routes by.
import { allTargets, type ProductOverride } from '../app/core/products.ts';
import { type ProductSettings, productPrefix } from './config.ts';
import { acknowledge, wildcardResource } from './nag.ts';

export interface AccessStackProps extends StackProps {
  /** The same products as Greenlight's (`-c products=…`): those whose account is `account` are granted here. */
  readonly products: Readonly<Record<string, ProductSettings>>;
  /** The pipeline account this stack is deployed into (`-c accessAccount=…`). */
  readonly account: string;
  /** Greenlight's handler roles (its GreenlightRoleArns output): the only principals the role trusts. */
  readonly greenlightRoleArns: readonly string[];
  /** The external id Greenlight gives (`-c externalId=…`, GREENLIGHT_EXTERNAL_ID). */
  readonly externalId: string;
  /** Grant cloudformation:DescribeChangeSet, for the change-set preview (default true). */
  readonly changeSets?: boolean;
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
 * trusts only Greenlight's handler roles, and only with the external id; it may read and answer the
 * approvals of the pipelines of the products that live in this account (by their name prefix, in
 * their regions), and describe change sets for the preview. Nothing else.
 */
export class AccessStack extends Stack {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: AccessStackProps) {
    super(scope, id, props);
    const places = Object.entries(props.products).flatMap(([name, product]) =>
      allTargets({ [name]: product as ProductOverride })
        .filter((target) => target.account === props.account)
        .map((target) => ({ prefix: productPrefix(name, product), region: target.region })),
    );
    if (places.length === 0)
      throw new Error(`No product in products lives in account ${props.account}: nothing to grant GreenlightAccess`);
    if (props.greenlightRoleArns.length === 0) throw new Error('greenlightRoleArns: Greenlight has no roles to trust');

    this.role = new Role(this, 'Role', {
      roleName: ACCESS_ROLE_NAME,
      description: 'Greenlight reads and answers the manual approvals of its products here',
      assumedBy: new CompositePrincipal(...props.greenlightRoleArns.map((arn) => new ArnPrincipal(arn))),
      externalIds: [props.externalId],
    });

    const unique = (values: string[]) => [...new Set(values)].sort();
    const pipelines = unique(
      places.map(({ prefix, region }) =>
        this.formatArn({ service: 'codepipeline', region, account: props.account, resource: `${prefix}*` }),
      ),
    );
    // PutApprovalResult authorizes on the action: pipeline/stage/action.
    const actions = pipelines.map((arn) => `${arn}/*`);
    this.role.addToPolicy(new PolicyStatement({ actions: READS, resources: pipelines }));
    this.role.addToPolicy(new PolicyStatement({ actions: ['codepipeline:PutApprovalResult'], resources: actions }));
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
  }
}
