import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { BuildSpec, PipelineProject } from 'aws-cdk-lib/aws-codebuild';
import { Artifact, ExecutionMode, type IAction, Pipeline, PipelineType } from 'aws-cdk-lib/aws-codepipeline';
import { CodeBuildAction, ManualApprovalAction, S3SourceAction, S3Trigger } from 'aws-cdk-lib/aws-codepipeline-actions';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, wildcardAction, wildcardResource } from '../nag.ts';

export interface DemoProductProps {
  /** Pipeline name prefix, `<product>-`: the pipelines are `<prefix>service1` … */
  readonly prefix: string;
  readonly services: number;
  /** Where the approval actions publish their requests (the Greenlight approvals topic). */
  readonly notificationTopic: ITopic;
}

/**
 * A product of service pipelines as in docs/concepts.md: Source → Build → StagingDEV (Deploy, Test,
 * Approve) → StagingQA (Deploy, Test, Approve) → StagingPROD (Deploy). Every build step is a
 * no-op CodeBuild run, so the pipelines cost next to nothing and only the approvals matter.
 * A pipeline starts when `<service>/source.zip` is uploaded to the bucket and "Release change"
 * is pressed (S3 change events would need a CloudTrail trail).
 */
export class DemoProduct extends Construct {
  readonly bucket: Bucket;
  readonly pipelines: Pipeline[] = [];

  constructor(scope: Construct, id: string, props: DemoProductProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true, // an S3 source action requires a versioned bucket
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    });
    const noop = new PipelineProject(this, 'Noop', {
      description: 'Greenlight demo: a build, deploy or test step that does nothing',
      timeout: Duration.minutes(5),
      buildSpec: BuildSpec.fromObject({
        version: '0.2',
        phases: { build: { commands: ['echo "$STEP $CODEBUILD_RESOLVED_SOURCE_VERSION"'] } },
      }),
    });

    // A Bucket is an IBucket, but aws-cdk-lib's types are not written for exactOptionalPropertyTypes:
    // Bucket's `isWebsite` getter (`boolean | undefined`) does not match IBucket's optional `isWebsite`.
    const bucket = this.bucket as IBucket;
    for (let n = 1; n <= props.services; n++) {
      const service = `service${n}`;
      const source = new Artifact(`${service}Source`);
      const step = (actionName: string, stage: string, runOrder = 1): IAction =>
        new CodeBuildAction({
          actionName,
          project: noop,
          input: source,
          runOrder,
          environmentVariables: { STEP: { value: `${stage} ${actionName}` } },
        });
      const approve = (next: string): IAction =>
        new ManualApprovalAction({
          actionName: 'Approve',
          runOrder: 3,
          notificationTopic: props.notificationTopic,
          additionalInformation: `Approve to stage into ${next}.`,
        });
      this.pipelines.push(
        new Pipeline(this, service, {
          pipelineName: `${props.prefix}${service}`,
          pipelineType: PipelineType.V2,
          executionMode: ExecutionMode.SUPERSEDED,
          artifactBucket: bucket,
          stages: [
            {
              stageName: 'Source',
              actions: [
                new S3SourceAction({
                  actionName: 'Source',
                  bucket,
                  bucketKey: `${service}/source.zip`,
                  trigger: S3Trigger.NONE,
                  output: source,
                }),
              ],
            },
            { stageName: 'Build', actions: [step('Build', 'Build')] },
            {
              stageName: 'StagingDEV',
              actions: [step('Deploy', 'StagingDEV'), step('Test', 'StagingDEV', 2), approve('QA')],
            },
            {
              stageName: 'StagingQA',
              actions: [step('Deploy', 'StagingQA'), step('Test', 'StagingQA', 2), approve('PROD')],
            },
            { stageName: 'StagingPROD', actions: [step('Deploy', 'StagingPROD')] },
          ],
        }),
      );
    }
    this.acknowledgeDemoFindings(noop);
  }

  private acknowledgeDemoFindings(noop: PipelineProject): void {
    const stack = Stack.of(this);
    acknowledge(
      this.bucket,
      'Demo bucket of placeholder sources and pipeline artifacts: access logs would cost more than they tell.',
      'AwsSolutions-S1',
    );
    acknowledge(
      noop,
      'Demo no-op builds read placeholder sources and write nothing; the S3-managed key encrypts the artifacts.',
      'AwsSolutions-CB4',
    );
    acknowledge(
      this,
      'Demo pipelines: these are the standard grants aws-cdk-lib gives CodePipeline and CodeBuild on the ' +
        "demo bucket's objects and on the no-op project's own log group and report groups.",
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:PutObject*', 's3:Abort*'].map(
        wildcardAction,
      ),
      wildcardResource(this, `${this.bucket.bucketArn}/*`),
      wildcardResource(
        this,
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: `/aws/codebuild/${noop.projectName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
      wildcardResource(
        this,
        stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${noop.projectName}-*` }),
      ),
    );
  }
}
