/**
 * The dashboard's Pipelines section in a real browser (Debian's Chromium through
 * playwright-core) against a real runtime with a `pipelines` block (pipeline-runtime.ts): a
 * tag pushed to a real bare repository and delivered as the post-receive hook does shows up
 * in the runs table as it runs and ends, clicking it shows its log, a build that waits for a
 * file shows its lines as they are written, selecting another run stops following, and Cancel
 * and Rerun (with the token prompt) end and queue runs. Saves a screenshot under test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing as missing, openBrowserSession, type BrowserSession } from './chromium.js';
import { DEADLINE_MS } from './demo-runtime.js';
import {
  PIPELINE_TOKEN,
  startPipelineRuntime,
  STEP_ONE_LINE,
  type PipelineRuntime,
} from './pipeline-runtime.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** Markup a build prints: the log must show it as these characters. */
const MARKUP = '<b data-probe="1">markup stays text</b>';

/** Writes the published output, `dist/`. */
const WRITE_DIST = `require('node:fs').mkdirSync('dist');\nrequire('node:fs').writeFileSync('dist/app.js', '');\n`;

/** A build.js that prints two lines and exits. */
const QUICK_BUILD = `${WRITE_DIST}console.log('built v1');\nconsole.log(${JSON.stringify(MARKUP)});\n`;

/** A build.js that prints a line, waits until `${GATE_FILE}-<gate>` exists, then prints another. */
function gatedBuild(gate: string): string {
  return `${WRITE_DIST}const { existsSync } = require('node:fs');
console.log('waiting for gate ${gate}');
const timer = setInterval(() => {
  if (!existsSync(process.env.GATE_FILE + '-${gate}')) return;
  clearInterval(timer);
  console.log('through gate ${gate}');
}, 50);
`;
}

