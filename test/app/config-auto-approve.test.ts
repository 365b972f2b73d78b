import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { policyForApproval } from '../../app/core/policy.ts';

/* `"autoApprove": "safe-changes"` per env (docs/what-am-i-approving.md): accepted, kept with the approval's rules. */

const env = (products: unknown) => ({
  SLACK_BOT_TOKEN: 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  APPROVALS_CHANNEL: 'C0APPROVALS',
  PRODUCTS: JSON.stringify(products),
});

const orders = (live: Record<string, unknown>) => ({
  orders: { envs: { qa: { stage: 'StagingDEV' }, live: { stage: 'StagingPROD', ...live } } },
});

describe('autoApprove in the product configuration', () => {
  it('is accepted on an env and gives the approval rules that carry it, though nothing else is set', () => {
    const config = loadConfig(env(orders({ autoApprove: 'safe-changes' })));
    const policy = policyForApproval(config.products, {
      pipelineName: 'orders-api',
      stageName: 'StagingPROD',
      actionName: 'Approve',
    });
    expect(policy).toMatchObject({ key: 'orders/live', autoApprove: 'safe-changes', required: 1 });
    expect(
      policyForApproval(config.products, {
        pipelineName: 'orders-api',
        stageName: 'StagingDEV',
        actionName: 'Approve',
      }),
    ).toBeUndefined();
  });

  it('refuses any other value, naming the field', () => {
    expect(() => loadConfig(env(orders({ autoApprove: 'always' })))).toThrow(ConfigError);
    expect(() => loadConfig(env(orders({ autoApprove: 'always' })))).toThrow(/autoApprove/);
  });
});
