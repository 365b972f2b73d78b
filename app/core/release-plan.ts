import type { Actor, ApprovalId } from './approval.ts';
import { PipelineGoneError } from './errors.ts';
import { mapLimit } from './map-limit.ts';
import { type PipelineSnapshot, pendingApprovalIn, type StageSnapshot } from './pipeline.ts';
import { policyByKey } from './policy.ts';
import type { Clock, Log, PipelineReader } from './ports.ts';
import type { EnvTarget, Product, ProductOverride } from './products.ts';
import type { Exclusion, ItemPlace, PlanItem, ReleasePlan } from './release.ts';
import type { ReleaseStore } from './release-ports.ts';
import type { PlacedPipelines, TargetLookup } from './release-target.ts';

export interface PlanDeps {
  reader: Pick<PipelineReader, 'snapshot'>;
  clock: Clock;
  /** The approval's id for its token (a digest: the id never reveals the token). */
  /** In another account, the id also names the account and region (adapters/approval-id.ts). */
  approvalIdFor: (token: string, place?: { region: string; account?: string }) => ApprovalId;
  /** Pipelines read at once; the reader's client also limits its request rate. */
  concurrency?: number;
}

export interface PlanInput {
  releaseId: string;
  product: Product;
  env: string;
  target: EnvTarget;
  pipelines: readonly string[];
  requestedBy: Actor;
  source: ReleasePlan['source'];
  channel: string;
  region: string;
  /** The env's account, when it is not Greenlight's own. */
  account?: string;
  /**
   * Where the env lives and which pipelines are there (findTargetIn), each read through its own
   * reader; unset: `pipelines`, read by the deps' reader in `account` and `region`.
   */
  places?: readonly PlacedPipelines[];
  votesRequired?: number;
}

export const PLAN_CONCURRENCY = 8;

export interface SavePlanDeps extends PlanDeps {
  releases: Pick<ReleaseStore, 'savePlan' | 'get'>;
  log: Log;
}

/** The plan input for a product and env that were found: progress goes to the product's channel, if it has one. */
function planInputFor(
  found: Extract<TargetLookup, { ok: true }>,
  input: Pick<PlanInput, 'releaseId' | 'requestedBy' | 'source' | 'region' | 'account'> & { defaultChannel: string },
): PlanInput {
  // Where the env lives: the first of its places names the release's region and account.
  const first = found.places?.[0]?.place;
  const region = first?.region ?? input.region;
  const account = first ? first.account : input.account;
  return {
    releaseId: input.releaseId,
    product: found.product,
    env: found.env,
    target: found.target,
    pipelines: found.pipelines,
    requestedBy: input.requestedBy,
    source: input.source,
    channel: found.product.channel ?? input.defaultChannel,
    region,
    ...(account ? { account } : {}),
    ...(found.places ? { places: found.places } : {}),
  };
}

/** What planning a release needs: the readers and stores, where approvals are posted, the region. */
export interface PlanReleaseDeps extends SavePlanDeps {
  /** With the products, the plan says how many approvals each change needs under the env's rules. */
  config: { approvalsChannel: string; products?: Readonly<Record<string, ProductOverride>> };
  /** Greenlight's own region: where the product's pipelines are unless PRODUCTS places them elsewhere. */
  region: string;
  /**
   * Where a product's env lives (PRODUCTS `account`, `region`, or `targets`), each place with a
   * reader there; unset: Greenlight's own account and `region`, read by `reader`.
   */
  placesFor?: (productName: string, env: string) => Promise<ReleasePlace[]>;
  /** Where a product's boards are read: every place its pipelines live; unset: Greenlight's own. */
  productPlacesFor?: (productName: string) => Promise<ReleasePlace[]>;
}

/**
 * Where a product's env lives and a reader there: `/release`, the worker and the releasing pipeline
 * look the product up and plan in the env's accounts and regions (PRODUCTS `account`, `region`,
 * `targets`).
 */
