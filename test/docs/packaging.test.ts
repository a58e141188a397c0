/**
 * What `npm pack` ships: the compiled CLI and what it reads at run time (dashboard files,
 * demo apps, docs), never tests, test fakes, simulators or conformance suites.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '../cli/cli-support.js';

const run = promisify(execFile);

describe('npm pack', () => {
  beforeAll(() => ensureBuilt(), 240_000);

  it('ships only what a user needs', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO_ROOT,
    });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toContain('bin/aviary.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/runtime.js');
    expect(files).toContain('src/web/static/index.html');
    expect(files).toContain('demo/apps/catalogdetail.js');
    const allowed =
      /^(bin\/|dist\/.*\.js$|src\/web\/static\/|demo\/apps\/|docs\/|README\.md$|ARCHITECTURE\.md$|package\.json$)/;
    expect(files.filter((path) => !allowed.test(path))).toEqual([]);
    const testOnly = /\.test\.|conformance|test-support|fakes|scenario|simulator|\.map$|\.d\.ts$/;
    expect(files.filter((path) => testOnly.test(path))).toEqual([]);
  });
});
