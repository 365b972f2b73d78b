import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AccessStack, EventForwardingStack, placesIn } from './access-stack.ts';
import { readAccessSettings, readSettings, SettingsError } from './config.ts';
import { GreenlightStack } from './greenlight-stack.ts';

/** The CDK app: Greenlight's stack, and with `greenlightRoleArns` the access stacks of a product account. */
function main(): void {
  const app = new App();
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;

  new GreenlightStack(app, 'Greenlight', {
    ...settings,
    description: 'Greenlight: approve AWS CodePipeline manual approvals from Slack',
    // Environment-agnostic without credentials (offline synth); the CLI's account and region otherwise.
    env: { ...(account !== undefined ? { account } : {}), ...(region !== undefined ? { region } : {}) },
  });

  // The second step for products in other accounts (README, "Pipelines in other accounts"): with
  // Greenlight's role ARNs given, the GreenlightAccess role for the account the CLI deploys into.
  const access = readAccessSettings((key) => app.node.tryGetContext(key), account);
  if (access) {
    const stack = new AccessStack(app, 'GreenlightAccess', {
      products: settings.products,
      ...access,
      description: 'Greenlight: the role Greenlight assumes to approve the pipelines of this account',
      env: { account: access.account, ...(region !== undefined ? { region } : {}) },
    });
    // With greenlightEventBus: CodePipeline's events of this account's other regions, each forwarded
    // by a rule in its own region (a rule sees only its region's events).
    for (const elsewhere of stack.forwardElsewhere)
      new EventForwardingStack(app, `GreenlightAccessEvents-${elsewhere}`, {
        eventBusArn: access.greenlightEventBus ?? '',
        prefixes: placesIn(settings.products, access.account)
          .filter((place) => place.region === elsewhere)
          .map((place) => place.prefix),
        description: "Greenlight: forward this region's CodePipeline events of the products to Greenlight",
        env: { account: access.account, region: elsewhere },
      });
  }

  // Synthesis fails on any unacknowledged AwsSolutions finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

// A wrong `-c` value is the user's to fix: its message alone, not a stack trace.
try {
  main();
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  console.error(`${error.message}\nThe settings are in README.md, "Deploy to AWS".`);
  process.exit(1);
}
