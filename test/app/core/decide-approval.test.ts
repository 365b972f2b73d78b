import { describe, expect, it, vi } from 'vitest';
import { type ApprovalRecord, approvalSummary, type Decision, STALE_CLAIM_MS } from '../../../app/core/approval.ts';
import { dayOf } from '../../../app/core/audit.ts';
import { decideApproval } from '../../../app/core/decide-approval.ts';
import {
  AlreadyDecidedError,
  ApprovalNotFoundError,
  OutcomeNotRecordedError,
  TransientError,
  UnreadableRequestError,
} from '../../../app/core/errors.ts';
import { requestApproval } from '../../../app/core/request-approval.ts';
import { settleApproval } from '../../../app/core/settle-approval.ts';
import { approvalRequest, decideDeps, slackDecision } from '../../support/fakes.ts';
import type { MemoryApprovalStore } from '../../support/memory-store.ts';

/** An approval waiting in Slack, as requestApproval leaves it. */
async function waitingApproval() {
  const deps = decideDeps('2025-03-04T09:30:13Z');
  const { store, pipelines, notifier, clock, log } = deps;
  const request = approvalRequest();
  await requestApproval(deps, request);
  clock.set('2025-03-04T10:15:00Z');
  const click = (verdict: Decision['verdict'], who: Parameters<typeof slackDecision>[2] = {}) =>
    slackDecision(verdict, clock(), who);
  return { store, pipelines, notifier, clock, log, deps, request, click };
}

/** The types of an approval's events in the per-day index of the day `at` falls on. */
const typesOnDay = async (store: MemoryApprovalStore, id: string, at: Date) =>
  (await store.eventsForDay(dayOf(at))).filter((event) => event.approvalId === id).map((event) => event.type);

const types = async (store: MemoryApprovalStore, id: string) =>
  (await store.eventsForApproval(id)).map((event) => `${event.type}${event.result ? `:${event.result}` : ''}`);

/** `target` with some of its methods replaced; the others still run on the target itself. */
function overriding<T extends object>(target: T, replaced: Partial<T>): T {
  return new Proxy(target, {
    get: (self, key) => {
      if (key in replaced) return replaced[key as keyof T];
      const value = Reflect.get(self, key, self);
      return typeof value === 'function' ? value.bind(self) : value;
    },
  });
}

/** Who the record says decided, or is deciding. */
const decider = (record: ApprovalRecord) => record.outcome?.decision?.actor.id ?? record.claim?.actor.id;

