import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AccessStack, type AccessStackProps } from '../../infra/access-stack.ts';
import { readAccessSettings, readSettings, SettingsError } from '../../infra/config.ts';
import { GreenlightStack } from '../../infra/greenlight-stack.ts';
import {
  A,
  B,
  BASE_PROPS,
  C,
  keyStatements,
  OTHER_ACCOUNT_PRODUCTS,
  publishThroughSns,
  synthChecked,
  synthGreenlight,
  withDeskIn,
} from './synth.ts';

/*
 * Products in other accounts (docs/architecture.md, "Many accounts and regions"): Greenlight's topic
 * takes publishes from exactly their accounts and its handlers may assume exactly their roles; each
 * account's GreenlightAccess role trusts only Greenlight's handler roles and reaches only the products'
 * pipelines there.
 */

const PRODUCTS = OTHER_ACCOUNT_PRODUCTS;
const READER = 'arn:aws:iam::123456789012:role/Greenlight-approvalnotificationRole-AAAA';
const APPROVER = 'arn:aws:iam::123456789012:role/Greenlight-slackeventsRole-BBBB';
const GREENLIGHT_ROLES = [READER, APPROVER];

type Statement = {
  Sid?: string;
  Effect: string;
  Action: unknown;
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
};

function synthAccess(overrides: Partial<AccessStackProps> = {}) {
  const { stack, violations } = synthChecked(
    (app) =>
      new AccessStack(app, 'GreenlightAccess', {
        env: { account: A, region: 'eu-west-1' },
        products: PRODUCTS,
        account: A,
        greenlightRoleArns: GREENLIGHT_ROLES,
        greenlightApproverRoleArns: [APPROVER],
        externalId: 'greenlight-prod-7f3a',
        ...overrides,
      }),
  );
  return { template: Template.fromStack(stack), violations };
}

const statementsOf = (template: Template, type: string): Statement[] =>
  Object.values(template.findResources(type)).flatMap(
    (resource) =>
      ((resource.Properties as { PolicyDocument?: { Statement: Statement[] } }).PolicyDocument?.Statement ??
        []) as Statement[],
  );

describe('the GreenlightAccess stack', () => {
  it('trusts only the Greenlight roles it is given, with the external id, each under the session name of what it does', () => {
    // Act
    const { template } = synthAccess();
    // Assess
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'GreenlightAccess',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { AWS: APPROVER },
            Condition: {
              StringEquals: { 'sts:ExternalId': 'greenlight-prod-7f3a', 'sts:RoleSessionName': 'greenlight-approve' },
            },
          },
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { AWS: READER },
            Condition: {
              StringEquals: { 'sts:ExternalId': 'greenlight-prod-7f3a', 'sts:RoleSessionName': 'greenlight-read' },
            },
          },
        ],
      },
    });
  });

  it("grants reads on the pipelines of this account's products only, by prefix and region, and PutApprovalResult to approver sessions only", () => {
    // Act
    const { template } = synthAccess();
    const statements = statementsOf(template, 'AWS::IAM::Policy');
    // Assess
    const put = statements.find((s) => s.Action === 'codepipeline:PutApprovalResult');
    expect(put?.Resource).toEqual([
      `arn:aws:codepipeline:eu-central-1:${A}:blog-*/*`,
      `arn:aws:codepipeline:eu-west-1:${A}:shop-*/*`,
    ]);
    // An assumed role's aws:userid is `<role id>:<session name>`: only greenlight-approve sessions answer.
    const [roleId] = Object.keys(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'GreenlightAccess' } }),
    );
    expect(put?.Condition).toEqual({
      StringEquals: {
        'aws:userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': [roleId, 'RoleId'] }, ':greenlight-approve']] },
      },
    });
    const reads = statements.find((s) => Array.isArray(s.Action) && s.Action.includes('codepipeline:GetPipelineState'));
    expect(reads?.Resource).toEqual([
      `arn:aws:codepipeline:eu-central-1:${A}:blog-*`,
      `arn:aws:codepipeline:eu-west-1:${A}:shop-*`,
    ]);
    expect(reads?.Condition).toBeUndefined();
    // pay- lives in Greenlight's own account and shop's prod in account B: neither is granted here.
    expect(JSON.stringify(statements)).not.toContain('pay-');
    expect(JSON.stringify(statements)).not.toContain('us-west-2');
    expect(statements.flatMap((s) => s.Action)).not.toContain('codepipeline:*');
  });

  it('refuses approver roles that are not among the roles it trusts', () => {
    // Act / Assess
    expect(() => synthAccess({ greenlightApproverRoleArns: [APPROVER, `arn:aws:iam::${B}:role/Other`] })).toThrow(
      `greenlightApproverRoleArns: arn:aws:iam::${B}:role/Other not in greenlightRoleArns`,
    );
  });

  it('is clean under cdk-nag', () => {
    // Act
    const { violations } = synthAccess();
    // Assess
    expect(violations).toEqual([]);
  });

  it('refuses an account none of the products lives in', () => {
    // Act / Assess
    expect(() => synthAccess({ account: '999999999999' })).toThrow(/No product .* account 999999999999/);
  });
});

