import type { Config } from '../config.ts';
import type { PostDigestDeps } from '../core/digest-posting.ts';
import type { Log } from '../core/ports.ts';
import { type ClientOverrides, PipelineClients } from '../deps.ts';

/*
 * The way in of the daily schedule: EventBridge Scheduler → handlers/daily-digest.ts → here. The
 * stack's schedule passes an EventBridge "Scheduled Event" whose `time` is the time the run was
 * scheduled for (scheduledTimeOf); any other event (`{}` from a manual invoke or the sandbox's
 * Post digest) leaves the day to the clock.
 */

/** What posting the digest needs (core/digest-posting.ts), on the digest's budget. */
export async function dailyDigestDeps(config: Config, overrides?: ClientOverrides): Promise<PostDigestDeps> {
  const clients = new PipelineClients(config, 'daily-digest', overrides);
  return {
    config,
    store: await clients.approvalStore(),
    reader: await clients.reader(),
    // Products in other accounts are read there, through the role assumed there (docs/architecture.md).
    readerAt: (place) => clients.readerAt(place),
    digestMarkers: await clients.digestMarkers(),
    digestPublisher: await clients.digestPublisher(),
    clock: clients.clock,
    ids: clients.ids,
    log: clients.log,
  };
}

/** An ISO 8601 instant in UTC, as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The instant `time` names, when it is one: JavaScript would read 30 February as 2 March. */
function instant(time: unknown): Date | undefined {
  if (typeof time !== 'string' || !INSTANT.test(time)) return undefined;
  const date = new Date(time);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19) === time.slice(0, 19) ? date : undefined;
}

/**
 * The time the schedule meant this run for: the event's `time`, which the stack fills with the
 * Scheduler's `<aws.scheduler.scheduled-time>` (infra/greenlight-stack.ts). The Scheduler replaces
 * it with the schedule's time, the same on every retry of the run, where `<aws.scheduler.execution-id>`
 * changes with each attempt (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html).
 * Undefined when the event has no `time` (a manual invoke): the clock decides. A `time` that is no
 * instant is logged and left to the clock too: the digest still goes out.
 */
export function scheduledTimeOf(event: unknown, log: Log): Date | undefined {
  if (typeof event !== 'object' || event === null || !('time' in event)) return undefined;
  const { time } = event;
  const date = instant(time);
  if (date) return date;
  log.warn('The schedule gave no readable time; the clock says which day it is', { time: String(time).slice(0, 64) });
  return undefined;
}