describe('decideApproval', () => {
  it('approves in CodePipeline once, records who did it and shows the outcome', async () => {
    // Prepare
    const { store, pipelines, notifier, deps, request, click } = await waitingApproval();
    const decision = click('approve', { id: 'U0ALICE', name: 'Alice' });
    // Act
    const record = await decideApproval(deps, request.id, decision);
    // Assess
    expect(pipelines.calls).toHaveLength(1);
    expect(pipelines.calls[0]).toEqual({ request, decision, summary: 'Approved by Alice (U0ALICE) via Slack' });
    expect(record.status).toBe('closed');
    expect(record.outcome).toEqual({ kind: 'approved', decision, at: decision.at });
    expect(record.claim).toBeUndefined();
    expect(await store.listOpen()).toEqual([]);
    // Drawn beside the outcome write, from the record as it closes (the stored one has dropped the token).
    expect(notifier.refreshed.at(-1)).toMatchObject({
      status: 'closed',
      outcome: record.outcome,
      message: record.message,
    });
    expect(record.request.token).toBe('');
    expect(await types(store, request.id)).toEqual(['requested', 'posted', 'decision-attempted', 'outcome:approved']);
    const attempted = (await store.eventsForApproval(request.id))[2];
    expect(attempted).toMatchObject({
      actor: decision.actor,
      verdict: 'approve',
      approval: { stageName: 'StagingDEV' },
    });
  });

  it('refuses to decide a request whose notification could not be read fully, and sends nothing to CodePipeline', async () => {
    // Prepare
    const { store, pipelines, deps, click } = await waitingApproval();
    const request = approvalRequest({
      token: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
      unreadable: ['approval.actionName'],
    });
    await requestApproval(deps, request);
    // Act
    const decided = decideApproval(deps, request.id, click('approve', { id: 'U0ALICE', name: 'Alice' }));
    // Assess
    await expect(decided).rejects.toBeInstanceOf(UnreadableRequestError);
    expect(pipelines.calls).toHaveLength(0);
    expect((await store.get(request.id))?.status).toBe('pending');
  });

  it('rejects with the reason, which CodePipeline and the audit trail keep', async () => {
    // Prepare
    const { store, pipelines, deps, request, click } = await waitingApproval();
    const decision = click('reject', { id: 'U0BOB', name: 'Bob', reason: 'Checkout fails on QA with expired cards' });
    // Act
    const record = await decideApproval(deps, request.id, decision);
    // Assess
    expect(pipelines.calls.map((call) => call.summary)).toEqual([
      'Rejected by Bob (U0BOB) via Slack: Checkout fails on QA with expired cards',
    ]);
    expect(record.outcome).toMatchObject({ kind: 'rejected', decision: { reason: decision.reason } });
    const outcome = (await store.eventsForApproval(request.id)).find((event) => event.type === 'outcome');
    expect(outcome).toMatchObject({ result: 'rejected', verdict: 'reject', reason: decision.reason });
  });

  it('sends CodePipeline a summary within its 512 characters for the longest reason and a long name', async () => {
    // Prepare
    const { pipelines, deps, request, click } = await waitingApproval();
    const decision = click('reject', {
      id: 'U07QXRELEASE',
      name: 'Maximiliane Alexandra von Hohenberg-Schwarzenfeld (Release Captain, Payments)',
      reason: 'The card-expiry suite is red on QA; see the ticket. '.repeat(10).slice(0, 500),
    });
    // Act
    await decideApproval(deps, request.id, decision);
    // Assess
    const summary = pipelines.calls[0]?.summary ?? '';
    expect(summary).toHaveLength(512);
    expect(summary.startsWith('Rejected by Maximiliane Alexandra von Hohenberg-Schwarzenfeld')).toBe(true);
  });

  it('lets the first of twenty simultaneous clicks decide and tells the others who did', async () => {
    // Prepare
    const { store, pipelines, deps, request, click } = await waitingApproval();
    const clicks = Array.from({ length: 20 }, (_, i) => click('approve', { id: `U0PERSON${i}`, name: `Person ${i}` }));
    // Act
    const answers = await Promise.allSettled(clicks.map((decision) => decideApproval(deps, request.id, decision)));
    // Assess
    expect(pipelines.calls).toHaveLength(1);
    const winners = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
    const refusals = answers.flatMap((answer) => (answer.status === 'rejected' ? [answer.reason as unknown] : []));
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.outcome?.decision?.actor.id;
    expect(winner).toBe(pipelines.calls[0]?.decision.actor.id);
    expect(refusals).toHaveLength(19);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(AlreadyDecidedError);
      expect(decider((refusal as AlreadyDecidedError).record)).toBe(winner);
    }
    const trail = await types(store, request.id);
    expect(trail.filter((type) => type === 'decision-refused:already-decided')).toHaveLength(19);
    expect(trail.filter((type) => type === 'decision-attempted')).toHaveLength(1);
    expect(trail.filter((type) => type.startsWith('outcome'))).toEqual(['outcome:approved']);
  });

  it('refuses a late click on a decided approval and redraws the message with the outcome', async () => {
    // Prepare
    const { store, pipelines, notifier, clock, deps, request, click } = await waitingApproval();
    await decideApproval(deps, request.id, click('approve', { id: 'U0ALICE', name: 'Alice' }));
    clock.advance(3_600_000);
    const redrawn = notifier.refreshed.length;
    // Act
    const late = decideApproval(deps, request.id, click('reject', { id: 'U0BOB', name: 'Bob', reason: 'too late' }));
    // Assess
    const error = await late.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyDecidedError);
    expect((error as AlreadyDecidedError).record.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0ALICE' } },
    });
    expect(pipelines.calls).toHaveLength(1);
    expect(notifier.refreshed.slice(redrawn)).toEqual([(error as AlreadyDecidedError).record]);
    const refused = (await store.eventsForApproval(request.id)).at(-1);
    expect(refused).toMatchObject({
      type: 'decision-refused',
      result: 'already-decided',
      actor: { id: 'U0BOB' },
      verdict: 'reject',
      reason: 'too late',
    });
  });

  it.each([
    ['expired', 'expired', { kind: 'expired' }],
    ['decided-elsewhere', 'decided elsewhere', { kind: 'decided-elsewhere' }],
    [{ gone: 'stage' } as const, 'gone', { kind: 'gone', what: 'stage' }],
  ] as const)('closes the approval as %s when CodePipeline says it is %s', async (trouble, _said, outcome) => {
    // Prepare
    const { store, pipelines, notifier, deps, request, click } = await waitingApproval();
    pipelines.fail(trouble);
    const decision = click('approve');
    // Act
    const record = await decideApproval(deps, request.id, decision);
    // Assess
    expect(record.status).toBe('closed');
    expect(record.outcome).toEqual({ ...outcome, decision, at: decision.at });
    expect(await store.listOpen()).toEqual([]);
    expect(notifier.refreshed.at(-1)?.outcome?.kind).toBe(outcome.kind);
    expect((await types(store, request.id)).at(-1)).toBe(`outcome:${outcome.kind}`);
  });

  it('records the decision when the call timed out but CodePipeline took it', async () => {
    // Prepare
    const { store, pipelines, deps, request, click } = await waitingApproval();
    pipelines.fail('lost-answer');
    const decision = click('approve');
    // Act
    const record = await decideApproval(deps, request.id, decision);
    // Assess
    expect(record.outcome).toEqual({ kind: 'approved', decision, at: decision.at });
    expect(pipelines.stateQueries).toEqual([request.id]);
    expect(await types(store, request.id)).not.toContain('claim-released:failed');
  });

  it('records the decision when a retried call hears "already answered" with its own summary', async () => {
    // Prepare: the SDK's first try landed without an answer; its retry hears "already completed"
    const { pipelines, deps, request, click } = await waitingApproval();
    const decision = click('reject', { id: 'U0BOB', reason: 'flaky checkout' });
    pipelines.answerResult({ state: 'decided', verdict: 'reject', summary: approvalSummary(decision) });
    pipelines.fail('decided-elsewhere');
    // Act
    const record = await decideApproval(deps, request.id, decision);
    // Assess
    expect(record.outcome?.kind).toBe('rejected');
  });

  it('gives the approval back when CodePipeline does not answer, so a later click succeeds', async () => {
    // Prepare
    const { store, pipelines, clock, log, deps, request, click } = await waitingApproval();
    pipelines.fail('transient');
    // Act
    const first = await decideApproval(deps, request.id, click('approve', { id: 'U0ALICE' })).catch((e: unknown) => e);
    // Assess
    expect(first).toBeInstanceOf(TransientError);
    expect((first as TransientError).cause).toBeInstanceOf(TransientError);
    const released = await store.get(request.id);
    expect(released?.status).toBe('pending');
    expect(released?.claim).toBeUndefined();
    expect((await store.eventsForApproval(request.id)).at(-1)).toMatchObject({
      type: 'claim-released',
      result: 'failed',
      actor: { id: 'U0ALICE' },
      detail: 'TransientError',
    });
    expect(log.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toContain(
      'Decision could not be applied; claim given back',
    );

    // Act: the person tries again a moment later
    clock.advance(5_000);
    const second = await decideApproval(deps, request.id, click('approve', { id: 'U0ALICE' }));
    // Assess
    expect(second.outcome?.kind).toBe('approved');
    expect(pipelines.calls).toHaveLength(2);
    expect(log.lines.join('\n')).not.toContain(request.token);
  });

  it('lets a new click take over a claim whose holder died mid-decision', async () => {
    // Prepare: a decision claimed the approval, then its Lambda was killed before CodePipeline answered
    const { store, pipelines, clock, deps, request, click } = await waitingApproval();
    const decision = click('approve', { id: 'U0ALICE' });
    const abandoned = {
      ...decision,
      claimId: 'claim-of-a-dead-lambda',
      until: new Date(decision.at.getTime() + STALE_CLAIM_MS),
    };
    await store.claim(request.id, abandoned, decision.at);
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    const record = await decideApproval(deps, request.id, click('approve', { id: 'U0BOB', name: 'Bob' }));
    // Assess
    expect(record.outcome).toMatchObject({ kind: 'approved', decision: { actor: { id: 'U0BOB' } } });
    expect(pipelines.calls.map((call) => call.summary)).toEqual(['Approved by Bob (U0BOB) via Slack']);
  });

  it('credits Alice, not Bob, when her approve landed but recording it failed and Bob rejected a minute later', async () => {
    // Prepare: Alice's approve reaches CodePipeline; DynamoDB refuses both tries to record the outcome
    const { store, pipelines, notifier, clock, deps, request, click } = await waitingApproval();
    const recordOutcome = store.recordOutcome.bind(store);
    let failures = 2;
    store.recordOutcome = async (id, outcome) => {
      if (failures-- > 0)
        throw Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
      return recordOutcome(id, outcome);
    };
    const alice = click('approve', { id: 'U0ALICE', name: 'Alice' });
    const first = decideApproval(deps, request.id, alice);
    await expect(first).rejects.toBeInstanceOf(OutcomeNotRecordedError);
    // Act: Bob rejects after Alice's claim ran out
    clock.advance(STALE_CLAIM_MS + 1_000);
    const record = await decideApproval(deps, request.id, click('reject', { id: 'U0BOB', name: 'Bob', reason: 'no' }));
    // Assess: CodePipeline, the audit trail and the message agree: Alice approved
    expect(pipelines.results.get(request.id)?.verdict).toBe('approve');
    expect(record.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0ALICE' }, verdict: 'approve' },
    });
    const outcome = (await store.eventsForApproval(request.id)).find((event) => event.type === 'outcome');
    expect(outcome).toMatchObject({ result: 'approved', actor: { id: 'U0ALICE' }, verdict: 'approve' });
    expect(notifier.refreshed.at(-1)?.outcome).toMatchObject({
      kind: 'approved',
      decision: { actor: { id: 'U0ALICE' } },
    });
  });

  it('does not take over a claim that is still being applied', async () => {
    // Prepare
    const { store, pipelines, clock, deps, request, click } = await waitingApproval();
    const decision = click('approve', { id: 'U0ALICE' });
    const live = { ...decision, claimId: 'claim-in-flight', until: new Date(decision.at.getTime() + STALE_CLAIM_MS) };
    await store.claim(request.id, live, decision.at);
    clock.advance(2_000);
    // Act
    const answer = decideApproval(deps, request.id, click('reject', { id: 'U0BOB', reason: 'no' }));
    // Assess
    await expect(answer).rejects.toBeInstanceOf(AlreadyDecidedError);
    expect(pipelines.calls).toEqual([]);
    expect((await store.get(request.id))?.claim?.claimId).toBe('claim-in-flight');
  });

  it('refuses an approval it does not know, audits the attempt and leaves CodePipeline alone', async () => {
    // Prepare
    const { store, pipelines, deps, click } = await waitingApproval();
    const forged = 'AAAAAAAAAAAAAAAAAAAAAA';
    // Act
    const answer = decideApproval(deps, forged, click('approve', { id: 'U0MALLORY' }));
    // Assess
    await expect(answer).rejects.toBeInstanceOf(ApprovalNotFoundError);
    expect(pipelines.calls).toEqual([]);
    const today = await store.eventsForDay(deps.clock().toISOString().slice(0, 10));
    expect(today.filter((event) => event.approvalId === 'unknown')).toEqual([
      expect.objectContaining({
        type: 'decision-refused',
        result: 'unknown-approval',
        detail: `no approval ${forged}`,
        actor: expect.objectContaining({ id: 'U0MALLORY' }),
      }),
    ]);
    expect(await store.eventsForApproval(forged)).toEqual([]);
  });

  it('keeps the decision when the message cannot be redrawn', async () => {
    // Prepare
    const { store, pipelines, notifier, log, deps, request, click } = await waitingApproval();
    notifier.failRefresh(1);
    // Act
    const record = await decideApproval(deps, request.id, click('approve'));
    // Assess
    expect(record.outcome?.kind).toBe('approved');
    expect(pipelines.calls).toHaveLength(1);
    expect((await store.get(request.id))?.status).toBe('closed');
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'Could not refresh the approval message; redrawing it later' }),
    );
  });

  it('names the release a decision belongs to in the audit trail', async () => {
    // Prepare
    const { store, deps, request, clock } = await waitingApproval();
    const decision: Decision = {
      verdict: 'approve',
      actor: { id: 'release-2025-03-04-01', name: 'shop → qa', via: 'release' },
      at: clock(),
    };
    // Act
    await decideApproval(deps, request.id, decision, { releaseId: 'release-2025-03-04-01' });
    // Assess
    const events = await store.eventsForApproval(request.id);
    const decided = events.filter((event) => event.type === 'decision-attempted' || event.type === 'outcome');
    expect(decided.map((event) => event.releaseId)).toEqual(['release-2025-03-04-01', 'release-2025-03-04-01']);
  });

  it('decides in three round trips with four calls: the claim carries its attempt, the outcome is drawn while it is recorded', async () => {
    // Prepare: every store write and CodePipeline call is traced.
    const { store, pipelines, notifier, deps, request, click, clock } = await waitingApproval();
    const steps: string[] = [];
    const held = <T>(name: string, call: () => Promise<T>) => {
      steps.push(`start ${name}`);
      return call().finally(() => steps.push(`end ${name}`));
    };
    const tracing = {
      ...deps,
      store: overriding(store, {
        claim: (...args: Parameters<typeof store.claim>) => held('claim', () => store.claim(...args)),
        append: (...args: Parameters<typeof store.append>) =>
          held(`append ${args[0].type}`, () => store.append(...args)),
        recordOutcome: (...args: Parameters<typeof store.recordOutcome>) =>
          held('recordOutcome', () => store.recordOutcome(...args)),
      }),
      pipelines: overriding(pipelines, {
        putApprovalResult: (...args: Parameters<typeof pipelines.putApprovalResult>) =>
          held('putApprovalResult', () => pipelines.putApprovalResult(...args)),
      }),
      notifier: overriding(notifier, {
        refresh: (...args: Parameters<typeof notifier.refresh>) => held('refresh', () => notifier.refresh(...args)),
      }),
    };
    // Act
    const record = await decideApproval(tracing, request.id, click('approve'));
    // Assess: no write of the attempt of its own; the outcome and the message go out together.
    expect(record.outcome?.kind).toBe('approved');
    expect(steps.filter((step) => step.startsWith('start'))).toEqual([
      'start claim',
      'start putApprovalResult',
      'start recordOutcome',
      'start refresh',
    ]);
    expect(steps.indexOf('end claim')).toBeLessThan(steps.indexOf('start putApprovalResult'));
    expect(steps.indexOf('end putApprovalResult')).toBeLessThan(steps.indexOf('start recordOutcome'));
    expect(steps.indexOf('start refresh')).toBeLessThan(steps.indexOf('end recordOutcome'));
    expect(notifier.refreshed.at(-1)).toMatchObject({ status: 'closed', outcome: { kind: 'approved' } });
    // The day's audit still shows the attempt: the closed approval carries it.
    expect(await typesOnDay(store, request.id, clock())).toEqual([
      'requested',
      'posted',
      'decision-attempted',
      'outcome',
    ]);
  });

  it('files the attempt of a decision CodePipeline did not take, so the day it was made shows it', async () => {
    // Prepare
    const { store, pipelines, deps, request, click, clock } = await waitingApproval();
    pipelines.fail('transient');
    // Act
    await decideApproval(deps, request.id, click('approve', { id: 'U0ALICE' })).catch(() => {});
    // Assess: the approval is still open, so only the filed attempt puts it in the day
    expect(await typesOnDay(store, request.id, clock())).toEqual([
      'requested',
      'posted',
      'decision-attempted',
      'claim-released',
    ]);
    expect(store.filedEvents().filter((event) => event.type === 'decision-attempted')).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ id: 'U0ALICE' }), verdict: 'approve' }),
    ]);
  });

  it('files an attempt made the day before the approval closed, so each day shows its own events once', async () => {
    // Prepare: Alice's click claims at midnight less a moment, its holder dies; Bob decides the next day.
    const { store, deps, request, click, clock } = await waitingApproval();
    clock.set('2025-03-04T23:59:59.900Z');
    const alice = click('approve', { id: 'U0ALICE' });
    await store.claim(
      request.id,
      { ...alice, claimId: 'claim-of-a-dead-lambda', until: new Date(alice.at.getTime() + STALE_CLAIM_MS) },
      alice.at,
    );
    clock.advance(STALE_CLAIM_MS + 1_000);
    // Act
    await decideApproval(deps, request.id, click('approve', { id: 'U0BOB', name: 'Bob' }));
    // Assess
    const attemptsOn = async (day: string) =>
      (await store.eventsForDay(day))
        .filter((event) => event.type === 'decision-attempted' || event.type === 'outcome')
        .map((event) => `${event.type} ${event.actor?.id ?? ''}`.trim());
    expect(await attemptsOn('2025-03-04')).toEqual(['decision-attempted U0ALICE']);
    expect(await attemptsOn('2025-03-05')).toEqual(['decision-attempted U0BOB', 'outcome U0BOB']);
    expect(store.filedEvents().filter((event) => event.type === 'decision-attempted')).toHaveLength(1);
  });

  it('keeps an attempt it could not file in the trail, and the settle job files it', async () => {
    // Prepare: CodePipeline does not take the decision, and filing the attempt fails too.
    const { store, pipelines, deps, request, click, clock } = await waitingApproval();
    pipelines.fail('transient');
    const settled: string[] = [];
    const append = store.append.bind(store);
    let fail = true;
    const flaky = overriding(store, {
      append: async (event: Parameters<typeof store.append>[0]) => {
        if (fail && event.type === 'decision-attempted') throw new Error('ProvisionedThroughputExceededException');
        return append(event);
      },
    });
    const settleLater = async (id: string) => {
      settled.push(id);
    };
    const decision = click('approve', { id: 'U0ALICE', name: 'Alice' });
    // Act
    await decideApproval({ ...deps, store: flaky, settleLater }, request.id, decision).catch(() => {});
    fail = false;
    const dayBefore = await store.eventsForDay(dayOf(clock()));
    await settleApproval({ ...deps, store: flaky }, request.id);
    // Assess
    expect(settled).toEqual([request.id]);
    expect(dayBefore.map((event) => event.type)).not.toContain('decision-attempted');
    expect(await typesOnDay(store, request.id, clock())).toContain('decision-attempted');
    expect(store.filedEvents().filter((event) => event.type === 'decision-attempted')).toEqual([
      expect.objectContaining({ actor: decision.actor, verdict: 'approve' }),
    ]);
  });

  it('settles later an attempt of yesterday it could not file, also when another outcome stands', async () => {
    // Prepare: Alice clicks a moment before midnight; by the time her outcome is written, the
    // approval has been closed another way just after midnight, and filing her attempt fails.
    const { store, deps, request, click, clock } = await waitingApproval();
    clock.set('2025-03-04T23:59:59.900Z');
    const settled: string[] = [];
    const recordOutcome = store.recordOutcome.bind(store);
    const append = store.append.bind(store);
    const racing = overriding(store, {
      recordOutcome: async (...args: Parameters<typeof store.recordOutcome>) => {
        await recordOutcome(request.id, { kind: 'expired', at: new Date('2025-03-05T00:00:00.100Z') });
        return recordOutcome(...args);
      },
      append: async (event: Parameters<typeof store.append>[0]) => {
        if (event.type === 'decision-attempted') throw new Error('ProvisionedThroughputExceededException');
        return append(event);
      },
    });
    const settleLater = async (id: string) => {
      settled.push(id);
    };
    // Act
    const record = await decideApproval({ ...deps, store: racing, settleLater }, request.id, click('approve'));
    // Assess: the expiry stands; the settle job queued will file Alice's attempt on its own day
    expect(record.outcome?.kind).toBe('expired');
    expect(settled).toEqual([request.id]);
    await settleApproval(deps, request.id);
    expect(await typesOnDay(store, request.id, new Date('2025-03-04T12:00:00Z'))).toContain('decision-attempted');
  });

  it('gives a claim back while it files the attempt, not after, to keep within the click budget', async () => {
    // Prepare
    const { store, pipelines, deps, request, click } = await waitingApproval();
    pipelines.fail('transient');
    const steps: string[] = [];
    const traced = <T>(name: string, call: () => Promise<T>) => {
      steps.push(`start ${name}`);
      return call().finally(() => steps.push(`end ${name}`));
    };
    const tracing = overriding(store, {
      append: (...args: Parameters<typeof store.append>) => traced(args[0].type, () => store.append(...args)),
      giveClaimBack: (...args: Parameters<typeof store.giveClaimBack>) =>
        traced('giveClaimBack', () => store.giveClaimBack(...args)),
    });
    // Act
    await decideApproval({ ...deps, store: tracing }, request.id, click('approve')).catch(() => {});
    // Assess
    expect(steps.indexOf('start giveClaimBack')).toBeLessThan(steps.indexOf('end decision-attempted'));
    expect(steps).toContain('end claim-released');
  });

  it('keeps its claim while CodePipeline takes long, so nobody else can decide meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // Prepare: a release's PutApprovalResult that takes 50 s with its retries.
      const { deps, pipelines, request, click, clock } = await waitingApproval();
      let answer: () => void = () => {};
      const slow = overriding(pipelines, {
        putApprovalResult: (...args: Parameters<typeof pipelines.putApprovalResult>) =>
          new Promise<void>((resolve) => {
            answer = () => resolve(pipelines.putApprovalResult(...args));
          }),
      });
      const release = decideApproval({ ...deps, pipelines: slow }, request.id, click('approve', { id: 'U0ALICE' }));
      // Act: 65 s later, past the claim's first end, Bob clicks Reject.
      for (let s = 0; s < 65; s += 5) {
        clock.set(new Date(clock().getTime() + 5_000).toISOString());
        await vi.advanceTimersByTimeAsync(5_000);
      }
      const bob = decideApproval(deps, request.id, click('reject', { id: 'U0BOB', reason: 'No' }));
      // Assess
      await expect(bob).rejects.toBeInstanceOf(AlreadyDecidedError);
      answer();
      await expect(release).resolves.toMatchObject({ outcome: { kind: 'approved' } });
      expect(pipelines.calls.map((call) => call.decision.actor.id)).toEqual(['U0ALICE']);
    } finally {
      vi.useRealTimers();
    }
  });
});
