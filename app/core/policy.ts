/**
 * Who may approve, how many, and when (docs/policy.md): the rules a product's configuration sets
 * per env, read as plain data. Pure: time is passed in, and time zones are read through Intl, so
 * daylight saving is the zone database's business, not ours.
 */

import { type ProductOverride, resolveProduct } from './products.ts';

/** A freeze: weekly (`Fri 16:00` → `Mon 08:00`) or dated (`2026-12-21T00:00` → `2027-01-04T08:00`), in its own zone. */
export type FreezeRule = (
  | { weekly: { from: string; to: string }; from?: never; to?: never }
  | { weekly?: never; from: string; to: string }
) & { timeZone: string; reason?: string };

/** The rules as configured, at product or env level. */
export interface PolicyRules {
  /** Slack user ids (`U…`, `W…`) and user-group ids (`S…`); none: anyone permitted may approve. */
  approvers?: string[];
  /** How many distinct approvers (default 1). */
  required?: number;
  /** Envs whose approvers of the same revision may not approve it here. */
  separateFrom?: string[];
  freezes?: FreezeRule[];
  /** Users and groups who may approve during a freeze, giving a reason. */
  breakGlass?: string[];
  /**
   * Env only: Greenlight approves a change set that replaces, removes and grants nothing itself
   * (core/auto-approve.ts), unless the env needs more than one approver or is frozen.
   */
  autoApprove?: 'safe-changes';
}

/** The rules in force for one env of one product. */
export interface EnvPolicy {
  /** `<product>/<env>`: names the rules an approval was posted under. */
  key: string;
  product: string;
  env: string;
  approvers: string[];
  required: number;
  separateFrom: string[];
  freezes: FreezeRule[];
  breakGlass: string[];
  /** Greenlight's policy approves safe change sets itself (core/auto-approve.ts). */
  autoApprove?: 'safe-changes';
}

export const USER_ID = /^[UW][A-Z0-9]{2,}$/;
export const GROUP_ID = /^S[A-Z0-9]{2,}$/;

export const groupsIn = (list: readonly string[]): string[] => list.filter((id) => GROUP_ID.test(id));
export const usersIn = (list: readonly string[]): string[] => list.filter((id) => USER_ID.test(id));

/** Whether the rules ask anything of a decision at all: without them, anyone permitted decides alone. */
export const hasRules = (policy: EnvPolicy): boolean =>
  policy.approvers.length > 0 || policy.required > 1 || policy.separateFrom.length > 0 || policy.freezes.length > 0;

/** The env's rules: its own fields, else the product's (`approvers`, `breakGlass`, `freezes`). */
export function envPolicy(
  product: string,
  env: string,
  productRules: PolicyRules,
  envRules: PolicyRules | undefined,
): EnvPolicy {
  return {
    key: `${product}/${env}`,
    product,
    env,
    approvers: [...(envRules?.approvers ?? productRules.approvers ?? [])],
    required: envRules?.required ?? productRules.required ?? 1,
    separateFrom: [...(envRules?.separateFrom ?? [])],
    freezes: [...(envRules?.freezes ?? productRules.freezes ?? [])],
    breakGlass: [...(envRules?.breakGlass ?? productRules.breakGlass ?? [])],
    ...(envRules?.autoApprove ? { autoApprove: envRules.autoApprove } : {}),
  };
}

/** Each env's rules of a configured product, by env name; empty for a product without configuration. */
export function productPolicies(name: string, overrides: Readonly<Record<string, ProductOverride>>): EnvPolicy[] {
  if (!Object.hasOwn(overrides, name)) return [];
  const override = overrides[name] ?? {};
  const product = resolveProduct(name, overrides);
  return Object.entries(product.envs).map(([env, target]) => envPolicy(name, env, override, target));
}

/** The policy by its key (`shop/prod`); undefined when no such product or env is configured. */
export function policyByKey(key: string, overrides: Readonly<Record<string, ProductOverride>>): EnvPolicy | undefined {
  const [name = '', env] = key.split('/');
  return productPolicies(name, overrides).find((policy) => policy.env === env);
}

/**
 * The rules an approval of `pipelineName` › `stageName` › `actionName` is decided under: its
 * product's (the most specific configured prefix) env whose stage (and action, when named) it is.
 * Undefined when there are none, or they ask nothing (anyone permitted decides, as without rules).
 */