describe("Greenlight's stack with products in other accounts", () => {
  const synth = () => synthGreenlight({ products: PRODUCTS, externalId: 'greenlight-prod-7f3a' });

  it('lets exactly the configured accounts publish to the approvals topic, under a key they may use through SNS', () => {
    // Act
    const { template } = synth();
    const topicStatements = statementsOf(template, 'AWS::SNS::TopicPolicy');
    // Assess
    const publish = topicStatements.find((s) => s.Sid === 'PipelineAccountsPublish');
    expect(publish?.Principal).toEqual({ AWS: [`arn:aws:iam::${A}:root`, `arn:aws:iam::${B}:root`] });
    expect(publish?.Action).toBe('sns:Publish');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    // Greenlight's own pipelines publish with sns:Publish alone, as under the AWS-managed key.
    expect(keyStatements(template)).toEqual(publishThroughSns([A, B]));
    // The pipelines' service roles need the key in their own IAM too: given as an output.
    template.hasOutput('ApprovalsTopicKeyArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApprovalsTopicKey'), 'Arn'] },
    });
  });

  it("counts every place of an env deployed to several (targets) in the topic policy and Greenlight's roles", () => {
    // Prepare
    const products = withDeskIn([
      [B, 'eu-west-1'],
      [C, 'us-east-1'],
    ]);
    // Act
    const { template } = synthGreenlight({ products, externalId: 'greenlight-prod-7f3a' });
    // Assess
    const publish = statementsOf(template, 'AWS::SNS::TopicPolicy').find((s) => s.Sid === 'PipelineAccountsPublish');
    expect(publish?.Principal).toEqual({ AWS: [A, B, C].map((account) => `arn:aws:iam::${account}:root`) });
    const assumed = statementsOf(template, 'AWS::IAM::Policy').filter((s) => s.Action === 'sts:AssumeRole');
    expect(assumed.length).toBeGreaterThan(0);
    for (const statement of assumed) expect(statement.Resource).toContain(`arn:aws:iam::${C}:role/GreenlightAccess`);
  });

  it('lets every handler that calls CodePipeline assume exactly the roles the products name, and passes the external id', () => {
    // Act
    const { template } = synth();
    const statements = statementsOf(template, 'AWS::IAM::Policy').filter((s) => s.Action === 'sts:AssumeRole');
    const assumers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes('sts:AssumeRole'))
      .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref));
    // Assess
    expect(statements).toHaveLength(6);
    for (const handler of [
      'approvalnotification',
      'slackevents',
      'releaseworker',
      'releaseaction',
      'pipelineevents',
      'dailydigest',
    ])
      expect(assumers.some((role) => role.toLowerCase().includes(handler))).toBe(true);
    for (const statement of statements)
      expect(statement.Resource).toEqual([
        `arn:aws:iam::${A}:role/GreenlightAccess`,
        `arn:aws:iam::${B}:role/GreenlightAccess`,
      ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GREENLIGHT_EXTERNAL_ID: 'greenlight-prod-7f3a' }) },
    });
    template.hasOutput('GreenlightRoleArns', {});
  });

  it('names apart the handlers that answer approvals: a click, a release and its worker, and ingest when an env auto-approves', () => {
    // Prepare
    // The output joins the roles' ARNs, each a GetAtt of a handler's role, named after the handler.
    const approverRefs = (template: Template): string[] => {
      const output = template.findOutputs('GreenlightApproverRoleArns').GreenlightApproverRoleArns;
      expect(output).toBeDefined();
      return [...JSON.stringify(output).matchAll(/"Fn::GetAtt":\["(\w+)","Arn"\]/g)].map(([, id = '']) =>
        id.toLowerCase(),
      );
    };
    const autoApproving = {
      ...PRODUCTS,
      shop: {
        ...PRODUCTS.shop,
        envs: { ...PRODUCTS.shop.envs, qa: { stage: 'StagingDEV', autoApprove: 'safe-changes' } },
      },
    };
    // Act
    const plain = approverRefs(synth().template);
    const auto = approverRefs(
      synthGreenlight({ products: autoApproving, externalId: 'greenlight-prod-7f3a' }).template,
    );
    // Assess
    const handlersOf = (refs: string[]) =>
      ['approvalnotification', 'slackevents', 'releaseworker', 'releaseaction', 'pipelineevents', 'dailydigest'].filter(
        (handler) => refs.some((ref) => ref.includes(handler)),
      );
    expect(handlersOf(plain)).toEqual(['slackevents', 'releaseworker', 'releaseaction']);
    expect(handlersOf(auto)).toEqual(['approvalnotification', 'slackevents', 'releaseworker', 'releaseaction']);
  });

  it("refuses a product that names Greenlight's own account, and tells the app its account to refuse it at start too", () => {
    // Act / Assess: deployed into account A, which shop and blog name as another account.
    expect(() =>
      synthGreenlight({
        products: PRODUCTS,
        externalId: 'greenlight-prod-7f3a',
        env: { account: A, region: 'eu-west-1' },
      }),
    ).toThrow(/product "shop" account: 111122223333 is Greenlight's own account/);
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GREENLIGHT_ACCOUNT_ID: { Ref: 'AWS::AccountId' } }) },
    });
  });

  it('alarms when the role of an account cannot be assumed, one alarm per account', () => {
    // Act
    const { template } = synth();
    // Assess
    for (const account of [A, B])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'RoleNotAssumed',
        Namespace: 'Greenlight',
        Dimensions: Match.arrayWith([{ Name: 'account', Value: account }]),
        Threshold: 0,
      });
  });

  it('keeps the AWS-managed key, no topic policy for other accounts and no AssumeRole without such products', () => {
    // Act
    const { template } = synthGreenlight();
    // Assess
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(template.findOutputs('ApprovalsTopicKeyArn')).toEqual({});
    expect(statementsOf(template, 'AWS::IAM::Policy').filter((st) => st.Action === 'sts:AssumeRole')).toEqual([]);
    expect(
      statementsOf(template, 'AWS::SNS::TopicPolicy').find((s) => s.Sid === 'PipelineAccountsPublish'),
    ).toBeUndefined();
  });

  it('is clean under cdk-nag, with the approvals stacks of its other regions', () => {
    // Act
    const { stack, violations } = synthChecked(
      (app) =>
        new GreenlightStack(app, 'Greenlight', { ...BASE_PROPS, products: PRODUCTS, externalId: 'x-greenlight' }),
    );
    // Assess
    expect(stack.approvalsElsewhere).toHaveLength(2);
    expect(violations).toEqual([]);
  });
});

