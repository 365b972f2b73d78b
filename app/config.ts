import * as z from 'zod';
import { CODEPIPELINE_NAME } from './core/codepipeline-names.ts';
import { policyProblems } from './core/policy.ts';
import {
  allTargets,
  DEFAULT_ENVS,
  ownAccountProblems,
  placeProblems,
  reminderProblems,
  roleConflicts,
} from './core/products.ts';
import { parseJson } from './parse-json.ts';

/**
 * Environment → one validated, frozen Config. The only reader of environment variables
 * (handlers pass `process.env` in). A bad or missing value fails at start with a message that
 * names the variable.
 */

const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'a Slack channel ID such as C0123ABCD (not a #name)');
// Who may approve, how many, and when (docs/policy.md). Shapes here; what they mean, and the checks
// across fields (windows, counts, zones), in core/policy.ts, which cdk synth runs too.
const slackIds = z.array(z.string()).exactOptional();
const freezeSchema = z.union([
  z
    .object({
      weekly: z.object({ from: z.string(), to: z.string() }).strict(),
      timeZone: z.string(),
      reason: z.string().min(1).max(80).exactOptional(),
    })
    .strict(),
  z
    .object({
      from: z.string(),
      to: z.string(),
      timeZone: z.string(),
      reason: z.string().min(1).max(80).exactOptional(),
    })
    .strict(),
]);
const policyFields = {
  approvers: slackIds,
  required: z.number().exactOptional(),
  freezes: z.array(freezeSchema).exactOptional(),
  breakGlass: slackIds,
};

// Where the pipelines live (another account and region, and the role assumed there): shapes here,
// the three together and the role's account in core/products.ts (targetProblems), as synth checks them.
const targetFields = {
  account: z.string().exactOptional(),
  region: z.string().exactOptional(),
  roleArn: z.string().exactOptional(),
  targets: z.array(z.object({ account: z.string(), region: z.string(), roleArn: z.string() }).strict()).exactOptional(),
};

const stageRef = z
  .object({
    stage: z.string().regex(CODEPIPELINE_NAME, 'a CodePipeline stage name'),
    action: z.string().regex(CODEPIPELINE_NAME, 'a CodePipeline action name').exactOptional(),
    ...policyFields,
    separateFrom: z.array(z.string()).exactOptional(),
    // Env only (docs/what-am-i-approving.md): Greenlight approves safe change sets itself.
    autoApprove: z.literal('safe-changes', { error: 'only "safe-changes"' }).exactOptional(),
    ...targetFields,
  })
  .strict();

const productSchema = z
  .object({
    prefix: z.string().min(1).max(100).exactOptional(),
    displayName: z.string().min(1).max(80).exactOptional(),
    channel: channelId.exactOptional(),
    envs: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'an env name like qa or prod'), stageRef).exactOptional(),
    ...policyFields,
    // Reminders before expiry (core/reminders.ts); their range is checked by reminderProblems, as synth does.
    reminderHours: z.number({ error: 'a number of hours before expiry, such as 24' }).exactOptional(),
    remindHere: z.boolean({ error: 'true or false' }).exactOptional(),
    ...targetFields,
  })
  .strict();

const productsSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a product name like shop'),
  productSchema,
);

export type ProductOverrides = z.infer<typeof productsSchema>;

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_SECRET_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:/, 'a Secrets Manager secret ARN')
    .optional(),
  SLACK_API_URL: httpUrl.default('https://slack.com/api/'),
  APPROVALS_TABLE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name (3–255 letters, digits, _ . -)')
    .optional(),
  APPROVALS_CHANNEL: channelId,
  DIGEST_CHANNEL: channelId.optional(),
  PRODUCTS: z.string().optional(),
  RELEASE_QUEUE_URL: httpUrl.optional(),
  RELEASE_RATE_PER_SECOND: z.coerce
    .number({ error: 'a number of calls per second' })
    .positive('a positive number of calls per second')
    .max(100, 'at most 100 calls per second')
    .optional(),
  AWS_REGION: z.string().min(1).optional(),
  GREENLIGHT_EXTERNAL_ID: z
    .string()
    .regex(/^[\w+=,.@:/-]{2,1224}$/, 'an STS external id (2–1224 letters, digits and +=,.@:/-)')
    .optional(),
  // Greenlight's own account (the stack sets it): a product may not name it as another account.
  GREENLIGHT_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional(),
});

export type SlackCredentials = { botToken: string; signingSecret: string };