export function policyForApproval(
  overrides: Readonly<Record<string, ProductOverride>>,
  approval: { pipelineName: string; stageName: string; actionName: string },
): EnvPolicy | undefined {
  const owner = Object.keys(overrides)
    .map((name) => resolveProduct(name, overrides))
    .filter((product) => approval.pipelineName.startsWith(product.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  if (!owner) return undefined;
  const env = Object.entries(owner.envs).find(
    ([, target]) => target.stage === approval.stageName && (!target.action || target.action === approval.actionName),
  )?.[0];
  if (!env) return undefined;
  const policy = productPolicies(owner.name, overrides).find((candidate) => candidate.env === env);
  // An env that only opts into auto-approve keeps its policy with the request too: the approval must know it.
  return policy && (hasRules(policy) || policy.autoApprove) ? policy : undefined;
}

/**
 * Whether `userId` is on `list`: named, or in one of its groups. `groupsOf` holds the groups the
 * person is in (of those asked about); undefined when Slack could not say, which counts as not.
 */
export const onList = (list: readonly string[], userId: string, memberOf: ReadonlySet<string> | undefined): boolean =>
  list.includes(userId) || groupsIn(list).some((group) => memberOf?.has(group) === true);

// ── Freezes ──────────────────────────────────────────────────────────────────────────────────

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const WEEKLY_TIME = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) ([01]\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTES_PER_WEEK = 7 * 24 * 60;

/** A freeze as it stands at one moment: in force (until `end`) or coming (from `start`). */
export interface FreezeWindow {
  start: Date;
  end: Date;
  reason: string;
  /** When it ends, in the freeze's own zone: `Mon 08:00`, or `Mon 4 Jan 08:00` for a dated one. */
  endLabel: string;
  startLabel: string;
  timeZone: string;
}

/** Minutes since Sunday 00:00 of `Fri 16:00`; undefined when it does not read. */
export function weeklyMinute(text: string): number | undefined {
  const match = WEEKLY_TIME.exec(text);
  if (!match) return undefined;
  const day = DAYS.indexOf(match[1] as (typeof DAYS)[number]);
  return day * 1440 + Number(match[2]) * 60 + Number(match[3]);
}

export function isTimeZone(zone: unknown): boolean {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `zone` at `at`. */
export function localTime(at: Date, zone: string): LocalTime {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: DAYS.indexOf(parts.weekday as (typeof DAYS)[number]),
  };
}

/**
 * The instant a wall-clock time in `zone` names. A time skipped by a spring-forward change (02:30
 * on that Sunday in Berlin) is moved on by the gap (03:30), and a time that happens twice in autumn
 * is its first occurrence: what Temporal calls `compatible`, and what calendars do.
 */
export function instantOf(local: Pick<LocalTime, 'year' | 'month' | 'day' | 'hour' | 'minute'>, zone: string): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const offsetAt = (ms: number) => {
    const seen = localTime(new Date(ms), zone);
    return Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute) - ms;
  };
  // The offset before the wanted time first (the earlier of two readings in autumn), then checked.
  const early = asUtc - offsetAt(asUtc - 24 * 3_600_000);
  if (asUtc - offsetAt(early) === early) return new Date(early);
  const late = asUtc - offsetAt(asUtc + 24 * 3_600_000);
  if (asUtc - offsetAt(late) === late) return new Date(late);
  // In a spring-forward gap neither reading exists: the offset from before it moves the time on by the gap.
  return new Date(early);
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function datedLabel(at: Date, zone: string): string {
  const local = localTime(at, zone);
  return `${DAYS[local.weekday]} ${local.day} ${MONTHS[local.month - 1]} ${pad(local.hour)}:${pad(local.minute)}`;
}

function parseLocal(text: string): Omit<LocalTime, 'weekday'> | undefined {
  const match = LOCAL_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  return { year, month, day, hour, minute };
}

/** The instant of the next time the wall clock in `zone` reads `minuteOfWeek`, strictly after `after`. */
function nextWeekly(minuteOfWeek: number, zone: string, after: Date): Date {
  const day = Math.floor(minuteOfWeek / 1440);
  const hour = Math.floor((minuteOfWeek % 1440) / 60);
  const minute = minuteOfWeek % 60;
  const today = localTime(after, zone);
  for (let ahead = 0; ahead <= 8; ahead++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + ahead));
    if (date.getUTCDay() !== day) continue;
    const at = instantOf(
      { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour, minute },
      zone,
    );
    if (at.getTime() > after.getTime()) return at;
  }
  throw new Error(`No ${DAYS[day]} within eight days of ${after.toISOString()}`);
}

