import { RetentionDays } from 'aws-cdk-lib/aws-logs';
// The one exception to "infra never imports app/": the approval (and reminder) rules are checked once, in a pure core
// module (no SDK, no I/O), so synth refuses exactly what the app refuses at start. Nothing of it reaches a bundle.
import { type PolicyRules, policyProblems } from '../app/core/policy.ts';
import {
  allTargets,
  type ProductOverride,
  placeProblems,
  reminderProblems,
  roleConflicts,
} from '../app/core/products.ts';

/**
 * Deployment settings, read from CDK context (`-c key=value` or `cdk.json`).
 * Bad values fail synth with a message that names the context key.
 */
export interface GreenlightSettings {
  /** Product name → overrides the app reads from `PRODUCTS` (prefix, stages per env, channel). */
  readonly products: Readonly<Record<string, ProductSettings>>;
  /** Slack channel ID for approval requests; unset → a required CloudFormation parameter. */
  readonly approvalsChannel?: string;
  /** Slack channel ID for the daily digest; the app defaults it to the approvals channel. */
  readonly digestChannel?: string;
  /** EventBridge Scheduler expression for the daily digest. */
  readonly digestSchedule: string;
  /** IANA time zone the digest schedule is read in (daylight saving time included). */
  readonly digestTimeZone: string;
  readonly logRetention: RetentionDays;
  readonly logLevel: LogLevel;
  /** IAM roles (usually CodePipeline service roles) allowed to publish approval requests. */
  readonly publisherRoleArns: readonly string[];
  /** An existing SNS topic that receives alarm state changes. */
  readonly alarmTopicArn?: string;
  /** Demo product of service pipelines (docs/concepts.md), off unless `demo=true`. */
  readonly demo?: DemoSettings;
  /**
   * The external id Greenlight gives when it assumes the GreenlightAccess role in a product's
   * account (`GREENLIGHT_EXTERNAL_ID`); required when a product names a roleArn.
   */
  readonly externalId?: string;
}

export interface ProductSettings {
  /** Pipeline name prefix; the app's convention is `<product>-`. */
  readonly prefix?: string;
  readonly [override: string]: unknown;
}

export interface DemoSettings {
  readonly product: string;
  readonly services: number;
}

export type LogLevel = (typeof LOG_LEVELS)[number];

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

export const DEFAULT_DIGEST_SCHEDULE = 'cron(0 8 ? * MON-FRI *)';
/** 08:00 local time on the team's working days; Europe/Berlin follows daylight saving time, UTC would not. */
export const DEFAULT_DIGEST_TIME_ZONE = 'Europe/Berlin';
export const DEFAULT_LOG_RETENTION = RetentionDays.ONE_MONTH;
export const DEFAULT_DEMO_SERVICES = 2;

/** CodePipeline's own name pattern: a prefix outside it could widen an IAM resource (`*`). */
const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
/** The app's own rules (app/config.ts), checked here so a bad value fails synth, not the first request. */
const PRODUCT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;
const PRODUCT_KEYS = [
  'prefix',
  'displayName',
  'channel',
  'envs',
  'approvers',
  'required',
  'freezes',
  'breakGlass',
  'reminderHours',
  'remindHere',
  'account',
  'region',
  'roleArn',
  'targets',
];
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/;
const SCHEDULE = /^(cron|rate)\(.+\)$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

export class SettingsError extends Error {
  constructor(key: string, problem: string) {
    super(`Context "${key}": ${problem}`);
    this.name = 'SettingsError';
  }
}

/** Reads settings through `tryGetContext`; CLI values arrive as strings, cdk.json values as JSON. */
export function readSettings(tryGetContext: (key: string) => unknown): GreenlightSettings {
  const demo = readDemo(tryGetContext);
  const products = readProducts(tryGetContext('products'));
  const conflicts = roleConflicts(products as Readonly<Record<string, ProductOverride>>);
  if (conflicts.length > 0) throw new SettingsError('products', conflicts.join('; '));
  const approvalsChannel = optionalMatch(
    'approvalsChannel',
    tryGetContext('approvalsChannel'),
    CHANNEL_ID,
    'a channel ID',
  );
  const digestChannel = optionalMatch('digestChannel', tryGetContext('digestChannel'), CHANNEL_ID, 'a channel ID');
  const digestSchedule =
    optionalMatch('digestSchedule', tryGetContext('digestSchedule'), SCHEDULE, 'cron(…) or rate(…)') ??
    DEFAULT_DIGEST_SCHEDULE;
  const digestTimeZone = readTimeZone(tryGetContext('digestTimeZone'));
  const logRetention = readLogRetention(tryGetContext('logRetentionDays'));
  const logLevel = readLogLevel(tryGetContext('logLevel'));
  const publisherRoleArns = readList('publisherRoleArns', tryGetContext('publisherRoleArns')).map((arn) =>
    match('publisherRoleArns', arn, ROLE_ARN, 'IAM role ARNs'),
  );
  const alarmTopicArn = optionalMatch('alarmTopicArn', tryGetContext('alarmTopicArn'), TOPIC_ARN, 'an SNS topic ARN');
  const externalId = optionalMatch(
    'externalId',
    tryGetContext('externalId'),
    EXTERNAL_ID,
    'an STS external id (2–1224 letters, digits and +=,.@:/-)',
  );
  // Every roleArn is in a well-formed target by now (readProducts refused the rest).
  const namesRole = allTargets(products as Readonly<Record<string, ProductOverride>>).length > 0;
  if (namesRole && !externalId)
    throw new SettingsError(
      'externalId',
      'required when a product names a roleArn: the GreenlightAccess role trusts Greenlight only with it',
    );
  return {
    // The demo product's pipelines must be approvable, so it joins the products.
    products: demo && !(demo.product in products) ? { ...products, [demo.product]: {} } : products,
    ...(approvalsChannel ? { approvalsChannel } : {}),
    ...(digestChannel ? { digestChannel } : {}),
    digestSchedule,
    digestTimeZone,
    logRetention,
    logLevel,
    publisherRoleArns,
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    ...(demo ? { demo } : {}),
    ...(externalId ? { externalId } : {}),
  };
}

