/**
 * What each of Greenlight's handlers may do in a pipeline account (docs/architecture.md, "Many
 * accounts and regions"). There every handler assumes the one GreenlightAccess role, under a role
 * session name that says whether it answers approvals: the role's trust policy holds each handler
 * to its name, and its policy lets only `greenlight-approve` sessions call `PutApprovalResult`. So a
 * handler that only reads (the digest, CodePipeline's events) cannot approve anywhere, as in
 * Greenlight's own account, where only the approvers' roles hold `PutApprovalResult`.
 *
 * The stack (which roles are trusted with which name, which roles may approve at home) and the app
 * (which name each handler asks for) both decide by `answersApprovals`, so they cannot disagree.
 */

import type { ProductOverride } from './products.ts';

export const ACCESS_SESSION = {
  /** Reads pipelines and answers approvals. */
  approve: 'greenlight-approve',
  /** Reads pipelines, executions and change sets; never answers an approval. */
  read: 'greenlight-read',
} as const;

export type AccessSession = (typeof ACCESS_SESSION)[keyof typeof ACCESS_SESSION];

/** Greenlight's handlers (handlers/*.ts). */
export type GreenlightHandler =
  | 'approval-notification'
  | 'slack-events'
  | 'release-worker'
  | 'release-action'
  | 'pipeline-events'
  | 'daily-digest';

/** The handlers that answer approvals whatever the products: a click, a release and its worker. */
const ALWAYS_APPROVE: ReadonlySet<GreenlightHandler> = new Set(['slack-events', 'release-worker', 'release-action']);

/**
 * Whether `handler` answers approvals (`PutApprovalResult`). The approval-notification handler does
 * only when some env opts into `"autoApprove": "safe-changes"` (core/auto-approve.ts), which it
 * decides as an approval arrives.
 */
export function answersApprovals(
  handler: GreenlightHandler,
  products: Readonly<Record<string, ProductOverride>>,
): boolean {
  if (ALWAYS_APPROVE.has(handler)) return true;
  return handler === 'approval-notification' && Object.values(products).some(optsIntoAutoApprove);
}

/** The role session `handler` asks for in a pipeline account. */
export const accessSession = (
  handler: GreenlightHandler,
  products: Readonly<Record<string, ProductOverride>>,
): AccessSession => (answersApprovals(handler, products) ? ACCESS_SESSION.approve : ACCESS_SESSION.read);

/** Whether a product's envs include one with `"autoApprove": "safe-changes"`. */
function optsIntoAutoApprove(product: ProductOverride): boolean {
  const envs = product.envs;
  if (typeof envs !== 'object' || envs === null) return false;
  return Object.values(envs).some(
    (env) => typeof env === 'object' && env !== null && env.autoApprove === 'safe-changes',
  );
}