describe('settings for products in other accounts', () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];

  it('asks for the external id when a product names a role', () => {
    // Act / Assess
    expect(() => readSettings(context({ products: JSON.stringify(PRODUCTS) }))).toThrow(SettingsError);
    expect(() => readSettings(context({ products: JSON.stringify(PRODUCTS) }))).toThrow(/externalId/);
  });

  it('names the product and field of a role in another account than the product', () => {
    // Act / Assess
    expect(() =>
      readSettings(
        context({
          products: JSON.stringify({ shop: { account: A, region: 'eu-west-1', roleArn: `arn:aws:iam::${B}:role/X` } }),
          externalId: 'abc',
        }),
      ),
    ).toThrow(`product "shop" roleArn: the role is in account ${B}, not in the product's account ${A}`);
  });

  it('reads the access stack settings only when Greenlight role ARNs are given', () => {
    // Act
    const none = readAccessSettings(context({}), A);
    const step2 = { greenlightRoleArns: GREENLIGHT_ROLES.join(','), greenlightApproverRoleArns: APPROVER };
    const some = readAccessSettings(context({ ...step2, externalId: 'abc' }), A);
    // Assess
    expect(none).toBeUndefined();
    expect(some).toEqual({
      account: A,
      greenlightRoleArns: GREENLIGHT_ROLES,
      greenlightApproverRoleArns: [APPROVER],
      externalId: 'abc',
    });
    expect(() => readAccessSettings(context(step2), A)).toThrow(/externalId/);
    // Without the approvers every role would be trusted to approve: it is asked for by name.
    expect(() =>
      readAccessSettings(context({ greenlightRoleArns: step2.greenlightRoleArns, externalId: 'abc' }), A),
    ).toThrow(/greenlightApproverRoleArns: give Greenlight's GreenlightApproverRoleArns output too/);
  });
});