/** The pipeline name prefix a product's IAM grants are scoped to. */
export function productPrefix(name: string, product: ProductSettings): string {
  return product.prefix ?? `${name}-`;
}

function readProducts(raw: unknown): Record<string, ProductSettings> {
  const value = parseJson('products', raw ?? '{}');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SettingsError('products', 'expected a JSON object such as {"shop":{}}');
  }
  const products: Record<string, ProductSettings> = {};
  for (const [name, settings] of Object.entries(value)) {
    match('products', name, PRODUCT_NAME, 'product names like shop (a-z, 0-9, -)');
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      throw new SettingsError('products', `product "${name}" must map to an object of overrides ({} for none)`);
    }
    const unknown = Object.keys(settings).filter((key) => !PRODUCT_KEYS.includes(key));
    if (unknown.length > 0) {
      throw new SettingsError(
        'products',
        `product "${name}" has unknown keys ${unknown.join(', ')} (${PRODUCT_KEYS.join(', ')})`,
      );
    }
    const product = settings as ProductSettings;
    if (product.prefix !== undefined) {
      match('products', product.prefix, PIPELINE_NAME, `a pipeline name prefix for "${name}"`);
    }
    // The app refuses bad approval rules at start; synth refuses them first, by the same checks.
    const envs = (product.envs ?? { qa: {}, prod: {} }) as Record<string, PolicyRules>;
    // The envs' shapes first: the rules below read them.
    const shapes = envKeyProblems(name, envs);
    if (shapes.length > 0) throw new SettingsError('products', shapes.join('; '));
    const problems = [
      ...policyProblems(name, product as PolicyRules, envs),
      ...reminderProblems(name, product),
      ...placeProblems(name, product),
    ];
    if (problems.length > 0) throw new SettingsError('products', problems.join('; '));
    products[name] = product;
  }
  return products;
}

/** An env's settings, as the app's schema takes them (app/config.ts): anything else is a typo. */
const ENV_KEYS = [
  'stage',
  'action',
  'approvers',
  'required',
  'freezes',
  'breakGlass',
  'separateFrom',
  'autoApprove',
  'account',
  'region',
  'roleArn',
  'targets',
];

function envKeyProblems(name: string, envs: Record<string, unknown>): string[] {
  return Object.entries(envs).flatMap(([env, settings]) => {
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
      return [`product "${name}" env "${env}" must map to an object such as {"stage":"StagingQA"}`];
    const unknown = Object.keys(settings).filter((key) => !ENV_KEYS.includes(key));
    return unknown.length > 0
      ? [`product "${name}" env "${env}" has unknown keys ${unknown.join(', ')} (${ENV_KEYS.join(', ')})`]
      : [];
  });
}

function readDemo(tryGetContext: (key: string) => unknown): DemoSettings | undefined {
  const enabled = tryGetContext('demo');
  if (enabled === undefined || enabled === false || enabled === 'false') return undefined;
  if (enabled !== true && enabled !== 'true') throw new SettingsError('demo', 'expected true or false');
  const services = Number(tryGetContext('demoServices') ?? DEFAULT_DEMO_SERVICES);
  if (!Number.isInteger(services) || services < 1 || services > 10) {
    throw new SettingsError('demoServices', 'expected a whole number from 1 to 10');
  }
  const product = match(
    'demoProduct',
    tryGetContext('demoProduct') ?? 'demo',
    PRODUCT_NAME,
    'a product name like demo',
  );
  return { product, services };
}

