import { afterEach, describe, expect, it } from 'vitest';
import { type AppResponse, type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import {
  approvalMessage,
  botToken,
  manualClock,
  reasonModal,
  recordingApp,
  signingSecret,
  webClient,
} from './helpers.ts';

let sim: SlackSimulator | undefined;

afterEach(() => sim?.close());

/** The Slack error code a call failed with. */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => 'no error',
    (error: { data?: { error?: string } }) => error.data?.error,
  );

const json = (body: unknown): AppResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Alice clicked Reject and holds a fresh trigger_id. */
async function afterClick(options: { answer?: Parameters<typeof recordingApp>[0] } = {}) {
  const time = manualClock();
  const app = recordingApp(options.answer);
  sim = await startSlackSimulator({ botToken, signingSecret, clock: time.clock, deliver: app.deliver });
  const client = webClient(sim);
  const posted = await client.chat.postMessage(approvalMessage());
  await sim.click('U0ALICE', 'C0APPROVALS', String(posted.ts), 'reject');
  const triggerId = String(app.lastPayload().trigger_id);
  return { sim, app, client, time, triggerId };
}

/** Alice has the reason modal open. */
async function withModal(answer: Parameters<typeof recordingApp>[0], view: Record<string, unknown> = reasonModal()) {
  const setup = await afterClick({ answer });
  const opened = await setup.client.views.open({ trigger_id: setup.triggerId, view: view as never });
  return { ...setup, viewId: String(opened.view?.id) };
}

describe('views.open', () => {
  it('opens a modal for the person whose click issued the trigger', async () => {
    // Prepare
    const { sim, client, triggerId } = await afterClick();
    // Act
    const opened = await client.views.open({ trigger_id: triggerId, view: reasonModal() as never });
    // Assess
    expect(opened.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      team_id: 'T0GREENLT',
      type: 'modal',
      callback_id: 'reject_reason',
      private_metadata: 'shop-cart/StagingDEV/1',
      hash: expect.any(String),
      state: { values: {} },
      app_id: 'A0GREENLT',
      bot_id: 'B0GREENBOT',
      previous_view_id: null,
    });
    expect(opened.view?.root_view_id).toBe(opened.view?.id);
    expect(sim.openViews('U0ALICE').map((open) => open.view.id)).toEqual([opened.view?.id]);
  });

  it('takes a trigger once, within three seconds, and only one it issued', async () => {
    // Prepare
    const { client, triggerId, time, sim, app } = await afterClick();
    await client.views.open({ trigger_id: triggerId, view: reasonModal() as never });
    await sim.click('U0BOB', 'C0APPROVALS', String(sim.messages('C0APPROVALS')[0]?.ts), 'reject');
    const bobsTrigger = String(app.lastPayload().trigger_id);
    // Act
    const again = await failure(client.views.open({ trigger_id: triggerId, view: reasonModal() as never }));
    time.advance(3001);
    const late = await failure(client.views.open({ trigger_id: bobsTrigger, view: reasonModal() as never }));
    const madeUp = await failure(client.views.open({ trigger_id: '123.456.abc', view: reasonModal() as never }));
    // Assess
    expect([again, late, madeUp]).toEqual(['exchanged_trigger_id', 'expired_trigger_id', 'invalid_trigger_id']);
    expect(sim.openViews('U0BOB')).toEqual([]);
  });

  it('refuses a view Slack would refuse', async () => {
    // Prepare
    const { client, triggerId } = await afterClick();
    const view = reasonModal({ title: { type: 'plain_text', text: 'A title far longer than Slack allows' } });
    // Act
    const opening = client.views.open({ trigger_id: triggerId, view: view as never });
    // Assess
    await expect(opening).rejects.toMatchObject({
      data: {
        error: 'invalid_arguments',
        response_metadata: { messages: ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'] },
      },
    });
  });
});

