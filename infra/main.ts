import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from './config.ts';
import { GreenlightStack } from './greenlight-stack.ts';

const app = new App();
const settings = readSettings((key) => app.node.tryGetContext(key));
const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;

new GreenlightStack(app, 'Greenlight', {
  ...settings,
  description: 'Greenlight: approve AWS CodePipeline manual approvals from Slack',
  // Environment-agnostic without credentials (offline synth); the CLI's account and region otherwise.
  env: { ...(account !== undefined ? { account } : {}), ...(region !== undefined ? { region } : {}) },
});

// Synthesis fails on any unacknowledged AwsSolutions finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
