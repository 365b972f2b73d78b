import { readFileSync } from 'node:fs';
import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { GreenlightStack, type GreenlightStackProps } from '../../infra/greenlight-stack.ts';
import { repoPath } from '../../infra/paths.ts';

/** The context `cdk synth` runs with: cdk.json's feature flags. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(repoPath('cdk.json'), 'utf8')).context;

export const ENV = { account: '123456789012', region: 'eu-central-1' };

export const BASE_PROPS: GreenlightStackProps = {
  env: ENV,
  products: { shop: {}, payments: { prefix: 'pay-' } },
  approvalsChannel: 'C0123456789',
  // Template tests skip esbuild: handler-bundles.test.ts bundles the real handlers.
  handlerCode: Code.fromInline('export const handler = async () => undefined;'),
};

export interface Synthesized {
  readonly app: App;
  readonly stack: GreenlightStack;
  readonly template: Template;
}

/**
 * Synthesizes the stack as `cdk synth` does, with inline code instead of esbuild bundles.
 * cdk-nag's AwsSolutions checks are registered as in infra/main.ts, so any unacknowledged
 * finding makes synthesis throw with cdk-nag's report.
 */
export function synthGreenlight(
  overrides: Partial<GreenlightStackProps> = {},
  base: GreenlightStackProps = BASE_PROPS,
): Synthesized {
  const app = new App({ context: CDK_JSON_CONTEXT });
  const stack = new GreenlightStack(app, 'Greenlight', { ...base, ...overrides });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

/**
 * Builds a stack in an app of its own and synthesizes the app as `cdk synth` does: with cdk-nag's
 * AwsSolutions checks, whose findings (rule names) over every stack of the app are returned, not thrown.
 */
export function synthChecked<T extends Stack>(build: (app: App) => T): { stack: T; violations: string[] } {
  const app = new App({ context: CDK_JSON_CONTEXT });
  const stack = build(app);
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  app.synth();
  return { stack, violations: checks.validateScope(app).violations.map((v) => v.ruleName) };
}

/** Every acknowledgement (Validations.of(x).acknowledge) in the tree: where, which rule, why. */
export function acknowledgements(root: IConstruct): { path: string; id: string; reason: unknown }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

export type Statement = {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every policy document in the template: identity, resource and trust policies. */
export function allStatements(template: Template): { resource: string; statement: Statement }[] {
  const resources = template.toJSON().Resources as Record<string, { Properties?: Record<string, unknown> }>;
  const documents = (properties: Record<string, unknown>): unknown[] => [
    properties.PolicyDocument,
    properties.AssumeRolePolicyDocument,
    ...asList(properties.Policies as { PolicyDocument: unknown }[]).map((policy) => policy.PolicyDocument),
  ];
  return Object.entries(resources).flatMap(([resource, { Properties = {} }]) =>
    documents(Properties)
      .filter((document): document is { Statement: Statement[] } => typeof document === 'object' && document !== null)
      .flatMap((document) => document.Statement.map((statement) => ({ resource, statement }))),
  );
}

/** The identity-policy statements attached to one handler's role. */
export function handlerStatements(template: Template, handler: string): Statement[] {
  const logicalPrefix = `${handler.replace(/-/g, '')}Role`;
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([, policy]) =>
      asList(policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(logicalPrefix)),
    )
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/**
 * Products in two other accounts (docs/architecture.md, "Many accounts and regions"): shop's qa in
 * account A (eu-west-1) and its prod in B (us-west-2), blog in A (eu-central-1), payments at home.
 */
export const A = '111122223333';
export const B = '444455556666';
export const OTHER_ACCOUNT_PRODUCTS = {
  shop: {
    account: A,
    region: 'eu-west-1',
    roleArn: `arn:aws:iam::${A}:role/GreenlightAccess`,
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: { stage: 'StagingQA', account: B, region: 'us-west-2', roleArn: `arn:aws:iam::${B}:role/GreenlightAccess` },
    },
  },
  blog: { account: A, region: 'eu-central-1', roleArn: `arn:aws:iam::${A}:role/GreenlightAccess` },
  payments: { prefix: 'pay-' },
};

export const C = '777788889999';

/**
 * OTHER_ACCOUNT_PRODUCTS and a product `desk` whose prod env is deployed to several places
 * (`targets`), each in an account of its own: `[account, region]` pairs.
 */
export function withDeskIn(places: readonly (readonly [string, string])[]) {
  return {
    ...OTHER_ACCOUNT_PRODUCTS,
    desk: {
      envs: {
        prod: {
          stage: 'StagingQA',
          targets: places.map(([account, region]) => ({
            account,
            region,
            roleArn: `arn:aws:iam::${account}:role/GreenlightAccess`,
          })),
        },
      },
    },
  };
}

/** The statements of the approvals topic's key policy that the stack adds (not CDK's default one). */
export function keyStatements(template: Template): Statement[] {
  const keys = Object.values(template.findResources('AWS::KMS::Key'));
  expect(keys).toHaveLength(1);
  const statements: (Statement & { Sid?: string })[] = keys[0]?.Properties.KeyPolicy.Statement ?? [];
  return statements.filter((statement) => statement.Sid);
}

/**
 * What the approvals topic's key must allow (docs/architecture.md, "Many accounts and regions"):
 * any principal of Greenlight's account, as the AWS-managed SNS key does, and the `accounts` whose
 * pipelines publish; both only through the region's SNS and for a topic of Greenlight's account.
 */
export function publishThroughSns(accounts: readonly string[]): unknown[] {
  const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
  const viaSns = { 'kms:ViaService': join('sns.', { Ref: 'AWS::Region' }, '.amazonaws.com') };
  const ourTopics = {
    'kms:EncryptionContext:aws:sns:topicArn': join(
      'arn:',
      { Ref: 'AWS::Partition' },
      ':sns:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':*',
    ),
  };
  const base = { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' };
  return [
    {
      ...base,
      Sid: 'OwnAccountPublishesThroughSns',
      Principal: { AWS: '*' },
      Condition: { StringEquals: { ...viaSns, 'kms:CallerAccount': { Ref: 'AWS::AccountId' } }, StringLike: ourTopics },
    },
    {
      ...base,
      Sid: 'PipelineAccountsPublishThroughSns',
      Principal: {
        AWS: accounts.length === 1 ? `arn:aws:iam::${accounts[0]}:root` : accounts.map((a) => `arn:aws:iam::${a}:root`),
      },
      Condition: { StringEquals: viaSns, StringLike: ourTopics },
    },
  ];
}