describe('views.update and views.push', () => {
  it('updates by view_id or external_id and guards against stale hashes', async () => {
    // Prepare
    const { sim, client, triggerId } = await afterClick();
    const opened = await client.views.open({
      trigger_id: triggerId,
      view: reasonModal({ external_id: 'reject-1' }) as never,
    });
    const stale = String(opened.view?.hash);
    // Act
    const updated = await client.views.update({
      view_id: String(opened.view?.id),
      hash: stale,
      view: reasonModal({ private_metadata: 'v2' }) as never,
    });
    const conflict = await failure(
      client.views.update({ view_id: String(opened.view?.id), hash: stale, view: reasonModal() as never }),
    );
    const byExternal = await client.views.update({
      external_id: 'reject-1',
      view: reasonModal({ private_metadata: 'v3' }) as never,
    });
    // Assess
    expect(updated.view?.id).toBe(opened.view?.id);
    expect(updated.view?.hash).not.toBe(stale);
    expect(conflict).toBe('hash_conflict');
    expect(byExternal.view?.private_metadata).toBe('v3');
    expect(sim.openViews('U0ALICE')).toEqual([
      expect.objectContaining({ view: expect.objectContaining({ private_metadata: 'v3', external_id: 'reject-1' }) }),
    ]);
    await expect(client.views.update({ view_id: 'V0NOTHERE', view: reasonModal() as never })).rejects.toMatchObject({
      data: { error: 'not_found' },
    });
  });
});

describe('views.push', () => {
  it('stacks up to three modals', async () => {
    // Prepare: the app keeps each modal open (answers errors) and pushes another with the submission's trigger.
    const keepOpen = json({ response_action: 'errors', errors: { reason: 'Pick one more' } });
    const { sim, client, app, viewId } = await withModal(() => keepOpen);
    const push = async (callbackId: string) => {
      await sim.submitView('U0ALICE', String(sim.openViews('U0ALICE').at(-1)?.view.id), { reason: 'x' });
      const trigger = String(app.lastPayload().trigger_id);
      return failure(
        client.views.push({ trigger_id: trigger, view: reasonModal({ callback_id: callbackId }) as never }),
      );
    };
    // Act
    const second = await push('second');
    const third = await push('third');
    const fourth = await push('fourth');
    // Assess
    expect([second, third, fourth]).toEqual(['no error', 'no error', 'push_limit_reached']);
    expect(sim.openViews('U0ALICE').map((open) => [open.view.callback_id, open.view.root_view_id])).toEqual([
      ['reject_reason', viewId],
      ['second', viewId],
      ['third', viewId],
    ]);
  });
});

