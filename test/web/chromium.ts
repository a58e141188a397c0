/**
 * Debian's Chromium (/usr/bin/chromium) through playwright-core for the dashboard suites: never
 * a downloaded browser. Suites skip, saying why, where it is absent.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

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

/** A Chromium page opened beside what a suite started, and what the page reported. */
export interface BrowserSession<T> {
  /** What `start` resolved. */
  readonly started: T;
  readonly page: Page;
  /** Uncaught exceptions of the page. */
  readonly pageErrors: string[];
  /** `console.error` lines of the page. */
  readonly consoleErrors: string[];
  /** Closes the browser, then what was started (`stop`), and removes the browser profile. */
  close(): Promise<void>;
}

/**
 * Starts the suite's system (`start`) and a headless Chromium side by side, opens a page and
 * records its errors. When either fails to start, the other is stopped before the error is
 * thrown, so a failed `beforeAll` leaves nothing running.
 */
export async function openBrowserSession<T>(
  start: () => Promise<T>,
  stop: (started: T) => Promise<void>,
): Promise<BrowserSession<T>> {
  const profile = await mkdtemp(join(tmpdir(), 'aviary-chromium-'));
  const [started, launched] = await Promise.allSettled([start(), launchChromium(profile)]);
  const close = async (): Promise<void> => {
    if (launched.status === 'fulfilled') await launched.value.close();
    if (started.status === 'fulfilled') await stop(started.value);
    await rm(profile, { recursive: true, force: true });
  };
  if (started.status === 'rejected' || launched.status === 'rejected') {
    await close();
    throw started.status === 'rejected' ? started.reason : (launched as PromiseRejectedResult).reason;
  }
  const page = await launched.value.newPage();
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return { started: started.value, page, pageErrors, consoleErrors, close };
}
