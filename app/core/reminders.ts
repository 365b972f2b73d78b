import type { ApprovalRecord } from './approval.ts';
import { logContext } from './decide-approval.ts';
import { postMarked } from './journey.ts';
import { policyForApproval } from './policy.ts';
import type { ApprovalStore, Clock, IdSource, JourneyStore, Log, ReminderPost, ThreadNotifier } from './ports.ts';
import { configuredProductOf, DEFAULT_REMINDER_HOURS, type ProductOverride } from './products.ts';

/**
 * Reminders before an approval expires (docs/architecture.md, "Messages follow CodePipeline"). An
 * approval nobody answers fails silently after seven days; once it is `reminderHours` (default 24)
 * from its end, its thread gets one reminder that calls the env's approvers (people and user
 * groups), or `@here` where the product has none and allows it. A schedule runs this every 15
 * minutes; the reminder is taken with a conditional write on the approval, so it goes out once
 * however often the schedule fires, and two runs at once post it once.
 */

export interface ReminderDeps {
  store: Pick<ApprovalStore, 'listOpen'>;
  journeys: Pick<JourneyStore, 'takePost' | 'postDone' | 'givePostBack'>;
  threads: Pick<ThreadNotifier, 'reminder'>;
  products: Readonly<Record<string, ProductOverride>>;
  clock: Clock;
  ids: IdSource;
  log: Log;
}

/**
 * `due`: open approvals within their reminder time; `reminded`: reminders posted by this run;
 * `alreadyReminded`: due ones whose reminder an earlier run posted (or another is posting).
 */
export interface RemindResult {
  due: number;
  reminded: number;
  alreadyReminded: number;
}

/** How a product reminds: hours before expiry, and whether `@here` stands in for missing approvers. */
export function reminderSettings(
  pipelineName: string,
  products: Readonly<Record<string, ProductOverride>>,
): { hours: number; here: boolean } {
  const override = configuredProductOf(pipelineName, products)?.override;
  return { hours: override?.reminderHours ?? DEFAULT_REMINDER_HOURS, here: override?.remindHere === true };
}

/**
 * Reminds every open approval whose reminder time has come at `at` (the schedule's time), once.
 * Throws after trying them all when a reminder could not be posted, so the schedule's event is
 * delivered again (what was posted is not posted twice).
 */
export async function remindBeforeExpiry(deps: ReminderDeps, at: Date): Promise<RemindResult> {
  const due = (await deps.store.listOpen()).filter((record) => isDue(record, deps.products, at));
  const failures: unknown[] = [];
  let reminded = 0;
  let alreadyReminded = 0;
  for (const record of due) {
    try {
      if (await remind(deps, record, at)) reminded += 1;
      else alreadyReminded += 1;
    } catch (error) {
      deps.log.warn('Could not post a reminder; the schedule will try again', { ...logContext(record), error });
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} reminders could not be posted`);
  return { due: due.length, reminded, alreadyReminded };
}

/**
 * Waiting (a claim in progress is about to end it), shown in Slack, decidable there, and within its
 * reminder time but not expired.
 */
function isDue(record: ApprovalRecord, products: Readonly<Record<string, ProductOverride>>, at: Date): boolean {
  if (record.status !== 'pending' || !record.message || record.request.unreadable) return false;
  const { hours } = reminderSettings(record.request.pipelineName, products);
  const expires = record.request.expiresAt.getTime();
  return at.getTime() >= expires - hours * 3_600_000 && at.getTime() < expires;
}

function remind(deps: ReminderDeps, record: ApprovalRecord, at: Date): Promise<boolean> {
  return postMarked(deps, { kind: 'reminder', approvalId: record.request.id }, () =>
    deps.threads.reminder(record, reminderFor(record, deps.products, at)),
  );
}

/**
 * Whom the reminder calls: the env's approvers as configured now (people and user groups), else
 * those it was posted under; with none, `@here` only where the product allows it, else nobody.
 */
export function reminderFor(
  record: ApprovalRecord,
  products: Readonly<Record<string, ProductOverride>>,
  at: Date,
): ReminderPost {
  const approvers = policyForApproval(products, record.request)?.approvers ?? record.request.policy?.approvers ?? [];
  const { here } = reminderSettings(record.request.pipelineName, products);
  return {
    expiresAt: record.request.expiresAt,
    at,
    mention: approvers.length > 0 ? [...approvers] : here ? 'here' : [],
  };
}
