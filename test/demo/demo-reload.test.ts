/**
 * The demo's offer to edit its file is real: once the story is told, a save of
 * `<state-dir>/aviary.yaml` is applied as `aviary up` applies it, and the file shows what
 * runs. Its traffic summary's numbers add up.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, spawnCli } from '../cli/cli-support.js';
import { pollFor } from '../support/poll.js';

const STORY_MS = 150_000;

describe('aviary demo after its story', () => {
  beforeAll(() => ensureBuilt(), 240_000);

  it('applies a save of its file, and its traffic summary adds up', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'aviary-demo-reload-'));
    const demo = spawnCli(
      ['demo', '--fast', '--router-port', '0', '--api-port', '0', '--state-dir', stateDir],
      {
        env: { NO_COLOR: '1' },
      },
    );
    try {
      await pollFor(
        'the end of the story',
        () => (demo.stdout().includes('Press Ctrl-C') ? true : undefined),
        () => demo.stdout(),
        STORY_MS,
      );
      const out = demo.stdout();
      expect(out).toContain('(each save is applied)');

      const line =
        /Traffic: (\d+) requests \((.*)\): (\d+) ok, (\d+) failed; (\d+) answers named their version: (\{.*\})/.exec(
          out,
        );
      expect(line, out).not.toBeNull();
      const [, sent, paths, ok, failed, versioned, byVersion] = line!;
      const byPath = Object.fromEntries(
        paths!.split(', ').map((part) => {
          const [n, path] = part.split(' to ');
          return [path!, Number(n)];
        }),
      );
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      expect(sum(Object.values(byPath))).toBe(Number(sent));
      expect(Number(ok) + Number(failed)).toBe(Number(sent));
      expect(sum(Object.values(JSON.parse(byVersion!) as Record<string, number>))).toBe(Number(versioned));
      // Every catalogdetail answer names its version (500s too); only a failed connection does not.
      const catalog = byPath['/catalogDetail/']!;
      expect(Number(versioned)).toBeLessThanOrEqual(catalog);
      expect(Number(versioned)).toBeGreaterThanOrEqual(catalog - Number(failed));

      // The file shows what runs (v3, rolled back), and an editor's rename-save of a fix is applied.
      const file = join(stateDir, 'aviary.yaml');
      const text = await readFile(file, 'utf8');
      expect(text).toMatch(/VERSION: "3"/);
      const before = demo.stdout().length;
      await writeFile(`${file}.tmp`, text.replace(/FAIL_RATE: "0\.1"/, 'FAIL_RATE: "0"'));
      await rename(`${file}.tmp`, file);
      await pollFor(
        'the edit applied and its rollout started',
        () => {
          const after = demo.stdout().slice(before);
          return after.includes(`aviary: applied ${file}`) && after.includes('NewRevision')
            ? true
            : undefined;
        },
        () => demo.stdout(),
        60_000,
      );
    } finally {
      demo.child.kill('SIGINT');
      await demo.exited;
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
