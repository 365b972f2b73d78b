import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../../app/views/ids.ts';
import type { SlackMessage } from '../../../sandbox/slack/index.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { openPage } from './chromium.ts';
import { approvalFor, eventually, jsonApi } from './helpers.ts';

/**
 * The board's "Commit with a replacement" in a real browser (Debian's chromium): the change set's red
 * warning shows at the top of the production gate's message. With SCREENSHOTS=docs it refreshes
 * docs/sandbox-change-set.png (`SCREENSHOTS=docs npx vitest run test/sandbox/web/browser-change-set.test.ts`).
 */

const SHOTS = fileURLToPath(
  new URL(process.env.SCREENSHOTS === 'docs' ? '../../../docs/' : '../../../test-results/', import.meta.url),
);

let sandbox: Sandbox;
let browser: Browser;
let page: Page;
let consoleErrors: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  sandbox = await startSandbox({ port: 0, actionDelayMs: 0 });
  ({ browser, page, consoleErrors } = await openPage());
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

const WAIT = { timeout: 15_000 };

describe('the sandbox page', () => {
  it('shows the red warning of a change set that replaces a table', async () => {
    // Prepare
    const api = jsonApi(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);

    // The button and the row's ⚡ fit the board's panel: nothing clipped, no sideways scrolling.
    const button = page.locator('[data-commit-replacement="orders-api"]');
    const panel = page.locator('.panel-body', { has: button });
    const [buttonBox, faultBox, panelBox] = await Promise.all([
      button.boundingBox(),
      page.locator('tr[data-pipeline="orders-api"] .fault-menu').boundingBox(),
      panel.boundingBox(),
    ]);
    for (const box of [buttonBox, faultBox])
      expect((box?.x ?? Infinity) + (box?.width ?? 0)).toBeLessThanOrEqual((panelBox?.x ?? 0) + (panelBox?.width ?? 0));
    expect(await panel.evaluate((el) => el.scrollWidth - el.clientWidth)).toBe(0);

    // Act: the board's button, then DEV and QA approved as alice
    await button.click();
    for (const stage of ['StagingDEV', 'StagingQA']) {
      const message = await eventually(async () => {
        await api.post('/api/settle');
        const { json } = await api.get<{ messages: SlackMessage[] }>('/api/channels/approvals/messages');
        return approvalFor(json.messages, 'orders-api', stage);
      });
      await api.post('/api/act/click', { user: 'alice', channel: 'approvals', ts: message.ts, actionId: ids.approve });
    }

    // Assess
    const gate = page.locator('article.msg', { hasText: 'orders-api › StagingPROD' });
    await gate.waitFor(WAIT);
    await expect
      .poll(() => gate.textContent(), WAIT)
      .toContain('🔴 ⚠️ 1 resource will be replaced: OrdersTable (AWS::DynamoDB::Table)');
    expect(String(await gate.textContent())).toContain('Auto-approve declined: 1 replacement: OrdersTable');
    // The gate comes before production's deploy: it asks for a review, not for tests in PROD.
    expect(String(await gate.textContent())).toContain(
      'Review the change set for orders-api in PROD, then approve to deploy it or reject',
    );
    // The page redraws the channel as it changes: the screenshot is taken of a settled one.
    await api.post('/api/settle');
    for (let attempt = 1; ; attempt++) {
      try {
        await gate.scrollIntoViewIfNeeded();
        await gate.screenshot({ path: `${SHOTS}sandbox-change-set.png` });
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    expect(consoleErrors).toEqual([]);
  });
});
