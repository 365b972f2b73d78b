import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { GreenlightStack, type GreenlightStackProps } from '../../infra/greenlight-stack.ts';
import { acknowledgements, BASE_PROPS, CDK_JSON_CONTEXT } from './synth.ts';

/** Synthesizes like infra/main.ts and returns cdk-nag's AwsSolutions findings left unacknowledged. */
function awsSolutionsFindings(props: GreenlightStackProps) {
  const app = new App({ context: CDK_JSON_CONTEXT });
  new GreenlightStack(app, 'Greenlight', props);
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  app.synth();
  const report = checks.validateScope(app);
  return { app, violations: report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`) };
}

describe('cdk-nag AwsSolutions', () => {
  const { env: _, ...environmentAgnostic } = BASE_PROPS;
  it.each([
    ['the default stack', BASE_PROPS],
    ['an environment-agnostic stack (offline cdk synth)', environmentAgnostic],
    [
      'a stack with the demo product, publishers and an alarm topic',
      {
        ...BASE_PROPS,
        products: { ...BASE_PROPS.products, demo: {} },
        demo: { product: 'demo', services: 2 },
        publisherRoleArns: ['arn:aws:iam::123456789012:role/pipeline'],
        alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:on-call',
      },
    ],
  ])('finds nothing unacknowledged in %s', (_name, props: GreenlightStackProps) => {
    // Act
    const { violations } = awsSolutionsFindings(props);
    // Assess
    expect(violations).toEqual([]);
  });

  it('acknowledges findings only with a reason', () => {
    // Act
    const { app } = awsSolutionsFindings({ ...BASE_PROPS, demo: { product: 'shop', services: 1 } });
    const acks = acknowledgements(app);
    // Assess
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) {
      expect(ack.id).toMatch(/AwsSolutions-/);
      expect(String(ack.reason).length, `${ack.path} ${ack.id}`).toBeGreaterThan(40);
    }
  });
});
