/**
 * Products (docs/concepts.md): a product is the group of service pipelines `<product>-<service>` released
 * together. Zero config: env `qa` is the manual approval in `StagingDEV` ("stage into QA" is the
 * approval of DEV) and env `prod` the one in `StagingQA`. Overrides change prefix, stages, channel.
 */

import type { PolicyRules } from './policy.ts';

export interface EnvTarget extends PolicyRules, TargetFields {
  stage: string;
  /** The approval action's name; unset: whichever action in the stage waits for approval. */
  action?: string;
}

/** Product-level rules (approvers, breakGlass, freezes, required) apply to every env without its own. */
export interface ProductOverride extends Omit<PolicyRules, 'separateFrom'>, TargetFields {
  prefix?: string;
  displayName?: string;
  channel?: string;
  envs?: Record<string, EnvTarget>;
  /** Hours before an approval expires that its thread gets a reminder (default 24; core/reminders.ts). */
  reminderHours?: number;
  /** Whether a reminder may call `@here` when no approvers are configured (default: it mentions nobody). */
  remindHere?: boolean;
}

export interface Product {
  name: string;
  displayName: string;
  /** Pipelines whose name starts with this belong to the product. */
  prefix: string;
  channel?: string;
  envs: Record<string, EnvTarget>;
}

export const DEFAULT_ENVS: Readonly<Record<string, EnvTarget>> = Object.freeze({
  qa: { stage: 'StagingDEV' },
  prod: { stage: 'StagingQA' },
});

/** `record[key]` when `key` is the record's own, never something inherited from Object.prototype. */
export const ownValue = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;

/** The product by name, with conventions filling what overrides leave out. */
export function resolveProduct(name: string, overrides: Record<string, ProductOverride>): Product {
  // Own keys only: a product called `constructor` is a name, not Object.prototype's.
  const override = ownValue(overrides, name) ?? {};
  return {
    name,
    displayName: override.displayName ?? name,
    prefix: override.prefix ?? `${name}-`,
    ...(override.channel ? { channel: override.channel } : {}),
    envs: override.envs ?? { ...DEFAULT_ENVS },
  };
}

/**
 * Products known from configuration and from pipeline names (`shop-cart` → `shop`), sorted. A
 * configured prefix claims its pipelines, so they do not also appear under a guessed name.
 */
