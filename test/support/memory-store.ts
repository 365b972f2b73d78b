import {
  type ApprovalId,
  type ApprovalRecord,
  type ApprovalRequest,
  type Claim,
  isOpenToDecision,
  isStaleClaim,
  type MessageRef,
  type Outcome,
  type Vote,
} from '../../app/core/approval.ts';
import {
  type AuditEvent,
  attemptEvent,
  carriedIntoClosingDay,
  dayOf,
  outcomeEvent,
  withCarriedEvents,
} from '../../app/core/audit.ts';
import { AlreadyDecidedError, ApprovalNotFoundError } from '../../app/core/errors.ts';
import { RulesMismatchError, SeparatedError } from '../../app/core/policy-errors.ts';
import type { ApprovalStore, PostLease, RulesGuard } from '../../app/core/ports.ts';

interface Stored extends ApprovalRecord {
  postLease?: { holder: string; until: Date };
  firstPostLeaseAt?: Date;
}

/**
 * ApprovalStore in memory, with the DynamoDB store's conditional semantics: first claim wins, a
 * stale claim can be taken over, only the holder releases a claim, the first outcome stands, one
 * post lease at a time, appends are idempotent by eventId.
 *
 * Like DynamoDB, each call is atomic (its check and its write happen in one synchronous step), but
 * every call first yields, so concurrent callers interleave between calls as they would over a
 * network. Records go in and out as copies: nobody can change the store behind its back.
 */
export class MemoryApprovalStore implements ApprovalStore {
  readonly #records = new Map<ApprovalId, Stored>();
  readonly #events = new Map<string, AuditEvent>();

