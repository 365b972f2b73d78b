import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AccessStack, type AccessStackProps, EventForwardingStack } from '../../infra/access-stack.ts';
import { readAccessSettings, SettingsError } from '../../infra/config.ts';
import { A, B, CDK_JSON_CONTEXT, ENV, OTHER_ACCOUNT_PRODUCTS, synthGreenlight } from './synth.ts';

/*
 * CodePipeline's events from other accounts (issue #15; docs/architecture.md, "Many accounts and
 * regions"): each pipeline account's GreenlightAccess forwards them to Greenlight's default bus with a
 * role that may only put events there; Greenlight's bus takes them from exactly the configured
 * accounts, and its pipeline-events rule matches them.
 */

const PRODUCTS = OTHER_ACCOUNT_PRODUCTS;
const BUS = `arn:aws:events:${ENV.region}:${ENV.account}:event-bus/default`;

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: unknown; Resource?: unknown; Principal?: unknown; Condition?: unknown };

/** Synthesizes `stack` with cdk-nag's AwsSolutions checks, as infra/main.ts does; returns its template and findings. */
function synthWithNag(app: App, stack: AccessStack | EventForwardingStack) {
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  app.synth();
  return {
    template: Template.fromStack(stack),
    violations: checks.validateScope(app).violations.map((v) => v.ruleName),
  };
}

/** GreenlightAccess for account A, deployed in eu-west-1; `bus` null: without greenlightEventBus. */
function synthAccess(bus: string | null = BUS) {
  const app = new App({ context: CDK_JSON_CONTEXT });
  const props: AccessStackProps = {
    env: { account: A, region: 'eu-west-1' },
    products: PRODUCTS,
    account: A,
    greenlightRoleArns: ['arn:aws:iam::123456789012:role/Greenlight-pipelineeventsRole-AAAA'],
    greenlightApproverRoleArns: [],
    externalId: 'greenlight-prod-7f3a',
  };
  const stack = new AccessStack(app, 'GreenlightAccess', bus ? { ...props, greenlightEventBus: bus } : props);
  return { stack, ...synthWithNag(app, stack) };
}

const resourcesOf = (template: Template, type: string): Resource[] =>
  Object.values(template.findResources(type)) as Resource[];

/** The forwarding rule's target, its role's trust and the role's permissions. */
function forwarding(template: Template) {
  const [rule, ...more] = resourcesOf(template, 'AWS::Events::Rule');
  const targets = (rule?.Properties.Targets ?? []) as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string, string] } }[];
  const roleId = targets[0]?.RoleArn['Fn::GetAtt'][0] ?? '';
  const role = template.toJSON().Resources[roleId] as Resource;
  const policies = resourcesOf(template, 'AWS::IAM::Policy').filter((policy) =>
    JSON.stringify(policy.Properties.Roles).includes(roleId),
  );
  return {
    rules: [rule, ...more],
    pattern: rule?.Properties.EventPattern as Record<string, unknown>,
    targets,
    trust: (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement,
    permissions: policies.flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    ),
    managed: role.Properties.ManagedPolicyArns,
  };
}

