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

/**
 * The sandbox's second AWS account (docs/architecture.md, "Many accounts and regions"): product
 * `data` deploys there, in another region, and Greenlight reaches it through the GreenlightAccess
 * role it assumes there (the sandbox's STS emulator gives it for the sandbox's external id).
 */
export const SANDBOX_SECOND_ACCOUNT = {
  account: '444455556666',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::444455556666:role/GreenlightAccess',
} as const;

/** The demo products of the second account, by service, as DEMO_PRODUCTS names the local ones. */
export const SECOND_ACCOUNT_DEMO_PRODUCTS: Readonly<Record<string, readonly string[]>> = {
  data: ['ingest', 'reports'],
};

/** PRODUCTS entries placing the second account's products there: without them Greenlight would look for them at home. */
export const SANDBOX_ACCOUNT_PRODUCTS = Object.fromEntries(
  Object.keys(SECOND_ACCOUNT_DEMO_PRODUCTS).map((product) => [product, { ...SANDBOX_SECOND_ACCOUNT }]),
);