describe.skipIf(missing !== undefined)(
  `dashboard pipelines in Chromium${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    let session: BrowserSession<PipelineRuntime> | undefined;
    let pipelines: PipelineRuntime | undefined;
    let page: Page;
    let pageErrors: string[] = [];
    let consoleErrors: string[] = [];

    beforeAll(async () => {
      session = await openBrowserSession(startPipelineRuntime, (started) => started.close());
      ({ started: pipelines, page, pageErrors, consoleErrors } = session);
    });

    afterAll(async () => {
      await session?.close();
      if (pipelines) expect(await pipelines.leaks.leftovers()).toEqual([]);
    });

    const section = () => page.locator('#pipelines');
    const panel = () => section().locator('.run-log');
    const log = () => panel().locator('[data-role="log"]');
    const logStatus = () => panel().locator('[data-role="log-status"]');
    const rowOf = (id: string) => section().locator(`tbody tr[data-run="${id}"]`);
    /** The run of v1.0.0, built by the first test. */
    let firstId = '';

    /** Waits for `locator`; a timeout names `what` and the runs the runtime holds. */
    async function shown(locator: Locator, what: string): Promise<void> {
      try {
        await locator.waitFor({ timeout: DEADLINE_MS });
      } catch (error) {
        const runs = pipelines?.runtime.pipelines.runs?.list() ?? [];
        const states = runs.map((run) => `${run.id} ${run.ref} ${run.state} ${run.reason ?? ''}`);
        throw new Error(
          `${what} not shown (${(error as Error).message}); runs: ${states.join('; ') || 'none'}`,
        );
      }
    }

    it('shows the runs table and a run’s log', async () => {
      if (!pipelines) throw new Error('the pipelines runtime did not start');
      const running = pipelines;
      await page.goto(`${running.runtime.controlUrl}/`);
      // No run yet: the section is not shown.
      await page.locator('article.app[data-app="catalogdetail"]').waitFor({ timeout: DEADLINE_MS });
      expect(await section().isHidden()).toBe(true);

      // A tag push appears in the table (from the runs stream: the page was loaded before it) and ends succeeded.
      expect(await running.pushTag('v1.0.0', { 'build.js': QUICK_BUILD })).toBe(202);
      const pushed = section().locator('tbody tr').filter({ hasText: 'v1.0.0' });
      await shown(pushed.locator('[data-role="state"]', { hasText: 'succeeded' }), 'v1.0.0 succeeded');
      firstId = (await pushed.getAttribute('data-run')) ?? '';
      expect(firstId).toMatch(/^run-/);
      const first = rowOf(firstId);
      const commit = await running.repo.git('rev-parse', 'v1.0.0^{commit}');
      const row = await first.locator('td').allTextContents();
      expect(row.slice(0, 3)).toEqual(['build', 'catalogdetail', 'v1.0.0']);
      expect(row).toContain(commit.slice(0, 7));

      // Clicking the run shows its whole log, the build's markup as text.
      await first.locator('.run-link').click();
      await log().filter({ hasText: 'built v1' }).waitFor({ timeout: DEADLINE_MS });
      expect(await log().textContent()).toContain(STEP_ONE_LINE);
      expect(await log().textContent()).toContain(MARKUP);
      expect(await section().locator('[data-probe]').count()).toBe(0);
      await logStatus().filter({ hasText: 'end of log' }).waitFor({ timeout: DEADLINE_MS });
      expect(await panel().getAttribute('data-run')).toBe(firstId);

      // A build that waits: its lines appear while it runs, and following stops when it ends.
      expect(await running.pushTag('v2.0.0', { 'build.js': gatedBuild('v2') })).toBe(202);
      const second = section().locator('tbody tr').filter({ hasText: 'v2.0.0' });
      await shown(second.locator('[data-role="state"]', { hasText: 'running' }), 'v2.0.0 running');
      // Newest first.
      const secondId = await second.getAttribute('data-run');
      expect(await section().locator('tbody tr').first().getAttribute('data-run')).toBe(secondId);
      await second.locator('.run-link').click();
      await log().filter({ hasText: 'waiting for gate v2' }).waitFor({ timeout: DEADLINE_MS });
      expect(await logStatus().getAttribute('data-following')).toBe('true');
      expect(await log().textContent()).not.toContain('through gate v2');
      expect(await second.locator('button[data-action="cancel"]').isVisible()).toBe(true);

      await running.openGate('v2');
      await log().filter({ hasText: 'through gate v2' }).waitFor({ timeout: DEADLINE_MS });
      await shown(second.locator('[data-role="state"]', { hasText: 'succeeded' }), 'v2.0.0 succeeded');
      await logStatus().filter({ hasText: 'end of log' }).waitFor({ timeout: DEADLINE_MS });
      const text = (await log().textContent()) ?? '';
      expect(text.indexOf('waiting for gate v2')).toBeLessThan(text.indexOf('through gate v2'));
      expect(text).not.toContain('built v1');
      expect(await second.locator('button[data-action="rerun"]').isVisible()).toBe(true);

      await mkdir(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'dashboard-pipelines.png'), fullPage: true });
      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it('stops following a run when another is selected, and cancels and reruns with the token', async () => {
      if (!pipelines || firstId === '') throw new Error('the first test did not build v1.0.0');
      const running = pipelines;
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.type());
        void (dialog.type() === 'prompt' ? dialog.accept(PIPELINE_TOKEN) : dialog.accept());
      });

      // While v3 is followed, selecting v1 aborts that read: v3's later lines never reach v1's log.
      expect(await running.pushTag('v3.0.0', { 'build.js': gatedBuild('v3') })).toBe(202);
      const third = section().locator('tbody tr').filter({ hasText: 'v3.0.0' });
      await shown(third.locator('[data-role="state"]', { hasText: 'running' }), 'v3.0.0 running');
      await third.locator('.run-link').click();
      await log().filter({ hasText: 'waiting for gate v3' }).waitFor({ timeout: DEADLINE_MS });
      await rowOf(firstId).locator('.run-link').click();
      await log().filter({ hasText: 'built v1' }).waitFor({ timeout: DEADLINE_MS });
      await running.openGate('v3');
      await shown(third.locator('[data-role="state"]', { hasText: 'succeeded' }), 'v3.0.0 succeeded');
      await logStatus().filter({ hasText: 'end of log' }).waitFor({ timeout: DEADLINE_MS });
      expect(await panel().getAttribute('data-run')).toBe(firstId);
      expect(await log().textContent()).not.toContain('gate v3');
      // Selected again once ended, it shows the whole log.
      await third.locator('.run-link').click();
      await log().filter({ hasText: 'through gate v3' }).waitFor({ timeout: DEADLINE_MS });

      // Cancel is confirmed, asks for the token once, and ends the running build.
      expect(await running.pushTag('v4.0.0', { 'build.js': gatedBuild('v4') })).toBe(202);
      const fourth = section().locator('tbody tr').filter({ hasText: 'v4.0.0' });
      await shown(fourth.locator('[data-role="state"]', { hasText: 'running' }), 'v4.0.0 running');
      await fourth.locator('button[data-action="cancel"]').click();
      await shown(fourth.locator('button[data-action="rerun"]'), 'v4.0.0 ended');
      expect(await fourth.getAttribute('data-state')).toMatch(/^(failed|skipped)$/);
      expect(await fourth.locator('td.detail').textContent()).toContain('cancel');
      expect(dialogs).toEqual(['confirm', 'prompt']);

      // Rerun uses the kept token, and the queued run appears at the top and succeeds.
      await rowOf(firstId).locator('button[data-action="rerun"]').click();
      const notice = section().locator('.notice', { hasText: `rerun of ${firstId} queued as run-` });
      await notice.waitFor({ timeout: DEADLINE_MS });
      expect(dialogs).toEqual(['confirm', 'prompt']);
      const rerunId = /queued as (run-\S+)/.exec((await notice.textContent()) ?? '')?.[1] ?? '';
      await shown(
        rowOf(rerunId).locator('[data-role="state"]', { hasText: 'succeeded' }),
        'the rerun succeeded',
      );
      expect(await section().locator('tbody tr').first().getAttribute('data-run')).toBe(rerunId);

      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  },
);
