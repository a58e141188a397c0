/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * runtime running the demo apps (demo/apps/): the page lists the apps, the charts draw the
 * proxy's traffic, event text stays text, and pressing Abort (with the token prompt) on a
 * running canary rolls it back. Saves screenshots under test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../src/web/static-assets.js';
import { MIN_SERIES_SECONDS } from '../../src/web/traffic-series.js';
import { chromiumMissing as missing, openBrowserSession, type BrowserSession } from './chromium.js';
import {
  DEADLINE_MS,
  INSUFFICIENT_MIN_REQUESTS,
  startDemoRuntime,
  TOKEN,
  waitFor,
  type DemoRuntime,
} from './demo-runtime.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe.skipIf(missing !== undefined)(
  `dashboard in Chromium${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    let session: BrowserSession<DemoRuntime> | undefined;
    let demo: DemoRuntime | undefined;
    let page: Page;
    let startedAt = 0;
    let pageErrors: string[] = [];
    let consoleErrors: string[] = [];

    beforeAll(async () => {
      startedAt = Date.now();
      session = await openBrowserSession(startDemoRuntime, (started) => started.close());
      ({ started: demo, page, pageErrors, consoleErrors } = session);
    });

    afterAll(async () => {
      await session?.close();
      if (demo) expect(await demo.leaks.leftovers()).toEqual([]);
    });

    it('shows the apps, live charts and checks, and aborts a running canary', async () => {
      if (!demo) throw new Error('the demo runtime did not start');
      const running = demo;
      running.release('2');
      await waitFor(
        'catalogdetail v2 Progressing with canary traffic',
        () => {
          const status = running.view('catalogdetail').status;
          return status?.phase === 'Progressing' && status.canaryWeight > 0 ? true : undefined;
        },
        () => JSON.stringify(running.view('catalogdetail').status),
      );

      const response = await page.goto(`${running.runtime.controlUrl}/`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toBe(DASHBOARD_CSP);

      const card = page.locator('article.app[data-app="catalogdetail"]');
      await card.locator('[data-role="phase"]', { hasText: 'Progressing' }).waitFor({ timeout: DEADLINE_MS });
      await page.locator('article.app[data-app="frontend"]').waitFor({ timeout: DEADLINE_MS });
      expect(await page.locator('article.app h2').allTextContents()).toEqual(
        expect.arrayContaining(['frontend', 'catalogdetail']),
      );

      // Both versions served traffic since the release: each line has points.
      // Polled through locators: the page's CSP forbids the string evaluation waitForFunction uses.
      const rpsChart = card.locator('svg[data-chart="rps"]');
      await expect
        .poll(
          // The chart redraws every few seconds: read every condition in the same poll.
          async () => {
            const points = Number(await rpsChart.getAttribute('data-points'));
            const canary = (await rpsChart.locator('path.line.canary').getAttribute('d')) ?? '';
            const primary = (await rpsChart.locator('path.line.primary').getAttribute('d')) ?? '';
            return points >= 2 && canary.length > 0 && (primary.match(/[ML]/g)?.length ?? 0) >= 2;
          },
          { timeout: DEADLINE_MS, interval: 250 },
        )
        .toBe(true);

      // The checks table shows each threshold beside its measured value.
      const successRow = card.locator('tr[data-metric="request-success-rate"]');
      await expect.poll(() => successRow.textContent(), { timeout: DEADLINE_MS }).toContain('≥ 99.00 %');

      // A check measured on fewer requests than its minimum says so, as the controller's
      // InsufficientData events do; its value alone would pass.
      const durationRow = card.locator('tr[data-metric="request-duration"]');
      await expect
        .poll(() => durationRow.locator('.verdict').textContent(), { timeout: DEADLINE_MS })
        .toBe('insufficient data: hold');
      expect(await durationRow.textContent()).toContain(`(min ${INSUFFICIENT_MIN_REQUESTS})`);

      // The time axis fits a run shorter than the chart's five minutes: its left end is no
      // older than the run (or MIN_SERIES_SECONDS, the shortest axis), not five minutes ago.
      const axisStart = (await rpsChart.locator('text.tick[text-anchor="start"]').textContent()) ?? '';
      const axisSeconds = axisStart.endsWith('m') ? -60 * parseFloat(axisStart) : -parseFloat(axisStart);
      const runSeconds = (Date.now() - startedAt) / 1000;
      expect(axisSeconds, axisStart).toBeGreaterThanOrEqual(MIN_SERIES_SECONDS);
      expect(axisSeconds, axisStart).toBeLessThanOrEqual(Math.max(MIN_SERIES_SECONDS, runSeconds + 10));

      // An event's evidence shows each check's threshold and window, and fits the timeline.
      const firstHeld = page.locator('#events li[data-reason="InsufficientData"]').first();
      await firstHeld.waitFor({ timeout: DEADLINE_MS });
      // Pinned to that event: newer InsufficientData events arrive above it while it is read.
      const heldAt = await firstHeld.getAttribute('data-at');
      const held = page.locator(`#events li[data-reason="InsufficientData"][data-at="${heldAt}"]`);
      await held.locator('summary').click();
      const evidenceRow = held.locator('.evidence tr[data-metric="request-duration"]');
      await evidenceRow.waitFor({ timeout: DEADLINE_MS });
      const evidenceText = (await evidenceRow.textContent()) ?? '';
      expect(evidenceText).toContain('≤ 500 ms');
      expect(evidenceText).toContain('10s');
      expect(evidenceText).toContain('insufficient data: hold');
      const timelineBox = await page.locator('#events').boundingBox();
      expect(timelineBox).not.toBeNull();
      for (const cell of await held.locator('.evidence tr th, .evidence tr td').all()) {
        const box = await cell.boundingBox();
        if (box === null) continue; // an empty detail cell is not displayed
        expect(box.x + box.width, (await cell.textContent()) ?? '').toBeLessThanOrEqual(
          timelineBox!.x + timelineBox!.width + 1,
        );
      }

      // Event text is shown as text: markup in an operator's reason never becomes elements.
      const probe = '<img src=x onerror="window.__xss=1">';
      const gate = await fetch(
        `${running.runtime.controlUrl}/api/v1/rollouts/catalogdetail/gates/confirm-promotion/close`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: probe }),
        },
      );
      expect(gate.status).toBe(200);
      await page.locator('#events .event-message', { hasText: probe }).waitFor({ timeout: DEADLINE_MS });
      expect(await page.locator('#events img').count()).toBe(0);
      expect(await page.evaluate('window.__xss')).toBeUndefined();

      await mkdir(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'dashboard-progressing.png'), fullPage: true });

      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.type());
        void (dialog.type() === 'prompt' ? dialog.accept(TOKEN) : dialog.accept());
      });
      await card.locator('button[data-action="abort"]').click();
      await waitFor(
        'catalogdetail rolled back (Failed)',
        () => (running.view('catalogdetail').status?.phase === 'Failed' ? true : undefined),
        () => JSON.stringify(running.view('catalogdetail').status),
      );
      await card.locator('[data-role="phase"]', { hasText: 'Failed' }).waitFor({ timeout: DEADLINE_MS });
      expect(dialogs).toEqual(['confirm', 'prompt']);
      await card.locator('.notice', { hasText: 'Abort accepted' }).waitFor();
      await page.locator('#events [data-reason="CommandReceived"]', { hasText: 'abort requested' }).waitFor();
      expect(await card.locator('.bar').getAttribute('data-canary-weight')).toBe('0');

      expect(consoleErrors).toEqual([]);

      // A wrong token is named as such, and forgotten so the next action asks again.
      await page.evaluate("sessionStorage.setItem('aviary.token', 'wrong-token')");
      await card.locator('button[data-action="pause"]').click();
      await card
        .locator('.notice.error', { hasText: 'Pause failed: wrong token' })
        .waitFor({ timeout: DEADLINE_MS });
      expect(await page.evaluate("sessionStorage.getItem('aviary.token')")).toBeNull();

      await page.screenshot({ path: join(RESULTS, 'dashboard.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    });
  },
);
