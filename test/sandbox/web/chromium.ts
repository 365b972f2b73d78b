import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`): the browser tests never download one. */
export const CHROMIUM = '/usr/bin/chromium';

export interface OpenPage {
  browser: Browser;
  page: Page;
  /** What the page wrote to the console as an error, or threw: a tour must leave none. */
  consoleErrors: string[];
}

/** Launches chromium headless, as CI has it, and opens one page that records its console errors. */
export async function openPage(): Promise<OpenPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium with "apt-get install -y chromium".`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (entry) => {
    if (entry.type() === 'error') consoleErrors.push(entry.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  return { browser, page, consoleErrors };
}