describe('GreenlightAccess with greenlightEventBus', () => {
  it("forwards this region's CodePipeline events of the account's products to Greenlight's bus, with a role that may only put events there", () => {
    // Act
    const { template } = synthAccess();
    const { rules, pattern, targets, trust, permissions, managed } = forwarding(template);
    // Assess
    expect(rules).toHaveLength(1);
    expect(targets).toEqual([expect.objectContaining({ Arn: BUS })]);
    expect(pattern).toMatchObject({
      source: ['aws.codepipeline'],
      'detail-type': [
        'CodePipeline Pipeline Execution State Change',
        'CodePipeline Stage Execution State Change',
        'CodePipeline Action Execution State Change',
      ],
      detail: { pipeline: [{ prefix: 'shop-' }] },
    });
    expect(trust).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': A } },
      }),
    ]);
    expect(permissions).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS }]);
    expect(managed).toBeUndefined();
  });

  it('matches the same events as Greenlight’s own pipeline-events rule, which names no account and so matches forwarded ones', () => {
    // Act
    const access = forwarding(synthAccess().template).pattern;
    const own = resourcesOf(
      synthGreenlight({ products: PRODUCTS, externalId: 'greenlight-prod-7f3a' }).template,
      'AWS::Events::Rule',
    ).find((rule) => JSON.stringify(rule.Properties.EventPattern ?? {}).includes('aws.codepipeline'))?.Properties
      .EventPattern as Record<string, Record<string, unknown>>;
    // Assess
    expect(own).not.toHaveProperty('account');
    expect(access).not.toHaveProperty('account');
    expect({ ...access, detail: { ...(access.detail as object), pipeline: [] } }).toEqual({
      ...own,
      detail: { ...own.detail, pipeline: [] },
    });
  });

  it('leaves the products of its other regions to a forwarding stack there, which is clean under cdk-nag too', () => {
    // Prepare
    const { stack } = synthAccess();
    const app = new App({ context: CDK_JSON_CONTEXT });
    const elsewhere = new EventForwardingStack(app, 'GreenlightAccessEvents-eu-central-1', {
      env: { account: A, region: 'eu-central-1' },
      eventBusArn: BUS,
      prefixes: ['blog-'],
    });
    // Act
    const { template, violations } = synthWithNag(app, elsewhere);
    // Assess
    expect(stack.forwardElsewhere).toEqual(['eu-central-1']);
    expect(forwarding(template).pattern).toMatchObject({ detail: { pipeline: [{ prefix: 'blog-' }] } });
    expect(forwarding(template).permissions).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS }]);
    expect(violations).toEqual([]);
  });

  it('is clean under cdk-nag', () => {
    // Act
    const { violations } = synthAccess();
    // Assess
    expect(violations).toEqual([]);
  });

  it('forwards nothing without greenlightEventBus', () => {
    // Act
    const { stack, template } = synthAccess(null);
    // Assess
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(stack.forwardElsewhere).toEqual([]);
  });
});

describe("Greenlight's default bus with products in other accounts", () => {
  it('lets exactly the configured accounts put CodePipeline events on it, and names it as an output', () => {
    // Act
    const { template } = synthGreenlight({ products: PRODUCTS, externalId: 'greenlight-prod-7f3a' });
    const policies = resourcesOf(template, 'AWS::Events::EventBusPolicy');
    // Assess
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties).toMatchObject({
      EventBusName: 'default',
      StatementId: 'GreenlightPipelineAccounts',
    });
    const statement = policies[0]?.Properties.Statement as Statement;
    expect(statement.Principal).toEqual({
      AWS: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${A}:root`]] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${B}:root`]] },
      ],
    });
    expect(statement.Action).toBe('events:PutEvents');
    expect(statement.Condition).toEqual({
      'ForAllValues:StringEquals': { 'events:source': ['aws.codepipeline'] },
      Null: { 'events:source': 'false' },
    });
    template.hasOutput('GreenlightEventBusArn', {});
  });

  it('keeps its bus to itself without products in other accounts', () => {
    // Act
    const { template } = synthGreenlight();
    // Assess
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    expect(Object.keys(template.findOutputs('GreenlightEventBusArn'))).toEqual([]);
  });
});

describe('the greenlightEventBus setting', () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];
  const step2 = {
    greenlightRoleArns:
      'arn:aws:iam::123456789012:role/Greenlight-pipelineeventsRole-AAAA,arn:aws:iam::123456789012:role/Greenlight-slackeventsRole-BBBB',
    greenlightApproverRoleArns: 'arn:aws:iam::123456789012:role/Greenlight-slackeventsRole-BBBB',
    externalId: 'greenlight-prod-7f3a',
    accessAccount: A,
  };

  it('is read with the access stack’s settings, and optional', () => {
    // Act / Assess
    expect(readAccessSettings(context({ ...step2, greenlightEventBus: BUS }), undefined)).toMatchObject({
      greenlightEventBus: BUS,
    });
    expect(readAccessSettings(context(step2), undefined)).not.toHaveProperty('greenlightEventBus');
  });

  it('refuses anything but a default event bus ARN, naming the key', () => {
    // Act / Assess
    expect(() =>
      readAccessSettings(
        context({ ...step2, greenlightEventBus: `arn:aws:events:eu-central-1:${ENV.account}:event-bus/custom` }),
        undefined,
      ),
    ).toThrow(SettingsError);
    expect(() => readAccessSettings(context({ ...step2, greenlightEventBus: '123456789012' }), undefined)).toThrow(
      /greenlightEventBus/,
    );
  });
});