/** The weekly window as wall-clock minutes of the week: `from` included, `to` not; it may wrap past Saturday. */
function inWeeklyWindow(minute: number, from: number, to: number): boolean {
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/**
 * The freeze in force at `now`, if any (the one that ends last, when two are). A weekly freeze is
 * read on the zone's wall clock, so it starts and ends at the local minute named, whatever the
 * offset is that week.
 */
export function activeFreeze(freezes: readonly FreezeRule[], now: Date): FreezeWindow | undefined {
  const windows = freezes.flatMap((rule) => {
    const window = windowAround(rule, now);
    return window && window.start.getTime() <= now.getTime() && now.getTime() < window.end.getTime() ? [window] : [];
  });
  return windows.sort((a, b) => b.end.getTime() - a.end.getTime())[0];
}

/** The next freeze to start after `now` (not one in force). */
export function nextFreeze(freezes: readonly FreezeRule[], now: Date): FreezeWindow | undefined {
  const windows = freezes.flatMap((rule) => {
    const window = windowAround(rule, now, true);
    return window && window.start.getTime() > now.getTime() ? [window] : [];
  });
  return windows.sort((a, b) => a.start.getTime() - b.start.getTime())[0];
}

/**
 * Freezes starting within `days` after `now`, soonest first (the digest lists them). Each rule is
 * walked on its own, so two rules that start at the same instant are both listed.
 */
export function upcomingFreezes(freezes: readonly FreezeRule[], now: Date, days: number): FreezeWindow[] {
  const horizon = now.getTime() + days * 86_400_000;
  const found = freezes.flatMap((rule) => {
    const windows: FreezeWindow[] = [];
    let from = now;
    // A weekly rule starts once a week; the bound only stops a rule that never moves on.
    for (let i = 0; i <= days / 7 + 1; i++) {
      const next = windowAround(rule, from, true);
      if (!next || next.start.getTime() <= from.getTime() || next.start.getTime() > horizon) break;
      windows.push(next);
      from = next.start;
    }
    return windows;
  });
  return found.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** The window of `rule` in force at `now`, or (with `coming`) the next one to start after it. */
function windowAround(rule: FreezeRule, now: Date, coming = false): FreezeWindow | undefined {
  const zone = rule.timeZone;
  const reason = rule.reason ?? 'Freeze';
  if (rule.weekly) {
    const from = weeklyMinute(rule.weekly.from);
    const to = weeklyMinute(rule.weekly.to);
    if (from === undefined || to === undefined) return undefined;
    const local = localTime(now, zone);
    const minute = local.weekday * 1440 + local.hour * 60 + local.minute;
    const labels = { startLabel: rule.weekly.from, endLabel: rule.weekly.to, reason, timeZone: zone };
    if (!coming && inWeeklyWindow(minute, from, to)) {
      const back = (minute - from + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
      // The start is found from a moment safely before it, so an offset change in between cannot miss it.
      const start = nextWeekly(from, zone, new Date(now.getTime() - (back + 180) * 60_000));
      return { start, end: nextWeekly(to, zone, now), ...labels };
    }
    const start = nextWeekly(from, zone, now);
    return { start, end: nextWeekly(to, zone, start), ...labels };
  }
  const from = parseLocal(rule.from);
  const to = parseLocal(rule.to);
  if (!from || !to) return undefined;
  const start = instantOf(from, zone);
  const end = instantOf(to, zone);
  return { start, end, reason, timeZone: zone, startLabel: datedLabel(start, zone), endLabel: datedLabel(end, zone) };
}

// ── Checking configured rules ────────────────────────────────────────────────────────────────

/**
 * What is wrong with the rules of one product, each problem naming the product, the env and the
 * field. Used at start (app/config.ts) and at `cdk synth` (infra/config.ts), so a bad rule never
 * reaches a click.
 */
export function policyProblems(
  product: string,
  productRules: PolicyRules,
  envs: Readonly<Record<string, PolicyRules>>,
): string[] {
  const problems: string[] = [];
  const at = (env: string | undefined, field: string) =>
    env === undefined ? `product "${product}" ${field}` : `product "${product}" env "${env}" ${field}`;
  const checkIds = (env: string | undefined, field: string, list: unknown) => {
    if (list === undefined) return;
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(`${at(env, field)}: expected a non-empty list of Slack user ids (U…, W…) and group ids (S…)`);
      return;
    }
    for (const id of list)
      if (typeof id !== 'string' || !(USER_ID.test(id) || GROUP_ID.test(id)))
        problems.push(
          `${at(env, field)}: ${JSON.stringify(id)} is neither a Slack user id (U…, W…) nor a user-group id (S…)`,
        );
  };
  const checkFreezes = (env: string | undefined, freezes: FreezeRule[] | undefined) => {
    if (freezes === undefined) return;
    if (!Array.isArray(freezes)) {
      problems.push(`${at(env, 'freezes')}: expected a list of weekly or dated windows`);
      return;
    }
    const weekly: Array<{ from: number; to: number; zone: string; index: number }> = [];
    const dated: Array<{ start: number; end: number; index: number }> = [];
    freezes.forEach((rule, index) => {
      const field = `freezes[${index}]`;
      if (!isTimeZone(rule.timeZone)) {
        problems.push(`${at(env, `${field}.timeZone`)}: unknown IANA time zone ${JSON.stringify(rule.timeZone)}`);
        return;
      }
      if (rule.weekly) {
        const from = weeklyMinute(rule.weekly.from);
        const to = weeklyMinute(rule.weekly.to);
        if (from === undefined)
          problems.push(`${at(env, `${field}.weekly.from`)}: expected a day and time such as "Fri 16:00"`);
        if (to === undefined)
          problems.push(`${at(env, `${field}.weekly.to`)}: expected a day and time such as "Mon 08:00"`);
        if (from !== undefined && to !== undefined) {
          if (from === to) problems.push(`${at(env, field)}: the weekly window starts and ends at the same minute`);
          else weekly.push({ from, to, zone: rule.timeZone, index });
        }
        return;
      }
      const from = parseLocal(rule.from ?? '');
      const to = parseLocal(rule.to ?? '');
      if (!from)
        problems.push(`${at(env, `${field}.from`)}: expected a local date and time such as "2026-12-21T00:00"`);
      if (!to) problems.push(`${at(env, `${field}.to`)}: expected a local date and time such as "2027-01-04T08:00"`);
      if (from && to) {
        const start = instantOf(from, rule.timeZone).getTime();
        const end = instantOf(to, rule.timeZone).getTime();
        if (end <= start) problems.push(`${at(env, field)}: ends (${rule.to}) before it starts (${rule.from})`);
        else dated.push({ start, end, index });
      }
    });
    // Overlaps are checked among windows of one kind: a dated holiday freeze may well span weekends.
    for (const [i, a] of weekly.entries())
      for (const b of weekly.slice(i + 1))
        if (a.zone === b.zone && weeklyOverlap(a, b))
          problems.push(`${at(env, `freezes[${b.index}]`)}: overlaps freezes[${a.index}]`);
    for (const [i, a] of dated.entries())
      for (const b of dated.slice(i + 1))
        if (a.start < b.end && b.start < a.end)
          problems.push(`${at(env, `freezes[${b.index}]`)}: overlaps freezes[${a.index}]`);
  };
  const checkRequired = (env: string | undefined, rules: PolicyRules, approvers: string[] | undefined) => {
    const required = rules.required;
    if (required === undefined) return;
    if (!Number.isInteger(required) || required < 1) {
      problems.push(`${at(env, 'required')}: expected a whole number of approvers, 1 or more`);
      return;
    }
    // With a group listed, how many may approve is Slack's to say; with users only, it is known now.
    if (approvers && groupsIn(approvers).length === 0 && required > usersIn(approvers).length)
      problems.push(
        `${at(env, 'required')}: ${required} approvals required but only ${usersIn(approvers).length} people may approve`,
      );
  };

  checkIds(undefined, 'approvers', productRules.approvers);
  checkIds(undefined, 'breakGlass', productRules.breakGlass);
  checkFreezes(undefined, productRules.freezes);
  checkRequired(undefined, productRules, productRules.approvers);
  for (const [env, rules] of Object.entries(envs)) {
    checkIds(env, 'approvers', rules.approvers);
    checkIds(env, 'breakGlass', rules.breakGlass);
    checkFreezes(env, rules.freezes);
    checkRequired(env, rules, rules.approvers ?? productRules.approvers);
    if (rules.required === undefined && productRules.required !== undefined)
      checkRequired(env, productRules, rules.approvers ?? productRules.approvers);
    for (const other of rules.separateFrom ?? []) {
      if (other === env) problems.push(`${at(env, 'separateFrom')}: an env cannot be separated from itself`);
      else if (!Object.hasOwn(envs, other))
        problems.push(
          `${at(env, 'separateFrom')}: no env "${other}" in this product (${Object.keys(envs).join(', ')})`,
        );
    }
  }
  return problems;
}

function weeklyOverlap(a: { from: number; to: number }, b: { from: number; to: number }): boolean {
  // Unrolled into the minutes of two weeks, so a window that wraps past Saturday is one range.
  const ranges = (w: { from: number; to: number }) => {
    const end = w.to > w.from ? w.to : w.to + MINUTES_PER_WEEK;
    return [
      [w.from, end],
      [w.from + MINUTES_PER_WEEK, end + MINUTES_PER_WEEK],
      [w.from - MINUTES_PER_WEEK, end - MINUTES_PER_WEEK],
    ] as const;
  };
  return ranges(a).some(([s1, e1]) => ranges(b).some(([s2, e2]) => s1 < e2 && s2 < e1));
}

// ── In plain words ───────────────────────────────────────────────────────────────────────────

/** "1 of 2 approvals", used by the message and the answers. */
export const voteCount = (have: number, required: number): string =>
  `${have} of ${required} approval${required === 1 ? '' : 's'}`;
