import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../../app/views/ids.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { openPage } from './chromium.ts';
import { approvalFor, jsonApi } from './helpers.ts';

/**
 * The sandbox page in a real browser (Debian's chromium, never a downloaded one): a person commits,
 * approves behind a confirm dialog, switches person and rejects with a reason, while the board moves.
 * Saves its screenshots into test-results/; with SCREENSHOTS=docs it refreshes the ones the README
 * and docs/ show (`SCREENSHOTS=docs npx vitest run test/sandbox/web/browser.test.ts`).
 */

const DOCS = fileURLToPath(
  new URL(process.env.SCREENSHOTS === 'docs' ? '../../../docs/' : '../../../test-results/', import.meta.url),
);
/** Slow enough to watch a build run, fast enough for the test. */
const ACTION_DELAYS = { Source: 150, Build: 1000, Deploy: 300, Test: 300 };

let sandbox: Sandbox;
let browser: Browser;
let page: Page;
let consoleErrors: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // Without the demo approval rules: the tour approves shop prod with one click, on any day.
  sandbox = await startSandbox({ port: 0, actionDelayMs: ACTION_DELAYS, demoPolicy: false });
  ({ browser, page, consoleErrors } = await openPage());
  await mkdir(DOCS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

const WAIT = { timeout: 15_000 };

const cell = (pipeline: string, stage: string, state?: string) =>
  page.locator(`tr[data-pipeline="${pipeline}"] td[data-stage="${stage}"]${state ? `[data-state="${state}"]` : ''}`);

const message = (text: string): Locator => page.locator('article.msg', { hasText: text });

async function asPerson(name: string): Promise<void> {
  await page.locator(`.person[data-name="${name}"]`).click();
  await page.locator(`.person[data-name="${name}"][aria-checked="true"]`).waitFor();
}

describe('the sandbox page', () => {
  it('approves behind a confirm dialog, rejects with a reason, and the board follows', async () => {
    // Prepare
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await asPerson('alice');

    // Act: a commit to shop-cart runs through Build and stops for approval in DEV
    await page.locator('[data-commit="shop-cart"]').click();
    await cell('shop-cart', 'Build', 'in-progress').waitFor(WAIT);
    await cell('shop-cart', 'StagingDEV', 'awaiting-approval').waitFor(WAIT);
    const dev = message('shop-cart › StagingDEV');
    await dev.getByRole('button', { name: 'Approve' }).waitFor(WAIT);

    // Act: Cancel in the confirm dialog sends nothing; Approve does
    await dev.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    const dialogText = await dialog.textContent();
    await page.screenshot({ path: `${DOCS}sandbox-confirm.png` });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const clicksAfterCancel = sandbox.world.slack.calls('chat.update').length;
    await dev.getByRole('button', { name: 'Approve' }).click();
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await dev.getByText('Approved').waitFor(WAIT);

    // Assess: the decision, who made it, and the board moving on to QA
    expect(dialogText).toContain('Approve this change?');
    expect(clicksAfterCancel).toBe(0);
    expect(await dev.locator('.md-mention').first().textContent()).toBe('@alice');
    expect(await dev.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await cell('shop-cart', 'StagingDEV', 'succeeded').waitFor(WAIT);
    await cell('shop-cart', 'StagingQA', 'awaiting-approval').waitFor(WAIT);
    expect(await cell('shop-cart', 'StagingQA').getAttribute('data-revision')).toBe('c1');

    // Act: Bob rejects the QA approval; the modal refuses an empty reason, then a blank one
    await asPerson('bob');
    const qa = message('shop-cart › StagingQA');
    await qa.getByRole('button', { name: 'Reject…' }).click();
    const modal = page.locator('form.modal');
    await modal.waitFor(WAIT);
    await modal.getByRole('button', { name: 'Reject' }).click();
    const required = await modal.locator('.b-error').textContent(WAIT);
    await modal.locator('textarea').fill('   ');
    await modal.getByRole('button', { name: 'Reject' }).click();
    const refused = modal.locator('.b-error', { hasText: 'say why' });
    await refused.waitFor(WAIT);
    await page.screenshot({ path: `${DOCS}sandbox-reject-modal.png` });
    await modal.locator('textarea').fill('Checkout fails on QA with expired cards');
    await modal.getByRole('button', { name: 'Reject' }).click();
    await modal.waitFor({ state: 'detached', ...WAIT });
    await qa.getByText('Rejected').waitFor(WAIT);

    // Assess
    expect(required).toBe('Please complete this required field.');
    expect(await qa.textContent()).toContain('Checkout fails on QA with expired cards');
    expect(await qa.locator('.md-mention').first().textContent()).toBe('@bob');
    await cell('shop-cart', 'StagingQA', 'failed').waitFor(WAIT);
    expect(sandbox.world.emulator.calls('PutApprovalResult')).toHaveLength(2);
  });

  it('draws the README view: every kind of stage state, decided and waiting approvals', async () => {
    // Prepare: a scene made through the scripting API, as a demo script would
    const api = jsonApi(`http://127.0.0.1:${sandbox.web.port}`);
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await asPerson('carol');
    await api.post('/api/pipelines/blog-api/fail-next', { stage: 'StagingDEV', action: 'Test' });
    await api.post('/api/products/shop/commit');
    await api.post('/api/pipelines/blog-api/commit');
    await api.post('/api/settle');
    const approve = async (user: string, pipeline: string, stage: string) => {
      const ts = approvalFor(sandbox.world.slack.messages('C0APPROVALS'), pipeline, stage)?.ts;
      await api.post('/api/act/click', { user, channel: 'approvals', ts, actionId: ids.approve });
      await api.post('/api/settle');
    };
    await approve('dave', 'shop-catalog', 'StagingDEV');
    // shop-cart: one revision waits for approval in DEV, the next waits at the transition, one was superseded
    await api.post('/api/pipelines/shop-cart/commit');
    await cell('shop-cart', 'StagingDEV').locator('.chip.waiting').waitFor(WAIT);
    await api.post('/api/pipelines/shop-cart/commit');
    await cell('shop-cart', 'StagingDEV').locator('.chip.superseded').waitFor(WAIT);
    await approve('alice', 'shop-catalog', 'StagingQA');
    await api.post('/api/pipelines/blog-web/commit');

    // Act
    await cell('blog-web', 'Build', 'in-progress').waitFor(WAIT);
    await message('shop-catalog › StagingQA').getByText('Approved').waitFor(WAIT);
    await page.screenshot({ path: `${DOCS}sandbox.png` });

    // Assess
    expect(await cell('blog-api', 'StagingDEV').getAttribute('data-state')).toBe('failed');
    expect(await cell('shop-catalog', 'StagingPROD').getAttribute('data-state')).toBe('succeeded');
    expect(await cell('shop-payments', 'StagingDEV').getAttribute('data-state')).toBe('awaiting-approval');
    expect(await page.locator('.b-button.primary', { hasText: 'Approve' }).count()).toBeGreaterThan(0);
  });

  it("shows a command's answer only to the person who typed it", async () => {
    // Prepare
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await asPerson('dave');

    // Act
    await page.locator('#composer-input').fill('/release shop status');
    await page.keyboard.press('Enter');
    const answer = page.locator('article.msg.ephemeral', { hasText: 'where each revision is' });
    await answer.waitFor(WAIT);
    await page.screenshot({ path: `${DOCS}sandbox-ephemeral.png` });
    await asPerson('alice');

    // Assess
    expect(await page.locator('article.msg.ephemeral', { hasText: 'where each revision is' }).count()).toBe(0);
    await asPerson('dave');
    expect(await answer.textContent()).toContain('Only visible to you');
  });

  it('posts the daily digest and shows replies in its thread, its chart among them', async () => {
    // Prepare
    const api = jsonApi(`http://127.0.0.1:${sandbox.web.port}`);
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await asPerson('bob');

    // Act
    await page.locator('#post-digest').click();
    await page.locator('.channel-link[data-name="delivery-digest"]').click();
    const digest = page.locator('#messages article.msg', { hasText: 'Greenlight daily digest' });
    await digest.waitFor(WAIT);
    await api.post('/api/act/message', {
      user: 'carol',
      channel: 'delivery-digest',
      text: 'shop-payments has waited a while: *who can look at it today?*',
      threadTs: sandbox.world.slack.messages('C0DIGEST')[0]?.ts,
    });
    await digest.locator('.thread-link').click();
    const thread = page.locator('#thread-panel');
    await thread.getByText('who can look at it today?').waitFor(WAIT);
    const chart = thread.locator('.msg-file img');
    await chart.waitFor(WAIT);
    await expect.poll(() => chart.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(960);
    await chart.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${DOCS}sandbox-digest.png` });

    // Assess: the chart, drawn by the app and shared through Slack's upload flow, with words for screen readers
    expect(await digest.locator('.thread-link').textContent()).toContain('2 replies');
    expect(await thread.locator('b', { hasText: 'who can look at it today?' }).count()).toBe(1);
    expect(await chart.getAttribute('alt')).toMatch(
      /^Delivery, last 30 days against the 30 before .*shop: deployments/,
    );
    expect(await thread.locator('.msg-file figcaption').textContent()).toContain('Delivery, last 30 days');
  });

  it('keeps the confirm dialog open when Approve is double-clicked, so the second click confirms nothing', async () => {
    // Prepare: shop-payments waits in DEV since the README view
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await asPerson('alice');
    await page.locator('.channel-link[data-name="approvals"]').click();
    const payments = message('shop-payments › StagingDEV');
    const calls = sandbox.world.emulator.calls('PutApprovalResult').length;

    // Act: the second click of the double-click lands on the dialog's backdrop
    await payments.getByRole('button', { name: 'Approve' }).dblclick();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    await page.waitForTimeout(700);

    // Assess: the dialog waits for an answer; then Approve in it decides, once
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await payments.getByText('Approved').waitFor(WAIT);
    expect(sandbox.world.emulator.calls('PutApprovalResult')).toHaveLength(calls + 1);
  });

  it('closes the Slack message of an approval approved in the AWS console, without a click in Slack', async () => {
    // Prepare: blog-web waits in DEV since the README view
    await page.locator('.channel-link[data-name="approvals"]').click();
    await cell('blog-web', 'StagingDEV', 'awaiting-approval').waitFor(WAIT);
    const web = message('blog-web › StagingDEV');
    await web.getByRole('button', { name: 'Approve' }).waitFor(WAIT);
    const calls = sandbox.world.emulator.calls('PutApprovalResult').length;

    // Act: the board's ✓ approves as someone in the AWS console would
    await cell('blog-web', 'StagingDEV').locator('[data-console-approve="StagingDEV"]').click();
    await web.getByText('Approved outside Slack').waitFor(WAIT);

    // Assess
    expect(await web.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await cell('blog-web', 'StagingDEV', 'succeeded').waitFor(WAIT);
    expect(sandbox.world.emulator.calls('PutApprovalResult')).toHaveLength(calls);
  });

  it('lists each thing that happened once, with times as people read them, and no console errors', async () => {
    // Act
    const activity = await page.locator('#activity li').allTextContents();
    const state = await jsonApi(`http://127.0.0.1:${sandbox.web.port}`).get<{ activity: Array<{ line: string }> }>(
      '/api/state',
    );
    const all = state.json.activity;

    // Assess: an update that changed nothing visible (a redraw, a reply counted) is not listed again
    const updates = all.map((item) => item.line).filter((line) => line.includes(' updated in '));
    expect(updates.length).toBeGreaterThan(0);
    expect(new Set(updates).size).toBe(updates.length);
    for (const line of activity) expect(line).toMatch(/^\d\d:\d\d:\d\d/);
    expect(activity.join('\n')).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/);
    expect(consoleErrors).toEqual([]);
  });
});