export interface ReleasePlace {
  reader: PipelineReader;
  region: string;
  account?: string;
}

/** The places a product's env lives in, or Greenlight's own account and region when PRODUCTS names none. */
export async function placesOf(
  deps: Pick<PlanReleaseDeps, 'placesFor' | 'region'> & { reader: PipelineReader },
  productName: string,
  env: string,
): Promise<ReleasePlace[]> {
  return (await deps.placesFor?.(productName, env)) ?? [{ reader: deps.reader, region: deps.region }];
}

/** Every place a product's pipelines live (its boards), or Greenlight's own when PRODUCTS names none. */
export async function productPlacesOf(
  deps: Pick<PlanReleaseDeps, 'productPlacesFor' | 'region'> & { reader: PipelineReader },
  productName: string,
): Promise<ReleasePlace[]> {
  return (await deps.productPlacesFor?.(productName)) ?? [{ reader: deps.reader, region: deps.region }];
}

/**
 * Plans the release of a product's env that findTarget found, and saves the plan: the one way
 * `/release`, the release worker and the releasing pipeline's action plan a release.
 */
export function planReleaseFor(
  deps: PlanReleaseDeps,
  found: Extract<TargetLookup, { ok: true }>,
  request: Pick<PlanInput, 'releaseId' | 'requestedBy' | 'source'>,
): Promise<ReleasePlan> {
  const input = planInputFor(found, {
    ...request,
    region: deps.region,
    defaultChannel: deps.config.approvalsChannel,
  });
  const required = deps.config.products
    ? (policyByKey(`${found.product.name}/${found.env}`, deps.config.products)?.required ?? 1)
    : 1;
  return planAndSave(deps, required > 1 ? { ...input, votesRequired: required } : input);
}

/**
 * Plans the release and stores the plan, and returns the plan as stored. A repeated job (same
 * release id) gets the plan stored the first time, never its own reading: what a person sees is
 * always what a confirmation approves.
 */
export async function planAndSave(deps: SavePlanDeps, input: PlanInput): Promise<ReleasePlan> {
  const plan = await planRelease(deps, input);
  if ((await deps.releases.savePlan(plan)) === 'created') {
    deps.log.info('Release planned', {
      releaseId: plan.releaseId,
      product: plan.product.name,
      env: plan.env,
      pipelines: plan.items.length,
      included: plan.items.filter((item) => item.kind === 'include').length,
      ...(input.places && input.places.length > 1 ? { places: input.places.length } : {}),
    });
    return plan;
  }
  const stored = await deps.releases.get(input.releaseId);
  if (!stored) throw new Error(`Release ${input.releaseId} was saved before but cannot be read`);
  return stored;
}

/**
 * Reads every pipeline of the product and pins the approval waiting in the env's stage, token and
 * all, or says why a pipeline is left out. The plan is what a person confirms, and exactly what the
 * fan-out approves later: nothing is looked up again by stage. An env in several places is read in
 * each, through its own reader, and each pipeline there carries its place.
 */
export async function planRelease(deps: PlanDeps, input: PlanInput): Promise<ReleasePlan> {
  const groups: readonly {
    place: { reader: PlanDeps['reader']; region: string; account?: string };
    pipelines: readonly string[];
  }[] = input.places ?? [
    {
      place: { reader: deps.reader, region: input.region, ...(input.account ? { account: input.account } : {}) },
      pipelines: input.pipelines,
    },
  ];
  const work = groups.flatMap(({ place, pipelines }) => pipelines.map((pipelineName) => ({ place, pipelineName })));
  const items = await mapLimit(work, deps.concurrency ?? PLAN_CONCURRENCY, ({ place, pipelineName }) =>
    planItem({ ...deps, reader: place.reader }, input.target, pipelineName, place),
  );
  return {
    releaseId: input.releaseId,
    product: { name: input.product.name, displayName: input.product.displayName },
    env: input.env,
    stageName: input.target.stage,
    ...(input.target.action ? { actionName: input.target.action } : {}),
    region: input.region,
    ...(input.account ? { account: input.account } : {}),
    requestedBy: input.requestedBy,
    source: input.source,
    channel: input.channel,
    createdAt: deps.clock(),
    items,
    ...(input.votesRequired ? { votesRequired: input.votesRequired } : {}),
  };
}

