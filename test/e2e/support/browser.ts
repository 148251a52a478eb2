/**
 * Debian's chromium driven by playwright-core (never a downloaded browser), with the launch flags DESIGN.md gives.
 * scripts/setup.sh --test installs chromium when it is missing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.OLEADA_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: run scripts/setup.sh --test (it installs Debian's chromium), or set OLEADA_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Collects what a page complains about (CSP violations, uncaught errors), for tests to assert there is none. */
export function complaints(page: Page): string[] {
  const found: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') found.push(message.text());
  });
  page.on('pageerror', (error) => found.push(error.message));
  return found;
}

/**
 * Saves a screenshot into OLEADA_SCREENSHOTS_DIR when that is set (docs/ uses them); otherwise does nothing, so the
 * usual test run leaves the repository alone.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.OLEADA_SCREENSHOTS_DIR;
  if (!dir) return;
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: false });
}
