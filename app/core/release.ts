/**
 * Product releases (docs/concepts.md): one confirmation approves the same stage in every service pipeline of
 * a product. A release is planned (every pipeline read, every waiting approval pinned by its token),
 * confirmed by a person (or started by a releasing pipeline), then fanned out by a worker. The plan
 * and each pipeline's result are kept as the release's record.
 */
import type { Actor, ApprovalId, MessageRef, Verdict } from './approval.ts';
import type { Revision } from './pipeline.ts';
import type { IdSource } from './ports.ts';
import { ownValue } from './products.ts';

/** The approval a release will give in one pipeline, pinned when the plan was made. */
export interface PinnedApproval {
  approvalId: ApprovalId;
  stageName: string;
  actionName: string;
  /** Secret: answers the approval. Kept server-side only; never logged, never sent to Slack. */
  token: string;
  /** The revision waiting in the stage. */
  revision?: Revision;
  /** When the approval action started waiting. */
  waitingSince?: Date;
}

/** Why a pipeline is not part of a release. `detail` is plain words for people. */
export type Exclusion =
  | { kind: 'nothing-pending'; detail: string }
  | { kind: 'other-state'; detail: string }
  | { kind: 'not-found'; detail: string }
  | { kind: 'unreadable'; detail: string };

/** Another account's place of a pipeline (an env deployed to several: PRODUCTS `targets`). */
export interface ItemPlace {
  account: string;
  region: string;
}

export type PlanItem =
  | { pipelineName: string; kind: 'include'; approval: PinnedApproval; place?: ItemPlace }
  | { pipelineName: string; kind: 'exclude'; exclusion: Exclusion; place?: ItemPlace };

/**
 * How a release names one of its pipelines (its results, its leases): the pipeline's name, and for
 * a pipeline in another account its account and region too, since two accounts may both have a
 * `shop-cart`.
 */
export const itemKey = (item: { pipelineName: string; place?: ItemPlace | undefined }): string =>
  item.place ? `${item.pipelineName}@${item.place.account}/${item.place.region}` : item.pipelineName;

export type IncludedItem = Extract<PlanItem, { kind: 'include' }>;

export interface ReleasePlan {
  releaseId: string;
  product: { name: string; displayName: string };
  env: string;
  stageName: string;
  /** The approval action's name, when the product names it; else whichever approval waits in the stage. */
  actionName?: string;
  /** Where the pipelines live (approvals name their region); an item's own `place` comes first. */
  region: string;
  /** The AWS account the pipelines live in, when it is not Greenlight's own (the env's `account`). */
  account?: string;
  /** The person who asked, or the releasing pipeline. */
  requestedBy: Actor;
  source: 'slack' | 'pipeline';
  /** Where progress is shown. */
  channel: string;
  createdAt: Date;
  items: PlanItem[];
  /**
   * Approvals from different people each change needs under the env's rules (docs/policy.md), when
   * more than one: the release gives the requester's, and each change waits in its message for the rest.
   */
  votesRequired?: number;
}

/** How one pipeline of a confirmed release ended. */
export type ItemResult =
  | { kind: 'approved'; at: Date }
  | { kind: 'not-pending'; detail: string; at: Date }
  | {
      kind: 'already-decided';
      /** Who decided; absent when it was decided outside Greenlight (console, CLI). */
      by?: Actor;
      verdict?: Verdict;
      /** The decision was still being applied when the release reached it. */
      inProgress?: boolean;
      at: Date;
    }
  | { kind: 'changed'; revision?: Revision; at: Date }
  /** The env's rules ask for more approvals (docs/policy.md): the requester's vote counted, others' are awaited. */
  | { kind: 'voted'; votes: number; required: number; at: Date }
  /** The env's rules did not let the release approve it (a freeze, four eyes, approvers named). */
  | { kind: 'refused'; why: string; at: Date }
  | { kind: 'failed'; why: string; at: Date };

export type ItemResultKind = ItemResult['kind'];

export type ReleaseState = 'planned' | 'confirmed' | 'finished';

/** A release as stored: its plan, where it stands, and each pipeline's result so far. */
export interface ReleaseRun extends ReleasePlan {
  state: ReleaseState;
  confirmedAt?: Date;
  finishedAt?: Date;
  /** The progress message in `channel`. */
  message?: MessageRef;
  /** By itemKey: the pipeline's name, with its account and region when it lives in another account. */
  results: Record<string, ItemResult>;
}

export const includedItems = (plan: Pick<ReleasePlan, 'items'>): IncludedItem[] =>
  plan.items.filter((item): item is IncludedItem => item.kind === 'include');

export interface ReleaseCounts {
  /** Approvals the release set out to give. */
  total: number;
  /** Of those, how many have a result. */
  done: number;
  byKind: Record<ItemResultKind, number>;
}

export function releaseCounts(run: Pick<ReleaseRun, 'items' | 'results'>): ReleaseCounts {
  const byKind: Record<ItemResultKind, number> = {
    approved: 0,
    'not-pending': 0,
    'already-decided': 0,
    changed: 0,
    voted: 0,
    refused: 0,
    failed: 0,
  };
  let done = 0;
  const included = includedItems(run);
  for (const item of included) {
    const result = ownValue(run.results, itemKey(item));
    if (!result) continue;
    done += 1;
    byKind[result.kind] += 1;
  }
  return { total: included.length, done, byKind };
}

/** Who a release acts as, in the audit trail and in CodePipeline's summary: "shop → prod by Alice". */
export function releaseActor(plan: Pick<ReleasePlan, 'releaseId' | 'product' | 'env' | 'requestedBy'>): Actor {
  const what = `${plan.product.displayName} → ${plan.env}`;
  return {
    id: plan.releaseId,
    name: `${what} by ${plan.requestedBy.name}`,
    via: 'release',
    ...(plan.requestedBy.via === 'slack'
      ? { release: { what, requestedBy: plan.requestedBy.id, requesterName: plan.requestedBy.name } }
      : {}),
  };
}

/** Release ids name the run in Slack, logs and CodePipeline summaries: letters, digits, `-` and `_` only. */
export const RELEASE_ID = /^[A-Za-z0-9_-]{6,80}$/;

/** A new release id: short, unique, safe in Slack, logs and CodePipeline summaries. */
export const newReleaseId = (ids: IdSource): string => `rel-${ids()}`;

/**
 * A fingerprint of what a plan approves: each included pipeline with the id of its pinned approval
 * (the id is a digest of the token, so the token never shows). The confirmation modal carries it,
 * and a confirmation is refused when the stored plan no longer matches what the person saw. Not a
 * security measure (only the person who asked can confirm); it catches a plan that changed.
 */
export function planDigest(plan: Pick<ReleasePlan, 'items'>): string {
  const text = includedItems(plan)
    .map((item) => `${item.pipelineName}=${item.approval.approvalId}`)
    .sort()
    .join('\n');
  // cyrb53: two 32-bit FNV-style lanes, 53 bits in all; plenty to tell two plans apart.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** A plan is confirmed against the pipelines as they were read; older than this, read them again. */
export const PLAN_MAX_AGE_MS = 15 * 60_000;

export const planExpired = (plan: Pick<ReleasePlan, 'createdAt'>, now: Date): boolean =>
  now.getTime() - plan.createdAt.getTime() > PLAN_MAX_AGE_MS;