export function discoverProducts(
  pipelineNames: readonly string[],
  overrides: Record<string, ProductOverride>,
): Product[] {
  const configured = Object.keys(overrides).map((name) => resolveProduct(name, overrides));
  const guessed = new Set<string>();
  for (const pipeline of pipelineNames) {
    if (configured.some((product) => pipeline.startsWith(product.prefix))) continue;
    const dash = pipeline.indexOf('-');
    if (dash > 0) guessed.add(pipeline.slice(0, dash));
  }
  const all = [...configured, ...[...guessed].map((name) => resolveProduct(name, overrides))];
  return all.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Whether `pipelineName` is `product`'s: under its prefix and under no longer prefix of another of
 * `products` (`shop-admin-` claims its own pipelines inside `shop-`).
 */
export function ownsPipeline(product: Product, pipelineName: string, products: readonly Product[]): boolean {
  return (
    pipelineName.startsWith(product.prefix) &&
    !products.some(
      (other) =>
        other.prefix.length > product.prefix.length &&
        other.prefix.startsWith(product.prefix) &&
        pipelineName.startsWith(other.prefix),
    )
  );
}

/** Where a pipeline's approvals are posted: its product's channel if one is configured, else the default. */
export function approvalChannelFor(
  pipelineName: string,
  overrides: Record<string, ProductOverride>,
  fallback: string,
): string {
  const owner = Object.keys(overrides)
    .map((name) => resolveProduct(name, overrides))
    .filter((product) => product.channel && pipelineName.startsWith(product.prefix))
    // The most specific prefix wins (`shop-payments-` over `shop-`).
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return owner?.channel ?? fallback;
}

/** The configured product a pipeline belongs to: the most specific prefix; undefined when none claims it. */
export function configuredProductOf(
  pipelineName: string,
  overrides: Readonly<Record<string, ProductOverride>>,
): { name: string; override: ProductOverride } | undefined {
  const owner = Object.keys(overrides)
    .map((name) => resolveProduct(name, overrides))
    .filter((product) => pipelineName.startsWith(product.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  const override = owner && ownValue(overrides, owner.name);
  return owner && override ? { name: owner.name, override } : undefined;
}

/** Reminders before expiry (core/reminders.ts): hours ahead, unless a product says otherwise. */
export const DEFAULT_REMINDER_HOURS = 24;
/** The longest a manual approval waits (7 days): a reminder earlier than that would come with the request. */
export const MAX_REMINDER_HOURS = 168;

/**
 * What is wrong with a product's reminder settings, each naming the product and the field. Run by
 * app/config.ts at start and by infra/config.ts at synth, so both refuse the same (core/reminders.ts
 * uses them).
 */
export function reminderProblems(name: string, product: object): string[] {
  const problems: string[] = [];
  const { reminderHours: hours, remindHere } = product as { reminderHours?: unknown; remindHere?: unknown };
  if (hours !== undefined && (typeof hours !== 'number' || !(hours > 0) || hours > MAX_REMINDER_HOURS))
    problems.push(
      `product "${name}" reminderHours: expected a number of hours before expiry above 0 and at most ${MAX_REMINDER_HOURS} (approvals expire after 7 days), such as 24`,
    );
  if (remindHere !== undefined && typeof remindHere !== 'boolean')
    problems.push(`product "${name}" remindHere: expected true or false`);
  return problems;
}

/**
 * Where a product's pipelines live when they are not in Greenlight's own account and region
 * (docs/architecture.md, "Many accounts and regions"): the account, the region, and the role
 * Greenlight assumes there. A product (or env) that names none keeps Greenlight's own.
 */
export interface PipelineTarget {
  account: string;
  region: string;
  roleArn: string;
}

/**
 * The target fields a product and each of its envs may carry: one place (`account`, `region`,
 * `roleArn`), or `targets` for an env deployed to several (a production in two regions, each in its
 * own account): `/release` then approves the env's pipelines in all of them.
 */
export interface TargetFields {
  account?: string;
  region?: string;
  roleArn?: string;
  targets?: PipelineTarget[];
}

const ACCOUNT_ID = /^\d{12}$/;
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
/** More places than one env is ever deployed to; each costs a role and a listing per release. */
export const MAX_TARGETS = 20;

/**
 * What is wrong with a product's targets (its own and each env's), each naming the product and the
 * field. The three go together: a role can only be assumed in the account it belongs to, and the
 * account alone does not say where to call. Run by app/config.ts at start and infra/config.ts at synth.
 */
export function targetProblems(name: string, product: object): string[] {
  const fields = product as TargetFields & { envs?: Record<string, object> };
  const problems = fieldsProblems(`product "${name}"`, fields);
  for (const [env, target] of Object.entries(fields.envs ?? {}))
    problems.push(...fieldsProblems(`product "${name}" env "${env}"`, target as TargetFields));
  return problems;
}

function fieldsProblems(where: string, fields: TargetFields): string[] {
  const { targets } = fields as { targets?: unknown };
  if (targets === undefined) return oneTargetProblems(where, fields);
  if (fields.account !== undefined || fields.region !== undefined || fields.roleArn !== undefined)
    return [`${where} targets: give either account, region and roleArn, or targets, not both`];
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > MAX_TARGETS)
    return [
      `${where} targets: expected a list of 1 to ${MAX_TARGETS} places, each {"account": …, "region": …, "roleArn": …}`,
    ];
  const problems: string[] = [];
  const seen = new Set<string>();
  targets.forEach((target: unknown, index) => {
    const at = `${where} targets[${index}]`;
    if (!target || typeof target !== 'object') {
      problems.push(`${at}: expected {"account": …, "region": …, "roleArn": …}`);
      return;
    }
    const place = target as TargetFields;
    const unknown = Object.keys(place).filter((key) => !['account', 'region', 'roleArn'].includes(key));
    if (unknown.length > 0)
      problems.push(`${at}: unknown ${unknown.join(', ')} (a place has account, region, roleArn)`);
    if (place.account === undefined && place.region === undefined && place.roleArn === undefined)
      problems.push(`${at}: expected {"account": …, "region": …, "roleArn": …}`);
    problems.push(...oneTargetProblems(at, place));
    const key = `${place.account}/${place.region}`;
    if (seen.has(key)) problems.push(`${at}: account ${place.account} in ${place.region} is listed twice`);
    seen.add(key);
  });
  return problems;
}

function oneTargetProblems(where: string, fields: TargetFields): string[] {
  const { account, region, roleArn } = fields;
  if (account === undefined && region === undefined && roleArn === undefined) return [];
  const problems: string[] = [];
  if (typeof account !== 'string' || !ACCOUNT_ID.test(account))
    problems.push(`${where} account: expected a 12-digit AWS account id such as "111122223333"`);
  if (typeof region !== 'string' || !REGION_NAME.test(region))
    problems.push(`${where} region: expected an AWS region such as "eu-west-1"`);
  const roleAccount = typeof roleArn === 'string' ? ROLE_ARN.exec(roleArn)?.[1] : undefined;
  if (!roleAccount)
    problems.push(
      `${where} roleArn: expected the ARN of the role Greenlight assumes there, such as "arn:aws:iam::111122223333:role/GreenlightAccess"`,
    );
  else if (typeof account === 'string' && roleAccount !== account)
    problems.push(`${where} roleArn: the role is in account ${roleAccount}, not in the product's account ${account}`);
  return problems;
}

/** The places one product or env names: its `targets`, or its one `account`/`region`/`roleArn`. */
const targetsOf = (fields: TargetFields | undefined): PipelineTarget[] => {
  if (!fields) return [];
  if (fields.targets) return fields.targets.map(({ account, region, roleArn }) => ({ account, region, roleArn }));
  return fields.account && fields.region && fields.roleArn
    ? [{ account: fields.account, region: fields.region, roleArn: fields.roleArn }]
    : [];
};

/**
 * Where a product's env lives: the env's own targets, else the product's; empty: Greenlight's own
 * account and region.
 */
export function targetsFor(
  productName: string,
  env: string,
  overrides: Readonly<Record<string, ProductOverride>>,
): PipelineTarget[] {
  const override = ownValue(overrides, productName);
  if (!override) return [];
  const envTargets = targetsOf(override.envs ? ownValue(override.envs, env) : undefined);
  return envTargets.length > 0 ? envTargets : targetsOf(override);
}

/**
 * Every place a product's pipelines live, once each (its boards): the product's own targets, each
 * env's, and `undefined` for Greenlight's own account when an env has none. A product in one place
 * gives one.
 */
export function productTargets(
  productName: string,
  overrides: Readonly<Record<string, ProductOverride>>,
): (PipelineTarget | undefined)[] {
  const override = ownValue(overrides, productName);
  const envs = Object.keys(override?.envs ?? DEFAULT_ENVS);
  const found = new Map<string, PipelineTarget | undefined>();
  // The product's own targets too: approvals of a stage no env names are routed there.
  for (const target of targetsOf(override)) found.set(`${target.account}/${target.region}`, target);
  for (const env of envs) {
    const targets = targetsFor(productName, env, overrides);
    if (targets.length === 0) found.set('local', undefined);
    for (const target of targets) found.set(`${target.account}/${target.region}`, target);
  }
  return [...found.values()];
}

/** Every target the products name, once each (the topic policy, the access stacks, the clients). */
export function allTargets(overrides: Readonly<Record<string, ProductOverride>>): PipelineTarget[] {
  const found = new Map<string, PipelineTarget>();
  for (const override of Object.values(overrides)) {
    const candidates: TargetFields[] = [override, ...Object.values(override.envs ?? {})];
    for (const target of candidates.flatMap(targetsOf))
      found.set(`${target.account}/${target.region}/${target.roleArn}`, target);
  }
  return [...found.values()];
}

/**
 * The target an approval comes from, by its region, pipeline and stage: a notification names its
 * region but not its account, so the account is the one the configuration places that product's
 * env (by its stage) in that region. Never by name alone: `shop-cart` in eu-west-1 and `shop-cart`
 * in us-east-1 are different pipelines. `undefined`: Greenlight's own account. Two accounts hosting
 * the same product and stage in one region cannot be told apart, and the configuration refuses it
 * (routingProblems).
 */
export function routeApproval(
  where: { pipelineName: string; stageName: string; region: string },
  overrides: Readonly<Record<string, ProductOverride>>,
): PipelineTarget | undefined {
  const owner = configuredProductOf(where.pipelineName, overrides);
  if (!owner) return undefined;
  const override = owner.override;
  const envs = override.envs ?? DEFAULT_ENVS;
  const inRegion = (target: PipelineTarget) => target.region === where.region;
  const matches = Object.keys(envs)
    .filter((env) => ownValue(envs, env)?.stage === where.stageName)
    .flatMap((env) => targetsFor(owner.name, env, overrides))
    .filter(inRegion);
  // An approval in a stage no env names still belongs to the product: its own target, if in that region.
  return matches[0] ?? targetsOf(override).find(inRegion);
}

/**
 * Products that name Greenlight's own account: events and records tell Greenlight's own pipelines
 * from other accounts' by account, so its own account is never a target. Its pipelines need no
 * account, region or roleArn: Greenlight reaches them with its own role. Run at start (with
 * `GREENLIGHT_ACCOUNT_ID`, which the stack sets) and at synth (with the stack's account).
 */
export function ownAccountProblems(
  overrides: Readonly<Record<string, ProductOverride>>,
  ownAccount: string | undefined,
): string[] {
  if (!ownAccount) return [];
  return Object.keys(overrides)
    .filter((name) => allTargets({ [name]: ownValue(overrides, name) ?? {} }).some((t) => t.account === ownAccount))
    .map(
      (name) =>
        `product "${name}" account: ${ownAccount} is Greenlight's own account; leave account, region and roleArn out for its pipelines there (Greenlight reaches them with its own role)`,
    );
}

/**
 * Two roles named for one account and region (by two products, or two envs): Greenlight keeps one
 * client per account and region, so one of them would act with the other's role. Run at start and
 * at synth.
 */
export function roleConflicts(overrides: Readonly<Record<string, ProductOverride>>): string[] {
  const roles = new Map<string, string>();
  const problems: string[] = [];
  for (const target of allTargets(overrides)) {
    const place = `${target.account} in ${target.region}`;
    const other = roles.get(place);
    if (other !== undefined && other !== target.roleArn)
      problems.push(
        `account ${place} is given two roles, ${other} and ${target.roleArn}: name one role per account and region`,
      );
    roles.set(place, other ?? target.roleArn);
  }
  return problems;
}

/**
 * What is wrong with where a product's pipelines live: its targets' shapes, and once they are
 * well-formed (routing reads them), what routing cannot serve. Start and synth both run it.
 */
export function placeProblems(name: string, product: object): string[] {
  const shapes = targetProblems(name, product);
  return shapes.length > 0 ? shapes : routingProblems(name, product);
}

/**
 * Configurations routing cannot serve: one product whose envs sharing a stage sit in two accounts of
 * the same region. Their notifications would be indistinguishable (they carry no account id).
 */
export function routingProblems(name: string, settings: object): string[] {
  const product = settings as ProductOverride;
  const envs = product.envs ?? DEFAULT_ENVS;
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const env of Object.keys(envs)) {
    const stage = ownValue(envs, env)?.stage;
    const targets: (PipelineTarget | undefined)[] = targetsFor(name, env, { [name]: product });
    for (const target of targets.length > 0 ? targets : [undefined]) {
      const key = `${stage}@${target?.region ?? 'local'}`;
      const account = target?.account ?? 'local';
      const other = seen.get(key);
      if (other !== undefined && other !== account)
        problems.push(
          `product "${name}" env "${env}" account: stage ${stage} in ${target?.region ?? "Greenlight's region"} is already in account ${other}; approvals carry no account id, so one product's stage in one region must be in one account`,
        );
      seen.set(key, account);
    }
  }
  return problems;
}
