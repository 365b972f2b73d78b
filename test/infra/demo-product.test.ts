import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthGreenlight } from './synth.ts';

const { template } = synthGreenlight({ products: { shop: {} }, demo: { product: 'shop', services: 3 } });
const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline')).map((p) => p.Properties);

type Stage = { Name: string; Actions: { Name: string; RunOrder?: number; ActionTypeId: { Provider: string } }[] };
const stageOutline = (stages: Stage[]) =>
  stages.map((stage) => [stage.Name, stage.Actions.map((action) => `${action.Name}:${action.ActionTypeId.Provider}`)]);

describe('DemoProduct', () => {
  it('builds one V2 pipeline per service, named <product>-<service>, newest execution first', () => {
    // Assess
    expect(pipelines.map((p) => p.Name).sort()).toEqual(['shop-service1', 'shop-service2', 'shop-service3']);
    for (const pipeline of pipelines) {
      expect(pipeline).toMatchObject({ PipelineType: 'V2', ExecutionMode: 'SUPERSEDED' });
    }
  });

  it('lays out the stages of a service pipeline (docs/concepts.md), with approvals at the end of StagingDEV and StagingQA', () => {
    // Act
    const outlines = pipelines.map((p) => stageOutline(p.Stages));
    // Assess
    for (const outline of outlines) {
      expect(outline).toEqual([
        ['Source', ['Source:S3']],
        ['Build', ['Build:CodeBuild']],
        ['StagingDEV', ['Deploy:CodeBuild', 'Test:CodeBuild', 'Approve:Manual']],
        ['StagingQA', ['Deploy:CodeBuild', 'Test:CodeBuild', 'Approve:Manual']],
        ['StagingPROD', ['Deploy:CodeBuild']],
      ]);
    }
  });

  it('sends every approval request to the Greenlight topic, which the pipeline roles may publish to', () => {
    // Act
    const approvals = pipelines.flatMap((p) =>
      (p.Stages as Stage[]).flatMap((stage) => stage.Actions.filter((action) => action.Name === 'Approve')),
    );
    // Assess
    expect(approvals).toHaveLength(6);
    for (const approval of approvals) {
      expect(approval).toMatchObject({
        RunOrder: 3,
        Configuration: { NotificationArn: { Ref: expect.stringMatching(/^ApprovalsTopic/) } },
      });
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('^ApprovalsTopic') } },
        ]),
      },
    });
  });

  it('lets Greenlight approve the demo pipelines', () => {
    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'codepipeline:PutApprovalResult',
            Resource: 'arn:aws:codepipeline:eu-central-1:123456789012:shop-*/*',
          },
        ]),
      },
    });
  });
});
