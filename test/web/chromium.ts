/**
 * Debian's Chromium (/usr/bin/chromium) through playwright-core for the dashboard suites: never
 * a downloaded browser. Suites skip, saying why, where it is absent.
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

/** The browser the suites drive. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser suites are skipped, or undefined when Chromium is there. */
export const chromiumMissing = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is absent (install Debian's chromium; .ci/run installs it)`;

/** A headless Chromium with a fresh profile in `profileDir` (Playwright passes it as --user-data-dir). */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
