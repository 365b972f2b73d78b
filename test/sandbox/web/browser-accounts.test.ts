import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_SECOND_ACCOUNT } from '../../../sandbox/demo-policy.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/web/sandbox.ts';
import { openPage } from './chromium.ts';

/**
 * The sandbox page with a second AWS account (docs/architecture.md, "Many accounts and regions"):
 * product `data` lives in account 444455556666 (eu-west-1), labelled so on the board; a commit there
 * asks for approval in #approvals and a click approves it through the role Greenlight assumes in that
 * account, over the real SDKs (STS AssumeRole, then CodePipeline with those credentials).
 */

const RESULTS = fileURLToPath(new URL('../../../test-results/', import.meta.url));
const ACTION_DELAYS = { Source: 100, Build: 300, Deploy: 200, Test: 200 };
const WAIT = { timeout: 15_000 };
const { account, region, roleArn } = SANDBOX_SECOND_ACCOUNT;

let sandbox: Sandbox;
let browser: Browser;
let page: Page;
let consoleErrors: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  sandbox = await startSandbox({ port: 0, actionDelayMs: ACTION_DELAYS, demoPolicy: false });
  ({ browser, page, consoleErrors } = await openPage());
  await mkdir(RESULTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

const cell = (pipeline: string, stage: string, state?: string) =>
  page.locator(`tr[data-pipeline="${pipeline}"] td[data-stage="${stage}"]${state ? `[data-state="${state}"]` : ''}`);

const message = (text: string): Locator => page.locator('article.msg', { hasText: text });

function secondAccount() {
  const emulator = sandbox.world.accounts?.emulators.get(`${account}/${region}`);
  if (!emulator) throw new Error('The sandbox started without its second account');
  return emulator;
}

describe('the sandbox page with a second AWS account', () => {
  it('labels the other account’s product and approves its change there, through the assumed role', async () => {
    // Prepare
    await page.goto(sandbox.url.replace('localhost', '127.0.0.1'));
    await page.locator('#connection[data-state="live"]').waitFor(WAIT);
    await page.locator('.person[data-name="alice"]').click();
    const data = page.locator(`section.product[data-product="data"][data-account="${account}"]`);
    await data.waitFor(WAIT);

    // Act: a commit to data-ingest, in the other account, runs to its approval in DEV
    await page.locator('[data-commit="data-ingest"]').click();
    await cell('data-ingest', 'StagingDEV', 'awaiting-approval').waitFor(WAIT);
    const dev = message('data-ingest › StagingDEV');
    await dev.getByRole('button', { name: 'Approve' }).waitFor(WAIT);
    await page.screenshot({ path: `${RESULTS}sandbox-second-account.png` });
    await dev.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Approve' }).click();
    await dev.getByText('Approved').waitFor(WAIT);
    await cell('data-ingest', 'StagingQA', 'awaiting-approval').waitFor(WAIT);

    // Assess: the board labels the account; the approval went there, signed with its role's credentials
    expect(await data.locator('.product-account').textContent()).toBe(`account ${account} · ${region}`);
    expect(await page.locator('section.product[data-product="shop"] .product-account').count()).toBe(0);
    const approvals = secondAccount().calls('PutApprovalResult');
    expect(approvals).toHaveLength(1);
    expect(sandbox.world.accounts?.sts.issued(approvals[0]?.accessKeyId ?? '')?.roleArn).toBe(roleArn);
    expect(sandbox.world.emulator.calls('PutApprovalResult')).toHaveLength(0);
    expect(sandbox.world.emulator.board().some((p) => p.pipelineName.startsWith('data-'))).toBe(false);
    expect(consoleErrors).toEqual([]);
  });

  it('shows the other account’s board in the digest, labelled with its account', async () => {
    // Act
    await page.locator('#post-digest').click();
    await page.locator('.channel-link[data-name="delivery-digest"]').click();
    const digest = page.locator('#messages article.msg', { hasText: 'Greenlight daily digest' });
    await digest.waitFor(WAIT);

    // Assess: its board, read in that account, and its approval waiting in QA, each with the account
    const text = (await digest.textContent()) ?? '';
    expect(text).toContain(`data (${account} ${region}) · 2 services`);
    expect(text).toMatch(new RegExp(`data-ingest › StagingQA \\(${account} ${region}\\)`));
    expect(text).not.toContain('could not reach');
    expect(consoleErrors).toEqual([]);
    // The page redraws a channel as messages change: the whole page is kept, not one message of it.
    await page.screenshot({ path: `${RESULTS}sandbox-second-account-digest.png` });
  });
});
