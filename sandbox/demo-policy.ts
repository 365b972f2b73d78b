/**
 * The sandbox's demo approval rules (docs/policy.md), so a newcomer meets them in the first minute:
 * `shop` into prod needs two of the Releasers (Alice and Bob in the simulated workspace), not on
 * weekends in Berlin, where On-call (Carol) may break glass with a reason. QA and `blog` have no
 * rules: anyone approves, as without configuration.
 */
export const SANDBOX_DEMO_PRODUCTS = {
  shop: {
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: {
        stage: 'StagingQA',
        approvers: ['S0RELEASERS'],
        required: 2,
        freezes: [{ weekly: { from: 'Fri 16:00', to: 'Mon 08:00' }, timeZone: 'Europe/Berlin', reason: 'Weekend' }],
        breakGlass: ['S0ONCALL'],
      },
    },
  },
  // `orders-api` deploys to production through a change set: a safe one Greenlight approves itself.
  orders: {
    envs: {
      qa: { stage: 'StagingDEV' },
      prod: { stage: 'StagingQA' },
      live: { stage: 'StagingPROD', autoApprove: 'safe-changes' as const },
    },
  },
};
