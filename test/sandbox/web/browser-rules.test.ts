import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { openPage } from './chromium.ts';

/**
 * The sandbox's demo approval rules in a real browser (Debian's chromium), as a newcomer meets them
 * after `npm start`: shop into prod needs two of the Releasers (docs/policy.md). Alice's approve
 * counts as "1 of 2" and keeps the buttons; Bob's decides, naming both.
 */

const ACTION_DELAYS = { Source: 100, Build: 300, Deploy: 200, Test: 200 };
/** Wednesday 2026-12-02 10:00 in Berlin: outside the demo's weekend freeze, whatever day the tests run. */
const WEDNESDAY = new Date('2026-12-02T09:00:00Z');
const WAIT = { timeout: 15_000 };

let sandbox: Sandbox;
let browser: Browser;
let page: Page;
let consoleErrors: string[] = [];

beforeAll(async () => {
  // Greenlight's clock (in this process) reads Wednesday and runs on from there; the page keeps its own.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(WEDNESDAY);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  sandbox = await startSandbox({ port: 0, actionDelayMs: ACTION_DELAYS, demoPolicy: true });
  ({ browser, page, consoleErrors } = await openPage());
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
  vi.useRealTimers();
});

const message = (text: string): Locator => page.locator('article.msg', { hasText: text });

async function asPerson(name: string): Promise<void> {
  await page.locator(`.person[data-name="${name}"]`).click();
  await page.locator(`.person[data-name="${name}"][aria-checked="true"]`).waitFor();
}

async function approveIn(approval: Locator): Promise<void> {
  await approval.getByRole('button', { name: 'Approve' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.getByRole('button', { name: 'Approve' }).click();
  await dialog.waitFor({ state: 'detached', ...WAIT });
}

describe('the demo approval rules on the sandbox page', () => {
  it('shows "1 of 2" after the first Releaser approves into prod, and the decision after the second', async () => {
    // Prepare: a change to shop-cart, approved into QA (no rules there), waits for prod
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await asPerson('alice');
    await page.locator('[data-commit="shop-cart"]').click();
    const qa = message('shop-cart › StagingDEV');
    await qa.getByRole('button', { name: 'Approve' }).waitFor(WAIT);
    await approveIn(qa);
    await qa.getByText('Approved').waitFor(WAIT);
    const prod = message('shop-cart › StagingQA');
    await prod.getByRole('button', { name: 'Approve' }).waitFor(WAIT);
    const before = sandbox.world.emulator.calls('PutApprovalResult').length;

    // Act: Alice approves into prod
    await approveIn(prod);
    await prod.getByText('1 of 2 approvals').waitFor(WAIT);
    const afterAlice = sandbox.world.emulator.calls('PutApprovalResult').length;
    const buttonsAfterAlice = await prod.getByRole('button', { name: 'Approve' }).count();

    // Act: Bob approves too
    await asPerson('bob');
    await approveIn(prod);
    await prod.getByText('Approved').waitFor(WAIT);

    // Assess
    expect(afterAlice).toBe(before);
    expect(buttonsAfterAlice).toBe(1);
    expect(sandbox.world.emulator.calls('PutApprovalResult')).toHaveLength(before + 1);
    const decided = (await prod.textContent()) ?? '';
    expect(decided).toContain('@bob');
    expect(decided).toContain('@alice');
    expect(await prod.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
