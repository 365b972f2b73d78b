import { createHash } from 'node:crypto';
import type { ApprovalId } from '../core/approval.ts';

/** Approvals are keyed by a digest of their token: stable across repeats, and the token stays secret. */
export const approvalIdFor = (token: string): ApprovalId =>
  createHash('sha256').update(token).digest('base64url').slice(0, 22);