describe('submitView', () => {
  it('sends the view_submission payload with the entered values in state', async () => {
    // Prepare
    const { sim, app, viewId } = await withModal(() => ({ status: 200, body: '' }));
    // Act
    await sim.submitView('U0ALICE', viewId, { reason: 'Breaks checkout' });
    // Assess
    expect(app.lastPayload()).toEqual({
      type: 'view_submission',
      team: { id: 'T0GREENLT', domain: 'acme' },
      user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0GREENLT' },
      api_app_id: 'A0GREENLT',
      token: 'sim-verification-token',
      trigger_id: expect.any(String),
      view: expect.objectContaining({
        id: viewId,
        type: 'modal',
        callback_id: 'reject_reason',
        private_metadata: 'shop-cart/StagingDEV/1',
        state: { values: { reason: { reason_input: { type: 'plain_text_input', value: 'Breaks checkout' } } } },
      }),
      response_urls: [],
      enterprise: null,
      is_enterprise_install: false,
    });
  });

  it('closes the modal on an empty acknowledgement', async () => {
    // Prepare
    const { sim, viewId } = await withModal(() => ({ status: 200, body: '' }));
    // Act
    const result = await sim.submitView('U0ALICE', viewId, { reason_input: 'Breaks checkout' });
    // Assess
    expect(result.views).toEqual([]);
    expect(result.events).toContainEqual({ type: 'view_closed', user: 'U0ALICE', viewId });
  });

  it('keeps the modal open with the errors the app answered', async () => {
    // Prepare
    const { sim, viewId } = await withModal(() =>
      json({ response_action: 'errors', errors: { reason: 'Say a bit more' } }),
    );
    // Act
    const result = await sim.submitView('U0ALICE', viewId, { reason: 'no' });
    // Assess
    expect(result.displayError).toBeUndefined();
    expect(sim.openViews('U0ALICE')).toEqual([expect.objectContaining({ errors: { reason: 'Say a bit more' } })]);
  });

  it('refuses errors for blocks that are not inputs, as Slack does', async () => {
    // Prepare
    const { sim, viewId } = await withModal(() =>
      json({ response_action: 'errors', errors: { intro: 'wrong block' } }),
    );
    // Act
    const result = await sim.submitView('U0ALICE', viewId, { reason: 'Breaks checkout' });
    // Assess
    expect(result.displayError).toMatch(/not inputs: intro/);
    expect(sim.openViews('U0ALICE')[0]?.errors).toEqual({});
  });

  it('updates, pushes and clears as the response_action says', async () => {
    // Prepare
    const answers = [
      json({ response_action: 'update', view: reasonModal({ private_metadata: 'updated' }) }),
      json({ response_action: 'push', view: reasonModal({ callback_id: 'confirm' }) }),
      json({ response_action: 'clear' }),
    ];
    const { sim, viewId } = await withModal((request) =>
      request.body.includes('view_submission') ? (answers.shift() ?? json({})) : json({}),
    );
    // Act
    const updated = await sim.submitView('U0ALICE', viewId, { reason: 'one' });
    const pushed = await sim.submitView('U0ALICE', viewId, { reason: 'two' });
    const pushedId = String(pushed.views[1]?.view.id);
    const cleared = await sim.submitView('U0ALICE', pushedId, { reason: 'three' });
    // Assess
    expect(updated.views.map((open) => [open.view.id, open.view.private_metadata])).toEqual([[viewId, 'updated']]);
    expect(pushed.views.map((open) => open.view.callback_id)).toEqual(['reject_reason', 'confirm']);
    expect(pushed.views[1]?.view).toMatchObject({ root_view_id: viewId, previous_view_id: viewId });
    expect(cleared.views).toEqual([]);
  });

  it('does not send a submission with a required field left empty', async () => {
    // Prepare
    const { sim, app, viewId } = await withModal(() => ({ status: 200, body: '' }));
    const before = app.requests.length;
    // Act
    const result = await sim.submitView('U0ALICE', viewId, {});
    // Assess
    expect(result.sent).toBe(false);
    expect(app.requests).toHaveLength(before);
    expect(sim.openViews('U0ALICE')[0]?.errors).toEqual({ reason: 'Please complete this required field.' });
  });

  it('lets only the top modal of the person be submitted', async () => {
    // Prepare
    const { sim, viewId } = await withModal(() => ({ status: 200, body: '' }));
    // Act & Assess
    await expect(sim.submitView('U0BOB', viewId, { reason: 'x' })).rejects.toThrow(/not on top/);
  });
});

describe('closeView', () => {
  it('tells the app only when the view asked to be notified', async () => {
    // Prepare
    const { sim, app, viewId } = await withModal(
      () => ({ status: 200, body: '' }),
      reasonModal({ notify_on_close: true }),
    );
    const before = app.requests.length;
    // Act
    const result = await sim.closeView('U0ALICE', viewId);
    // Assess
    expect(app.requests).toHaveLength(before + 1);
    expect(app.lastPayload()).toMatchObject({ type: 'view_closed', is_cleared: true, view: { id: viewId } });
    expect(result.views).toEqual([]);
  });

  it('closes silently otherwise', async () => {
    // Prepare
    const { sim, app, viewId } = await withModal(() => ({ status: 200, body: '' }));
    const before = app.requests.length;
    // Act
    const result = await sim.closeView('U0ALICE', viewId);
    // Assess
    expect(result.sent).toBe(false);
    expect(app.requests).toHaveLength(before);
    expect(sim.openViews('U0ALICE')).toEqual([]);
  });
});
