/**
 * Products (docs/concepts.md): a product is the group of service pipelines `<product>-<service>` released
 * together. Zero config: env `qa` is the manual approval in `StagingDEV` ("stage into QA" is the
 * approval of DEV) and env `prod` the one in `StagingQA`. Overrides change prefix, stages, channel.
 */

import type { PolicyRules } from './policy.ts';

export interface EnvTarget extends PolicyRules {
  stage: string;
  /** The approval action's name; unset: whichever action in the stage waits for approval. */
  action?: string;
}

/** Product-level rules (approvers, breakGlass, freezes, required) apply to every env without its own. */
export interface ProductOverride extends Omit<PolicyRules, 'separateFrom'> {
  prefix?: string;
  displayName?: string;
  channel?: string;
  envs?: Record<string, EnvTarget>;
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
