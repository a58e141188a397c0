/**
 * The sequential judge's evidence in the dashboard, in a real browser (Debian's Chromium
 * through playwright-core) against a real runtime running the demo apps with the judge on
 * (issue 12, "Evidence in the UI"; issue 11, "the demo's faulty v3 is caught by the judge, and
 * the dashboard shows its evidence"). A healthy v2 holds while the harm bounds gather
 * evidence; a v3 answering half its requests with 500s is rolled back by the judge, and both
 * the app card and the rollback event show the counts, the tests' e- and p-values against
 * their α shares, and the harm bounds against maxHarm; so does `aviary get events` on the
 * terminal. Saves a screenshot under test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNumber, judgeCheckOf } from '../../src/cli/render-judge.js';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import { ensureBuilt, hasAnsi, runCli } from '../cli/cli-support.js';
import { chromiumMissing, openBrowserSession, type BrowserSession } from './chromium.js';
import { DEADLINE_MS, startDemoRuntime, waitFor, type DemoRuntime } from './demo-runtime.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** v3 answers half of its requests with a 500. */
const FAULTY = { FAIL_RATE: '0.5' };

/** Cell text of the row of `test` in a judge tests table, by column label. */
async function testCells(panel: Locator, test: string): Promise<Record<string, string>> {
  const row = panel.locator(`tr[data-judge-test="${test}"]`);
  const cells: Record<string, string> = {};
  for (const cell of await row.locator('td').all()) {
    cells[(await cell.getAttribute('data-label')) ?? ''] = (await cell.textContent()) ?? '';
  }
  return cells;
}

