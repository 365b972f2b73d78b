import type { Actor } from './approval.ts';
import type { ApprovalStore, Clock, IdSource } from './ports.ts';

/**
 * Records input that names no approval we made (a forged or tampered button value), so attempts
 * are visible in the audit trail. Nothing else is touched.
 */
export async function refuseTamperedInput(
  deps: { store: ApprovalStore; clock: Clock; ids: IdSource },
  actor: Actor,
  detail: string,
  result: 'tampered' | 'unknown-approval' = 'tampered',
): Promise<void> {
  await deps.store.append({
    eventId: deps.ids(),
    type: 'decision-refused',
    at: deps.clock(),
    approvalId: 'unknown',
    actor,
    result,
    detail: detail.slice(0, 300),
  });
}
