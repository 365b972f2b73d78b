import { createHash } from 'node:crypto';
import type { ApprovalId, ApprovalRequest } from '../core/approval.ts';

/**
 * Approvals are keyed by a digest of their token: stable across repeats, and the token stays secret.
 * An approval in another account (`place.account`) is keyed by its account and region too, so two
 * accounts can never share an id, whatever their tokens; Greenlight's own keep the ids they always had.
 */
export const approvalIdFor = (token: string, place?: Pick<ApprovalRequest, 'region' | 'account'>): ApprovalId =>
  createHash('sha256')
    .update(place?.account ? `${place.account}/${place.region}/${token}` : token)
    .digest('base64url')
    .slice(0, 22);
