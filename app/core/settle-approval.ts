import { type ApprovalId, type ApprovalRecord, isStaleClaim, type Outcome, STALE_CLAIM_MS } from './approval.ts';
import { attemptsToFile } from './audit.ts';
import { creditedDecision, type DecideDeps, logContext, redrawOrSettleLater } from './decide-approval.ts';
import { ClaimKeptError } from './errors.ts';

/**
 * Redraws an open approval, then looks again: a decision that closed it meanwhile may have drawn
 * its ending before this redraw landed, so the ending is drawn once more. A decision still being
 * applied at that look draws its ending beside its outcome write, possibly before this redraw
 * landed: then the approval is settled again once that claim has run out (`busy`). A `deciding`
 * record is never drawn: its holder may yet give the claim back, and the buttons must stay.
 */
async function redrawAsItStands(deps: SettleDeps, id: ApprovalId, open: ApprovalRecord): Promise<SettleResult> {
  const busy = (record: ApprovalRecord): SettleResult => ({
    status: 'busy',
    until: record.claim?.until ?? new Date(deps.clock().getTime() + STALE_CLAIM_MS),
  });
  if (open.status === 'deciding') return busy(open);
  await deps.notifier.refresh(open);
  const now = await deps.store.get(id);
  if (now?.status === 'closed') await deps.notifier.refresh(now);
  if (now?.status === 'deciding') return busy(now);
  return { status: 'open' };
}

/** `busy` while a live claim's holder applies its decision (and records its outcome itself). */
function decisionBeingApplied(record: ApprovalRecord, now: Date): SettleResult | undefined {
  if (record.status !== 'deciding' || !record.claim || isStaleClaim(record.claim, now)) return undefined;
  return { status: 'busy', until: record.claim.until ?? now };
}

export type SettleDeps = Pick<DecideDeps, 'store' | 'pipelines' | 'notifier' | 'clock' | 'log' | 'settleLater'>;

/**
 * - `redrawn`: the approval had ended; its message now shows how.
 * - `recorded`: CodePipeline had taken a decision the record lacked; recorded, credited, redrawn.
 * - `open`: it still waits (or, with no claim on it, nobody can tell yet); the message shows it as
 *   it stands. A dead holder's claim while nobody can tell throws ClaimKeptError.
 * - `busy`: someone's decision is being applied right now; settle again after `until`.
 * - `unknown`: no such approval.
 */
export type SettleResult = { status: 'redrawn' | 'recorded' | 'open' | 'unknown' } | { status: 'busy'; until: Date };

/**
 * Brings an approval's record and message in line with CodePipeline, off the click path: after a
 * redraw Slack refused, or a decision CodePipeline took whose record failed. What CodePipeline
 * keeps is matched against the decisions attempted, so the outcome is credited to whoever gave it.
 * Idempotent: settling twice changes nothing more.
 */
export async function settleApproval(
  deps: SettleDeps,
  id: ApprovalId,
  options: SettleOptions = {},
): Promise<SettleResult> {
  const { store, clock } = deps;
  const record = await store.get(id);
  if (!record) return { status: 'unknown' };
  await fileAttempts(deps, record);
  if (record.status === 'closed') {
    await deps.notifier.refresh(record);
    return { status: 'redrawn' };
  }
  const now = clock();
  const applying = decisionBeingApplied(record, now);
  if (applying) return applying;
  const seen = await deps.pipelines.approvalResult(record.request);
  if (seen.state === 'expired') return close(deps, record, { kind: 'expired', at: now });
  if (seen.state === 'replaced' && options.endedHow) {
    const ended = await options.endedHow(record);
    if (ended) return close(deps, record, ended);
  }
  if (seen.state !== 'decided') {
    if (record.status === 'deciding' && record.claim) {
      // A claim whose holder died is given back, so the message offers its buttons again; but not
      // while CodePipeline cannot say where the approval stands: the holder's PutApprovalResult may
      // have landed, so the claim stays until a later settle can see.
      if (seen.state === 'unknown')
        throw new ClaimKeptError(`CodePipeline did not say where ${id} stands; its claim is kept`);
      await store.giveClaimBack(id, record.claim.claimId);
    }
    return redrawAsItStands(deps, id, (await store.get(id)) ?? record);
  }
  // A click may have claimed the approval and had its decision taken while we looked: it claimed
  // before CodePipeline took it, so the record read now has its claim (and its attempt) or its
  // outcome. A live claim's holder records the outcome itself.
  const latest = (await store.get(id)) ?? record;
  if (latest.status === 'closed') {
    await deps.notifier.refresh(latest);
    return { status: 'redrawn' };
  }
  const applyingNow = decisionBeingApplied(latest, clock());
  if (applyingNow) return applyingNow;
  const landed = await creditedDecision(deps, latest, seen);
  return close(
    deps,
    latest,
    landed
      ? { kind: landed.verdict === 'approve' ? 'approved' : 'rejected', decision: landed, at: now }
      : {
          kind: 'decided-elsewhere',
          at: now,
          verdict: seen.verdict,
          ...(seen.updatedBy ? { by: seen.updatedBy } : {}),
          ...(seen.summary ? { summary: seen.summary } : {}),
          ...(seen.at ? { decidedAt: seen.at } : {}),
        },
  );
}

export interface SettleOptions {
  /**
   * How an approval ended that CodePipeline no longer shows as ours (`replaced`: stopped, cancelled,
   * a newer approval waits): undefined leaves it open. Without it, such an approval is left open.
   */
  endedHow?: (record: ApprovalRecord) => Promise<Outcome | undefined>;
}

/**
 * Records how the approval ended (the first outcome stands), audits it and redraws it. A redraw
 * that fails is a settle job's to do again: once the record is closed, a retry of what brought us
 * here (a CodePipeline event) finds nothing open and would leave the buttons on the message. With
 * no queue to hand it to, the failure is thrown.
 */
async function close(deps: SettleDeps, record: ApprovalRecord, outcome: Outcome): Promise<SettleResult> {
  const final = await deps.store.recordOutcome(record.request.id, outcome);
  deps.log.info('Approval settled from CodePipeline', { ...logContext(record), outcome: final.outcome?.kind });
  await redrawOrSettleLater(deps, final);
  return { status: 'recorded' };
}

/**
 * Files the decision attempts the per-day index cannot find on the approval itself (see
 * `attemptsToFile`), in case a decision's own filing failed or its holder died: each under its
 * claim id, so filing again is a no-op.
 */
async function fileAttempts(deps: SettleDeps, record: ApprovalRecord): Promise<void> {
  await Promise.all(attemptsToFile(record).map((event) => deps.store.append(event)));
}
