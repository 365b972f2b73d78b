import { Aws, CfnOutput, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { CfnEventBusPolicy, type EventPattern, Match } from 'aws-cdk-lib/aws-events';
import { AccountPrincipal, AnyPrincipal, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type CfnTopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
// Like infra/config.ts, the one exception to "infra never imports app/": which accounts and roles
// the products name is computed once, in a pure core module, so the stack grants exactly what the app uses.
import { allTargets, type ProductOverride } from '../../app/core/products.ts';

/**
 * The CodePipeline events Greenlight follows (app/inbound/pipeline-events.ts): the three detail
 * types, of the pipelines with these name prefixes, in the states that can end an approval
 * (ENDING_STATES there) and STARTED, which links a waiting approval to its execution and starts a
 * deploy in its thread (core/journey.ts). Greenlight's own rule and each pipeline account's
 * forwarding rule (infra/access-stack.ts) match the same.
 */
export function pipelineEventPattern(prefixes: readonly string[]): EventPattern {
  return {
    source: ['aws.codepipeline'],
    detailType: [
      'CodePipeline Pipeline Execution State Change',
      'CodePipeline Stage Execution State Change',
      'CodePipeline Action Execution State Change',
    ],
    detail: {
      pipeline: Match.anyOf(...prefixes.map((prefix) => Match.prefix(prefix))),
      state: ['SUCCEEDED', 'FAILED', 'STOPPED', 'CANCELED', 'SUPERSEDED', 'ABANDONED', 'STARTED'],
    },
  };
}

/**
 * Lets the pipelines of `accounts` publish approvals to `topic` (as their service roles, which
 * also need sns:Publish in their own account's IAM), under a key of `scope`'s that those accounts
 * and the topic's own may use through SNS only: the AWS-managed SNS key cannot be used from
 * another account, its policy cannot be changed.
 *
 * The key's own account is let in as the AWS-managed key lets it in (every principal of the account,
 * through SNS): its publishers keep needing sns:Publish only. Naming the account as a principal
 * instead would only delegate to IAM, and their roles have no KMS permission. Both statements hold
 * for this account's topics only (SNS's encryption context names the topic): a pipeline account
 * cannot encrypt topics of its own with this key. By account, not by ARN: the topic refers to the
 * key, so the key cannot refer to the topic.
 */
export function openToPipelineAccounts(scope: Construct, topic: Topic, accounts: readonly string[]): Key {
  const key = new Key(scope, 'ApprovalsTopicKey', {
    description: 'Greenlight approvals topic: pipelines of the configured accounts publish through SNS',
    enableKeyRotation: true,
  });
  const throughSns = {
    StringEquals: { 'kms:ViaService': `sns.${Aws.REGION}.amazonaws.com` },
    StringLike: {
      'kms:EncryptionContext:aws:sns:topicArn': `arn:${Aws.PARTITION}:sns:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`,
    },
  };
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OwnAccountPublishesThroughSns',
      principals: [new AnyPrincipal()],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { ...throughSns, StringEquals: { ...throughSns.StringEquals, 'kms:CallerAccount': Aws.ACCOUNT_ID } },
    }),
  );
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'PipelineAccountsPublishThroughSns',
      principals: accounts.map((account) => new AccountPrincipal(account)),
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: throughSns,
    }),
  );
  (topic.node.defaultChild as CfnTopic).kmsMasterKeyId = key.keyArn;
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'PipelineAccountsPublish',
      principals: accounts.map((account) => new AccountPrincipal(account)),
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }),
  );
  // The pipelines' service roles need kms:GenerateDataKey* and kms:Decrypt on it in their own IAM:
  // a key of another account is used only when both its policy and the caller's allow it.
  new CfnOutput(Stack.of(scope), 'ApprovalsTopicKeyArn', {
    value: key.keyArn,
    description: "The approvals topic's key: the pipelines' service roles may use it (import the topic with it)",
  });
  return key;
}

export interface PipelineAccountsProps {
  readonly products: Readonly<Record<string, unknown>>;
  readonly approvalsTopic: Topic;
  /** The roles of the handlers that call CodePipeline in a product's account (ingest, click, worker, events). */
  readonly assumers: readonly IRole[];
  /** Those of `assumers` that answer approvals there (core/access.ts); the others only read. */
  readonly approvers: readonly IRole[];
  /** An existing SNS topic for alarm notifications, as for the operational alarms. */
  readonly alarmTopicArn?: string;
}