  async saveRequest(request: ApprovalRequest): Promise<'created' | 'exists'> {
    await turn();
    if (this.#records.has(request.id)) return 'exists';
    this.#records.set(request.id, { request: copy(defined(request)), status: 'pending' });
    return 'created';
  }

  async get(id: ApprovalId): Promise<ApprovalRecord | undefined> {
    await turn();
    const stored = this.#records.get(id);
    return stored ? view(stored) : undefined;
  }

  async takePostLease(id: ApprovalId, holder: string, until: Date, now: Date): Promise<PostLease> {
    await turn();
    const stored = this.#records.get(id);
    if (!stored) throw new ApprovalNotFoundError(id);
    if (stored.message) return { taken: false, message: { ...stored.message } };
    const lease = stored.postLease;
    if (lease && lease.holder !== holder && lease.until.getTime() >= now.getTime())
      return { taken: false, heldUntil: new Date(lease.until) };
    const first = stored.firstPostLeaseAt;
    stored.postLease = { holder, until: new Date(until) };
    stored.firstPostLeaseAt ??= new Date(now);
    return { taken: true, firstTakenAt: new Date(first ?? now), takenBefore: first !== undefined };
  }

  async givePostLeaseBack(id: ApprovalId, holder: string): Promise<void> {
    await turn();
    const stored = this.#records.get(id);
    if (stored?.postLease?.holder === holder) delete stored.postLease;
  }

  async recordMessage(id: ApprovalId, message: MessageRef): Promise<MessageRef> {
    await turn();
    const stored = this.#records.get(id);
    if (!stored) throw new Error(`The conditional request failed: no approval ${id}`);
    stored.message ??= { channel: message.channel, ts: message.ts };
    delete stored.postLease;
    return { ...stored.message };
  }

  async claim(id: ApprovalId, claim: Claim, now: Date, rules?: RulesGuard): Promise<ApprovalRecord> {
    await turn();
    const stored = this.#records.get(id);
    if (!stored) throw new ApprovalNotFoundError(id);
    const stale = stored.status === 'deciding' && (!stored.claim || isStaleClaim(stored.claim, now));
    if (stored.status !== 'pending' && !stale) throw new AlreadyDecidedError(view(stored));
    if (rules) refuseByRules(stored, rules, claim.verdict === 'approve' ? claim.actor.id : undefined);
    stored.status = 'deciding';
    stored.claim = copy(claim);
    const { until: _until, ...attempt } = copy(claim);
    stored.attempts = [...(stored.attempts ?? []), attempt];
    return view(stored);
  }

  async vote(
    id: ApprovalId,
    vote: Vote,
    rules: RulesGuard,
    now: Date,
  ): Promise<{ record: ApprovalRecord; counted: boolean }> {
    await turn();
    const stored = this.#records.get(id);
    if (!stored) throw new ApprovalNotFoundError(id);
    if (stored.votes?.some((counted) => counted.actor.id === vote.actor.id))
      return { record: view(stored), counted: false };
    if (!isOpenToDecision(stored, now)) throw new AlreadyDecidedError(view(stored));
    refuseByRules(stored, rules, vote.actor.id);
    stored.votes = [...(stored.votes ?? []), copy(vote)];
    return { record: view(stored), counted: true };
  }

  async renewClaim(id: ApprovalId, claimId: string, until: Date): Promise<boolean> {
    await turn();
    const stored = this.#records.get(id);
    if (stored?.status !== 'deciding' || stored.claim?.claimId !== claimId) return false;
    stored.claim.until = new Date(until);
    return true;
  }

  async giveClaimBack(id: ApprovalId, claimId: string): Promise<void> {
    await turn();
    const stored = this.#records.get(id);
    if (stored?.status !== 'deciding' || stored.claim?.claimId !== claimId) return;
    stored.status = 'pending';
    delete stored.claim;
  }

  async recordOutcome(id: ApprovalId, outcome: Outcome): Promise<ApprovalRecord> {
    await turn();
    const stored = this.#records.get(id);
    if (!stored) throw new ApprovalNotFoundError(id);
    if (stored.status === 'closed') return view(stored);
    stored.status = 'closed';
    stored.outcome = copy(outcome);
    delete stored.claim;
    // As the table: a closed approval keeps no token.
    stored.request = { ...stored.request, token: '' };
    delete stored.request.reviewLink;
    return view(stored);
  }

  async listOpen(): Promise<ApprovalRecord[]> {
    await turn();
    const openKey = (record: Stored) => `${record.request.receivedAt.toISOString()}#${record.request.id}`;
    return [...this.#records.values()]
      .filter((record) => record.status !== 'closed')
      .sort((a, b) => compare(openKey(a), openKey(b)))
      .map(view);
  }

  async append(event: AuditEvent): Promise<void> {
    await turn();
    if (!this.#events.has(event.eventId)) this.#events.set(event.eventId, copy(event));
  }

  async eventsForApproval(id: ApprovalId): Promise<AuditEvent[]> {
    await turn();
    const stored = this.#records.get(id);
    return withCarriedEvents(
      stored && view(stored),
      this.#filed((event) => event.approvalId === id),
    );
  }

  async eventsForDay(day: string): Promise<AuditEvent[]> {
    await turn();
    // As DynamoDB's per-day index holds them: filed events, and the approvals that closed that day
    // with the attempts they carry of that day.
    const carried = [...this.#records.values()].flatMap((stored) => carriedIntoClosingDay(view(stored)));
    const byId = new Map<string, AuditEvent>();
    for (const event of [...carried, ...this.#filed(() => true)])
      if (dayOf(event.at) === day && !byId.has(event.eventId)) byId.set(event.eventId, event);
    return [...byId.values()].sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /** The events filed as items of their own, as DynamoDB's per-day index holds them. */
  filedEvents(): AuditEvent[] {
    return this.#filed(() => true);
  }

  /** Every audit event (filed, and carried by the approvals), in time order: for tests that look at the whole trail. */
  allEvents(): AuditEvent[] {
    const outcomes = [...this.#records.values()].flatMap((stored) => outcomeEvent(view(stored)) ?? []);
    const attempts = [...this.#records.values()].flatMap((stored) =>
      (stored.attempts ?? []).map((attempt) => attemptEvent(stored.request, attempt)),
    );
    const byId = new Map<string, AuditEvent>();
    for (const event of [...attempts, ...outcomes, ...this.#filed(() => true)])
      if (!byId.has(event.eventId)) byId.set(event.eventId, event);
    return [...byId.values()].sort((a, b) => a.at.getTime() - b.at.getTime()).map(copy);
  }

  #filed(keep: (event: AuditEvent) => boolean): AuditEvent[] {
    // Time order; events of the same instant stay in the order they were appended.
    return [...this.#events.values()]
      .filter(keep)
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .map(copy);
  }
}

/** As the DynamoDB store's condition on the rules: the ones the click assumed, and the approver not separated. */
function refuseByRules(stored: Stored, rules: RulesGuard, approver: string | undefined): void {
  if (stored.request.policy?.key !== rules.key) throw new RulesMismatchError(view(stored));
  if (approver && stored.request.policy?.separatedFrom?.includes(approver)) throw new SeparatedError(view(stored));
}

/** Lets other callers run before this call's atomic step, as a network round trip would. */
const turn = () => Promise.resolve();

const copy = <T>(value: T): T => structuredClone(value);

/** DynamoDB keeps no attribute whose value is undefined. */
const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

function view(stored: Stored): ApprovalRecord {
  const { postLease: _lease, firstPostLeaseAt: _first, ...record } = stored;
  return copy(record);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
