import type { PipelineReader } from './ports.ts';
import { mergeBoards, type ProductBoard, productBoard } from './product-board.ts';
import {
  discoverProducts,
  type EnvTarget,
  ownsPipeline,
  ownValue,
  type Product,
  type ProductOverride,
  resolveProduct,
} from './products.ts';
import type { ReleasePlace } from './release-plan.ts';

export type ProductLookup =
  | {
      ok: true;
      product: Product;
      pipelines: string[];
      /** By place, when looked up in the places the product lives (findProductIn). */
      places?: PlacedPipelines[];
    }
  | { ok: false; problem: 'unknown-product'; name: string; known: string[] };

/** One place's share of an env: where it is, a reader there, and the product's pipelines found there. */
export interface PlacedPipelines {
  place: ReleasePlace;
  pipelines: readonly string[];
}

export type TargetLookup =
  | {
      ok: true;
      product: Product;
      env: string;
      target: EnvTarget;
      /** Every pipeline of the product in the env's places (names may repeat across accounts). */
      pipelines: string[];
      /** By place, when looked up in the env's places (findTargetIn). */
      places?: PlacedPipelines[];
    }
  | Extract<ProductLookup, { ok: false }>
  | { ok: false; problem: 'unknown-env'; product: Product; env: string; envs: string[] };

/**
 * The product by name, with its pipelines, from one listing of every pipeline. A product exists when
 * it is configured or when pipelines are named after it (`shop-*`); otherwise the answer lists the
 * products that do exist.
 */
export async function findProduct(
  reader: Pick<PipelineReader, 'listPipelines'>,
  overrides: Record<string, ProductOverride>,
  name: string,
): Promise<ProductLookup> {
  const all = await reader.listPipelines('');
  const products = discoverProducts(all, overrides);
  const wanted = name.toLowerCase();
  if (!products.some((product) => product.name === wanted))
    return { ok: false, problem: 'unknown-product', name, known: products.map((product) => product.name) };
  const product = resolveProduct(wanted, overrides);
  // A longer configured prefix inside ours (`shop-admin-` in `shop-`) claims its own pipelines.
  const pipelines = all.filter((pipeline) => ownsPipeline(product, pipeline, products));
  return { ok: true, product, pipelines };
}

/** The product and the stage an env names (`prod` → StagingQA), or what the valid choices are. */
export async function findTarget(
  reader: Pick<PipelineReader, 'listPipelines'>,
  overrides: Record<string, ProductOverride>,
  productName: string,
  env: string,
): Promise<TargetLookup> {
  const found = await findProduct(reader, overrides, productName);
  if (!found.ok) return found;
  const wanted = env.toLowerCase();
  const target = ownValue(found.product.envs, wanted);
  if (!target)
    return { ok: false, problem: 'unknown-env', product: found.product, env, envs: Object.keys(found.product.envs) };
  return { ok: true, product: found.product, env: wanted, target, pipelines: found.pipelines };
}

/**
 * findTarget in each place the env lives in (PRODUCTS `targets`: a production in two regions), at
 * once: the pipelines of every place, by place.
 */
export const findTargetIn = (
  places: readonly ReleasePlace[],
  overrides: Record<string, ProductOverride>,
  productName: string,
  env: string,
): Promise<TargetLookup> => lookUpIn(places, (reader) => findTarget(reader, overrides, productName, env));

/** findProduct in every place the product lives (its envs' accounts and regions), at once. */
export const findProductIn = (
  places: readonly ReleasePlace[],
  overrides: Record<string, ProductOverride>,
  name: string,
): Promise<ProductLookup> => lookUpIn(places, (reader) => findProduct(reader, overrides, name));

/**
 * One lookup in each place at once, as one answer: the first place's, with the pipelines of every
 * place, by place. The product and env are the configuration's, the same in every place, so the
 * first problem is the answer.
 */
async function lookUpIn<L extends ProductLookup | TargetLookup>(
  places: readonly ReleasePlace[],
  lookUp: (reader: PipelineReader) => Promise<L>,
): Promise<L> {
  const lookups = await Promise.all(places.map((place) => lookUp(place.reader)));
  const problem = lookups.find((lookup) => !lookup.ok);
  if (problem) return problem;
  const found = lookups as Extract<L, { ok: true }>[];
  const first = found[0];
  if (!first) throw new Error('No place to look in');
  return {
    ...first,
    pipelines: found.flatMap((lookup) => lookup.pipelines),
    places: found.map((lookup, index) => ({ place: places[index] as ReleasePlace, pipelines: lookup.pipelines })),
  };
}

/**
 * The board of a product found in its places: one place's as it is; several merged, each service
 * named with its place (its region, or account and region where two places share a region).
 */
export async function boardIn(found: Extract<ProductLookup, { ok: true }>): Promise<ProductBoard> {
  const places = found.places ?? [];
  const labels = placeLabels(places.map(({ place }) => place));
  const boards = await Promise.all(
    places.map(async ({ place, pipelines }, index) => ({
      label: labels[index] ?? place.region,
      board: await productBoard(place.reader, found.product, { pipelines }),
    })),
  );
  return mergeBoards(boards) ?? { product: found.product, stages: [], rows: [] };
}

/** How places are told apart: by region, or by account and region where two share a region. */
export function placeLabels(places: readonly { region: string; account?: string }[]): string[] {
  const regions = places.map((place) => place.region);
  const shared = regions.length !== new Set(regions).size;
  return places.map((place) =>
    shared ? `${place.account ? `account ${place.account}` : "Greenlight's account"} ${place.region}` : place.region,
  );
}