/**
 * What Greenlight's own account needs for products in other accounts (docs/architecture.md, "Many
 * accounts and regions"): the approvals topic accepts publishes from exactly those accounts, under
 * a key of its own (the AWS-managed SNS key cannot be used from another account: its policy cannot
 * be changed), and the handlers that call CodePipeline there may assume exactly the roles the
 * products name. The handlers' role ARNs are an output: each account's GreenlightAccess stack
 * trusts them, and only them. The default event bus takes CodePipeline's events from exactly those
 * accounts, which their GreenlightAccess stacks forward (`-c greenlightEventBus`, the
 * GreenlightEventBusArn output); Greenlight's pipeline-events rule names no account, so it matches
 * them as its own, and the app tells them apart by the event's `account`.
 */
export class PipelineAccounts extends Construct {
  /** The other accounts the products name, each once, sorted. */
  readonly accounts: readonly string[];
  /** One per account: Greenlight could not assume its role there (the app's `RoleNotAssumed` count). */
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineAccountsProps) {
    super(scope, id);
    const targets = allTargets(props.products as Readonly<Record<string, ProductOverride>>);
    this.accounts = [...new Set(targets.map((target) => target.account))].sort();
    if (targets.length === 0) return;

    openToPipelineAccounts(this, props.approvalsTopic, this.accounts);

    // One statement naming each account: PutEvents of CodePipeline's events on the default bus, nothing else.
    const bus = `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`;
    new CfnEventBusPolicy(this, 'PipelineAccountsPutEvents', {
      eventBusName: 'default',
      // One per Greenlight stack: two installations in one account and region keep their own.
      statementId: `${Stack.of(this).stackName}PipelineAccounts`.slice(0, 64),
      statement: {
        Effect: 'Allow',
        Principal: { AWS: this.accounts.map((account) => `arn:${Aws.PARTITION}:iam::${account}:root`) },
        Action: 'events:PutEvents',
        Resource: bus,
        // Only CodePipeline's events, and never a request that names no source at all.
        Condition: {
          'ForAllValues:StringEquals': { 'events:source': ['aws.codepipeline'] },
          Null: { 'events:source': 'false' },
        },
      },
    });
    new CfnOutput(Stack.of(this), 'GreenlightEventBusArn', {
      value: bus,
      description:
        "Forward the pipeline accounts' CodePipeline events here: GreenlightAccess with -c greenlightEventBus=<this>",
    });

    const roleArns = [...new Set(targets.map((target) => target.roleArn))].sort();
    for (const role of props.assumers)
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: roleArns }));
    // At the stack's level, so the output keeps its plain name for the README's second step.
    new CfnOutput(Stack.of(this), 'GreenlightRoleArns', {
      value: Fn.join(
        ',',
        props.assumers.map((role) => role.roleArn),
      ),
      description: 'Deploy GreenlightAccess in each pipeline account with -c greenlightRoleArns=<this>',
    });
    new CfnOutput(Stack.of(this), 'GreenlightApproverRoleArns', {
      value: Fn.join(
        ',',
        props.approvers.map((role) => role.roleArn),
      ),
      description:
        'Deploy GreenlightAccess in each pipeline account with -c greenlightApproverRoleArns=<this>: only these may approve there',
    });

    // adapters/sts-credentials.ts counts each refusal with the account as a dimension (Powertools
    // adds `service`): one alarm per account, so the alarm says which access stack to look at.
    const action = props.alarmTopicArn
      ? new SnsAction(Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn))
      : undefined;
    for (const account of this.accounts) {
      const alarm = new Alarm(this, `RoleNotAssumed${account}`, {
        metric: new Metric({
          namespace: 'Greenlight',
          metricName: 'RoleNotAssumed',
          dimensionsMap: { service: 'greenlight', account },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `Greenlight: could not assume its role in account ${account} (check its GreenlightAccess stack and the external id).`,
      });
      if (action) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
      this.alarms.push(alarm);
    }
  }
}