export interface Config {
  /** Given directly, or to be read from Secrets Manager (on Lambda). */
  slack: { credentials: SlackCredentials } | { secretArn: string };
  slackApiUrl: string;
  /** Unset outside Lambda: the process runs an embedded DynamoDB. */
  approvalsTable?: string;
  approvalsChannel: string;
  digestChannel: string;
  products: ProductOverrides;
  /** Unset locally: fan-out jobs run on an in-process queue. */
  releaseQueueUrl?: string;
  /**
   * CodePipeline calls per second per operation that releases and reads start at (default 8). It is
   * a starting guess, not a cap: the limiter learns the rate CodePipeline allows from its throttling.
   */
  releaseRatePerSecond?: number;
  region?: string;
  /**
   * The external id Greenlight gives when it assumes a product's role in another account
   * (`GREENLIGHT_EXTERNAL_ID`): the GreenlightAccess role trusts Greenlight only with it. Required
   * when a product names a roleArn.
   */
  externalId?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env): Readonly<Config> {
  // An empty variable is as good as unset (`FOO= npm start`), never an empty token.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '');
      return issue.code === 'invalid_type' && present[variable] === undefined
        ? `${variable} is required`
        : `${variable} must be ${issue.message}`;
    });
    throw new ConfigError(`Greenlight cannot start: ${problems.join('; ')}.`);
  }
  const e = parsed.data;
  const products = parseProducts(e.PRODUCTS);
  const ownAccount = [...ownAccountProblems(products, e.GREENLIGHT_ACCOUNT_ID), ...roleConflicts(products)];
  if (ownAccount.length > 0) throw new ConfigError(`Greenlight cannot start: PRODUCTS has ${ownAccount.join('; ')}.`);
  // Every roleArn is in a well-formed target by now (parseProducts refused the rest).
  if (!e.GREENLIGHT_EXTERNAL_ID && allTargets(products).length > 0)
    throw new ConfigError(
      'Greenlight cannot start: GREENLIGHT_EXTERNAL_ID is required when a product in PRODUCTS names a roleArn (the GreenlightAccess role trusts Greenlight only with it).',
    );

  let slack: Config['slack'];
  if (e.SLACK_SECRET_ARN) slack = { secretArn: e.SLACK_SECRET_ARN };
  else if (e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET)
    slack = { credentials: { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET } };
  else {
    const missing = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'].filter((name) => !present[name]);
    throw new ConfigError(`Greenlight cannot start: ${missing.join(' and ')} required (or SLACK_SECRET_ARN).`);
  }

  return deepFreeze({
    slack,
    slackApiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
    ...(e.APPROVALS_TABLE ? { approvalsTable: e.APPROVALS_TABLE } : {}),
    approvalsChannel: e.APPROVALS_CHANNEL,
    digestChannel: e.DIGEST_CHANNEL ?? e.APPROVALS_CHANNEL,
    products,
    ...(e.RELEASE_QUEUE_URL ? { releaseQueueUrl: e.RELEASE_QUEUE_URL } : {}),
    ...(e.RELEASE_RATE_PER_SECOND ? { releaseRatePerSecond: e.RELEASE_RATE_PER_SECOND } : {}),
    ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
    ...(e.GREENLIGHT_EXTERNAL_ID ? { externalId: e.GREENLIGHT_EXTERNAL_ID } : {}),
  });
}

/** Config is shared by every handler in the process: nothing may change it after start. */
function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function parseProducts(raw: string | undefined): ProductOverrides {
  if (!raw) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('Greenlight cannot start: PRODUCTS must be JSON, e.g. {"shop":{"prefix":"shop-"}}.');
  }
  // Not parseJson: a person fixes PRODUCTS, so the problem names each field and what is wrong with it.
  const parsed = productsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`Greenlight cannot start: PRODUCTS has ${problems.join('; ')}.`);
  }
  const rules = Object.entries(parsed.data).flatMap(([name, product]) => [
    ...policyProblems(name, product, product.envs ?? DEFAULT_ENVS),
    ...reminderProblems(name, product),
    ...placeProblems(name, product),
  ]);
  if (rules.length > 0) throw new ConfigError(`Greenlight cannot start: PRODUCTS has ${rules.join('; ')}.`);
  return parsed.data;
}

/** The secret's JSON shape in Secrets Manager. */
export function parseSlackSecret(secretString: string | undefined, arn: string): SlackCredentials {
  const parsed = parseJson(z.object({ botToken: z.string().min(1), signingSecret: z.string().min(1) }), secretString);
  if (!parsed.ok) throw new ConfigError(`The secret ${arn} must hold JSON {"botToken":"xoxb-…","signingSecret":"…"}.`);
  return parsed.value;
}