describe.skipIf(chromiumMissing !== undefined)(
  `judge evidence in Chromium${chromiumMissing ? ` — skipped: ${chromiumMissing}` : ''}`,
  () => {
    let session: BrowserSession<DemoRuntime> | undefined;
    let demo: DemoRuntime | undefined;
    let page: Page;
    let pageErrors: string[] = [];

    beforeAll(async () => {
      // ensureBuilt may compile dist/ for the CLI first, on a shared machine.
      await ensureBuilt();
      session = await openBrowserSession(
        () =>
          startDemoRuntime({
            // Only the judge decides; it may judge after 10 canary requests, and its default
            // maxHarm holds a healthy canary before promotion for thousands of them.
            analysis: {
              interval: '2s',
              threshold: 5,
              maxWeight: 20,
              stepWeight: 10,
              metrics: [],
              judge: { minCanaryRequests: 10, quantiles: [0.5, 0.9] },
            },
            env: (version) => (version === '3' ? FAULTY : {}),
          }),
        (started) => started.close(),
      );
      ({ started: demo, page, pageErrors } = session);
    }, 180_000);

    afterAll(async () => {
      await session?.close();
      if (demo) expect(await demo.leaks.leftovers()).toEqual([]);
    });

    it('shows a healthy canary gathering evidence, then the evidence of the faulty v3 the judge rolls back', async () => {
      if (!demo) throw new Error('the demo runtime did not start');
      const running = demo;
      const judgeDetail = () =>
        running.view('catalogdetail').lastChecks?.metrics.find((m) => m.name === 'judge')?.detail;

      // A healthy v2: the judge passes it, and its bounds hold it before promotion.
      running.release('2');
      await waitFor(
        'the judge holding v2 for more canary requests',
        () => (/~\d+ more canary requests/.test(judgeDetail() ?? '') ? true : undefined),
        () => `judge: ${judgeDetail()}; status ${JSON.stringify(running.view('catalogdetail').status)}`,
      );
      await page.goto(`${running.runtime.controlUrl}/`);
      const card = page.locator('article.app[data-app="catalogdetail"]');
      const cardJudge = card.locator('[data-role="judge"]');
      await cardJudge
        .locator('.judge-next', { hasText: /gathering evidence: ~\d+ more canary requests before promotion/ })
        .waitFor({ timeout: DEADLINE_MS });
      expect(await cardJudge.locator('tr[data-version="canary"] td').first().textContent()).toMatch(/^\d+$/);
      // A bound of the healthy canary is known and compared with maxHarm.
      const healthyErrors = await testCells(cardJudge, 'errors');
      expect(healthyErrors['canary excess']).toMatch(/^< [\d.]+ pp$/);
      expect(healthyErrors.maxHarm).toBe('0.50 pp');
      expect(healthyErrors.margin).toMatch(/^(within|over) by [\d.]+ pp$/);

      // The faulty v3: the judge proves the regression and the canary is rolled back.
      running.release('3');
      const regression = await waitFor<RolloutEventRecord>(
        'a RegressionDetected event for catalogdetail',
        () =>
          running.runtime.controller.events('catalogdetail').find((e) => e.reason === 'RegressionDetected'),
        () => JSON.stringify(running.view('catalogdetail').status),
      );
      const check = judgeCheckOf(regression.evidence);
      if (check === undefined) throw new Error(`no judge evidence in ${JSON.stringify(regression.evidence)}`);
      const { evidence } = check;
      expect(evidence.errors.regression).toBe(true);
      expect(regression.message).toMatch(
        /rolled back after \d+ canary requests? \(.*\); the threshold policy/,
      );

      // The event's evidence in the timeline: the judge's line, counts, the error test past 1/α.
      const event = page.locator('#events li[data-reason="RegressionDetected"]').first();
      await event.waitFor({ timeout: DEADLINE_MS });
      expect(await event.locator('.event-message').textContent()).toContain('rolled back after');
      await event.locator('summary').click();
      const panel = event.locator('.evidence .judge[data-judge-decision="regression"]');
      await panel.waitFor({ timeout: DEADLINE_MS });
      expect(await panel.locator('.judge-line').textContent()).toContain('regression: error rate');
      const canaryCounts = await panel.locator('tr[data-version="canary"] td').allTextContents();
      expect(canaryCounts).toEqual([
        String(evidence.errors.canary.requests),
        String(evidence.errors.canary.errors),
        `${((evidence.errors.canary.errors / evidence.errors.canary.requests) * 100).toFixed(2)}%`,
      ]);
      const errors = await testCells(panel, 'errors');
      expect(errors).toMatchObject({
        'e-value': formatNumber(Math.exp(evidence.errors.logEValue)),
        'rejects at': `≥ ${formatNumber(1 / evidence.errors.alpha)}`,
        'p-value': formatNumber(evidence.errors.pValue),
        'α share': formatNumber(evidence.errors.alpha),
        verdict: 'regression',
        'canary excess': `< ${(evidence.harm!.errors.excessUpper * 100).toFixed(2)} pp`,
        maxHarm: '0.50 pp',
      });
      expect(errors.margin).toMatch(/^over by [\d.]+ pp$/);
      for (const test of ['p50', 'p90', 'tail']) {
        expect(await panel.locator(`tr[data-judge-test="${test}"]`).count(), test).toBe(1);
      }
      expect(await panel.locator('.judge-next').textContent()).toBe('regression: the canary is rolled back');

      // The app card shows the judge's last check: the regression it rolled back on.
      await cardJudge.locator('.judge[data-judge-decision="regression"]').waitFor({ timeout: DEADLINE_MS });
      expect(await cardJudge.locator('.judge-line').textContent()).toContain('regression: error rate');
      expect((await testCells(cardJudge, 'errors')).verdict).toBe('regression');

      // The panel fits the narrow timeline.
      const timelineBox = await page.locator('#events').boundingBox();
      expect(timelineBox).not.toBeNull();
      for (const cell of await panel.locator('th, td').all()) {
        const box = await cell.boundingBox();
        if (box === null) continue;
        expect(box.x + box.width, (await cell.textContent()) ?? '').toBeLessThanOrEqual(
          timelineBox!.x + timelineBox!.width + 1,
        );
      }

      // The terminal: `aviary get events` prints the same evidence under the event, plain when piped.
      const cli = await runCli(['get', 'events', 'catalogdetail', '--api', running.runtime.controlUrl]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(hasAnsi(cli.stdout)).toBe(false);
      const lines = cli.stdout.split('\n');
      const at = lines.findIndex((l) => l.includes('RegressionDetected'));
      expect(at, cli.stdout).toBeGreaterThan(0);
      const below = lines.slice(at + 1, at + 10).map((l) => l.trim());
      expect(below[0]).toMatch(/^judge\s+regression: error rate/);
      expect(below[1]).toBe(
        `counts  primary ${evidence.errors.primary.requests} requests, 0 errors (0.00%) · canary ${evidence.errors.canary.requests} requests, ${evidence.errors.canary.errors} errors (${canaryCounts[2]})`,
      );
      expect(below[2]).toMatch(
        /^test\s+e-value\s+rejects at\s+p-value\s+α share\s+verdict\s+canary excess\s+maxHarm\s+margin$/,
      );
      expect(below[3]?.split(/\s{2,}/)).toEqual([
        'errors',
        errors['e-value'],
        errors['rejects at'],
        errors['p-value'],
        errors['α share'],
        'regression',
        errors['canary excess'],
        '0.50 pp',
        errors.margin,
      ]);

      await mkdir(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'dashboard-judge.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    });
  },
);