async function planItem(
  deps: PlanDeps,
  target: EnvTarget,
  pipelineName: string,
  where: { region: string; account?: string },
): Promise<PlanItem> {
  const place = { region: where.region, ...(where.account ? { account: where.account } : {}) };
  // A pipeline in another account carries its place: the fan-out approves it there.
  const located = where.account ? { place: { account: where.account, region: where.region } } : {};
  let snapshot: PipelineSnapshot;
  try {
    snapshot = await deps.reader.snapshot(pipelineName);
  } catch (error) {
    const exclusion: Exclusion =
      error instanceof PipelineGoneError
        ? { kind: 'not-found', detail: 'the pipeline no longer exists' }
        : { kind: 'unreadable', detail: 'CodePipeline did not answer; run the release again to include it' };
    return { pipelineName, kind: 'exclude', exclusion, ...located };
  }
  const stage = snapshot.stages.find((candidate) => candidate.name === target.stage);
  if (!stage) return exclude(pipelineName, { kind: 'not-found', detail: `it has no stage ${target.stage}` }, located);
  const action = waitingAction(stage, target);
  if (action === 'no-such-action')
    return exclude(
      pipelineName,
      { kind: 'not-found', detail: `${target.stage} has no action ${target.action}` },
      located,
    );
  if (!action) return exclude(pipelineName, whyNothingWaits(stage), located);
  return {
    pipelineName,
    kind: 'include',
    approval: {
      approvalId: deps.approvalIdFor(action.token, place),
      stageName: stage.name,
      actionName: action.name,
      token: action.token,
      ...(stage.latest?.revision ? { revision: stage.latest.revision } : {}),
      ...(action.lastChange ? { waitingSince: action.lastChange } : {}),
    },
    ...located,
  };
}

/** The approval waiting in the stage: the named action's, or whichever approval holds a token. */
export function waitingAction(stage: StageSnapshot, target: EnvTarget) {
  if (!target.action) return pendingApprovalIn(stage);
  const action = stage.actions.find((candidate) => candidate.name === target.action);
  if (!action) return 'no-such-action' as const;
  return action.token && action.status === 'InProgress' ? { ...action, token: action.token } : undefined;
}

const exclude = (pipelineName: string, exclusion: Exclusion, located: { place?: ItemPlace }): PlanItem => ({
  pipelineName,
  kind: 'exclude',
  exclusion,
  ...located,
});

const short = (revisionId: string | undefined) => (revisionId ? revisionId.slice(0, 7) : 'the latest revision');

/** Plain words for a stage that holds no waiting approval. */
export function whyNothingWaits(stage: StageSnapshot): Exclusion {
  const latest = stage.latest;
  if (!latest) return { kind: 'nothing-pending', detail: `nothing has reached ${stage.name} yet` };
  const revision = short(latest.revision?.revisionId);
  switch (latest.status) {
    case 'Succeeded':
      return { kind: 'nothing-pending', detail: `${revision} already went through ${stage.name}` };
    case 'InProgress': {
      const running = stage.actions.find((action) => action.status === 'InProgress');
      return {
        kind: 'other-state',
        detail: `${revision} is still in ${stage.name}${running ? ` (${running.name} running)` : ''}`,
      };
    }
    case 'Failed': {
      const failed = stage.actions.find((action) => action.status === 'Failed');
      return {
        kind: 'other-state',
        detail: `${revision} failed in ${stage.name}${failed ? ` (${failed.name})` : ''}`,
      };
    }
    default:
      return { kind: 'other-state', detail: `${revision} was ${latest.status.toLowerCase()} in ${stage.name}` };
  }
}
