import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { synthGreenlight } from './synth.ts';

const { stack, template } = synthGreenlight();
const pipelineEvents = stack.getLogicalId(stack.handlers['pipeline-events'].fn.node.defaultChild as CfnFunction);

describe('the reminder schedule', () => {
  it('hands pipeline-events a Scheduled Event every 15 minutes, with short retries and the DLQ', () => {
    // Act
    const rules = Object.entries(template.findResources('AWS::Events::Rule')).filter(
      ([, rule]) => rule.Properties.ScheduleExpression !== undefined,
    );
    // Assess
    expect(rules.map(([, rule]) => rule.Properties)).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({
            Arn: { 'Fn::GetAtt': [pipelineEvents, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^PipelineEventsDlq/), 'Arn'] } },
          }),
        ],
      }),
    ]);
    // Least privilege: EventBridge may invoke pipeline-events for this rule only.
    const [ruleId] = rules[0] ?? [];
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [pipelineEvents, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });
});
