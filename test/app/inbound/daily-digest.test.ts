import { describe, expect, it } from 'vitest';
import { scheduledTimeOf } from '../../../app/inbound/daily-digest.ts';
import { scheduledEvent } from '../../fixtures/scheduler-events.ts';
import { memoryLog } from '../../support/fakes.ts';

describe('the time a digest run was scheduled for', () => {
  it("is the Scheduled Event's time, as EventBridge Scheduler fills it in", () => {
    // Prepare
    const log = memoryLog();

    // Act
    const time = scheduledTimeOf(scheduledEvent(), log);

    // Assess
    expect(time).toEqual(new Date('2022-03-22T18:59:43Z'));
    expect(log.entries).toEqual([]);
  });

  it('is left to the clock for a manual invoke, quietly', () => {
    // Prepare
    const log = memoryLog();

    // Act
    const times = [{}, undefined, null, 'digest', { retry: true }].map((event) => scheduledTimeOf(event, log));

    // Assess
    expect(times).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(log.entries).toEqual([]);
  });

  it('is left to the clock, with a warning, when the time is no instant', () => {
    // Prepare
    const log = memoryLog();

    // Act
    const times = [
      scheduledEvent('<aws.scheduler.scheduled-time>'),
      scheduledEvent('2025-03-10'),
      scheduledEvent('2025-02-30T07:00:00Z'),
      { ...scheduledEvent(), time: 1741590000 },
    ].map((event) => scheduledTimeOf(event, log));

    // Assess
    expect(times).toEqual([undefined, undefined, undefined, undefined]);
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(4);
  });
});