function readTimeZone(raw: unknown): string {
  const zone = raw ?? DEFAULT_DIGEST_TIME_ZONE;
  try {
    if (typeof zone !== 'string') throw new RangeError();
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    throw new SettingsError('digestTimeZone', `expected an IANA time zone such as Europe/Berlin, got ${String(zone)}`);
  }
}

function readLogRetention(raw: unknown): RetentionDays {
  if (raw === undefined) return DEFAULT_LOG_RETENTION;
  const days = Number(raw);
  const allowed = Object.values(RetentionDays).filter((value): value is RetentionDays => typeof value === 'number');
  const found = allowed.find((value) => value === days);
  if (found === undefined) {
    throw new SettingsError(
      'logRetentionDays',
      `expected one of CloudWatch's retention periods (${allowed.join(', ')})`,
    );
  }
  return found;
}

function readLogLevel(raw: unknown): LogLevel {
  const level = String(raw ?? 'INFO').toUpperCase();
  const found = LOG_LEVELS.find((known) => known === level);
  if (!found) throw new SettingsError('logLevel', `expected one of ${LOG_LEVELS.join(', ')}`);
  return found;
}

function readList(key: string, raw: unknown): string[] {
  if (raw === undefined || raw === '') return [];
  const value = typeof raw === 'string' && !raw.trimStart().startsWith('[') ? raw.split(',') : parseJson(key, raw);
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new SettingsError(key, 'expected a JSON array of strings or a comma-separated list');
  }
  return value.map((item: string) => item.trim());
}

function parseJson(key: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new SettingsError(key, `not valid JSON (${(error as Error).message})`);
  }
}

function optionalMatch(key: string, raw: unknown, pattern: RegExp, expected: string): string | undefined {
  return raw === undefined || raw === '' ? undefined : match(key, raw, pattern, expected);
}

function match(key: string, raw: unknown, pattern: RegExp, expected: string): string {
  if (typeof raw !== 'string' || !pattern.test(raw)) {
    throw new SettingsError(key, `expected ${expected}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** The settings of the GreenlightAccess stack (infra/access-stack.ts), deployed into a pipeline account. */
export interface AccessSettings {
  /** The pipeline account (`accessAccount`, else the CLI's account). */
  readonly account: string;
  /** Greenlight's GreenlightRoleArns output: the roles the access role trusts. */
  readonly greenlightRoleArns: readonly string[];
  /** Greenlight's GreenlightApproverRoleArns output: those of them that may answer approvals. */
  readonly greenlightApproverRoleArns: readonly string[];
  readonly externalId: string;
  /** Greenlight's GreenlightEventBusArn output (`greenlightEventBus`): forward CodePipeline's events there. */
  readonly greenlightEventBus?: string;
}

/** Greenlight's default event bus, in its account and region (the bus policy admits the pipeline accounts there). */
const DEFAULT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:event-bus\/default$/;

/** Undefined unless `greenlightRoleArns` is given: the access stack is synthesized only for that step. */
export function readAccessSettings(
  tryGetContext: (key: string) => unknown,
  cliAccount: string | undefined,
): AccessSettings | undefined {
  const raw = tryGetContext('greenlightRoleArns');
  if (raw === undefined || raw === '') return undefined;
  const greenlightRoleArns = readList('greenlightRoleArns', raw).map((arn) =>
    match('greenlightRoleArns', arn, ROLE_ARN, "IAM role ARNs (Greenlight's GreenlightRoleArns output)"),
  );
  const approvers = tryGetContext('greenlightApproverRoleArns');
  if (approvers === undefined || approvers === '')
    throw new Error(
      "greenlightApproverRoleArns: give Greenlight's GreenlightApproverRoleArns output too (the handlers that may answer approvals; the others only read)",
    );
  const greenlightApproverRoleArns = readList('greenlightApproverRoleArns', approvers).map((arn) =>
    match(
      'greenlightApproverRoleArns',
      arn,
      ROLE_ARN,
      "IAM role ARNs (Greenlight's GreenlightApproverRoleArns output)",
    ),
  );
  const account = match(
    'accessAccount',
    tryGetContext('accessAccount') ?? cliAccount,
    /^\d{12}$/,
    'the 12-digit id of the pipeline account to deploy GreenlightAccess into',
  );
  const externalId = match(
    'externalId',
    tryGetContext('externalId'),
    EXTERNAL_ID,
    'the external id Greenlight was deployed with (required for GreenlightAccess)',
  );
  const bus = tryGetContext('greenlightEventBus');
  const settings = { account, greenlightRoleArns, greenlightApproverRoleArns, externalId };
  if (bus === undefined || bus === '') return settings;
  const greenlightEventBus = match(
    'greenlightEventBus',
    bus,
    DEFAULT_BUS_ARN,
    "the ARN of Greenlight's default event bus (its GreenlightEventBusArn output)",
  );
  return { ...settings, greenlightEventBus };
}
