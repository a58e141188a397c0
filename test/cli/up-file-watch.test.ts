/**
 * Issue 11, section 3: `aviary up` (and `aviary proxy --watch`, which shares its watcher)
 * applies every save of its file, however the editor saves it. Until this test, the first save by rename (`sed -i`, `mv`, vim, VS Code) ended the
 * watch and every later edit was silently ignored. The built binary runs as a user runs it;
 * each save waits for its own "aviary: applied" line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollFor } from '../support/poll.js';
import { ensureBuilt, REPO_ROOT, spawnCli, type CliProcess } from './cli-support.js';

/** The app `up` runs; each save changes only a comment, so no save starts a rollout. */
const HTTP_APP = join(REPO_ROOT, 'test/fixtures/apps/http-app.js');

const run = promisify(execFile);
let dir: string;
let up: CliProcess | undefined;

function aviaryYaml(save: number): string {
  return `# save ${save}
apiVersion: aviary.dev/v1alpha1
kind: Aviary
router: {port: 0}
api: {port: 0}
stateDir: ${JSON.stringify(join(dir, 'state'))}
apps:
  - name: catalogdetail
    path: /catalogDetail
    process: {command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(HTTP_APP)}]}
`;
}

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'aviary-up-file-watch-'));
}, 240_000);

afterAll(async () => {
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    await up.exited;
  }
  await rm(dir, { recursive: true, force: true });
});

function appliedCount(text: string): number {
  return text.split('\n').filter((line) => line.startsWith('aviary: applied ')).length;
}

describe('aviary up -f FILE', () => {
  it('applies each of ten saves by rename, then saves in place and by delete-then-create', async () => {
    const file = join(dir, 'aviary.yaml');
    await writeFile(file, aviaryYaml(0));
    up = spawnCli(['up', '-f', file], { env: { AVIARY_TOKEN: 'up-file-watch-token' } });
    const cli = up;
    await cli.waitForStdout((text) => text.includes('aviary: control API'), 'start');
    const saves: [string, (n: number) => Promise<void>][] = [
      // sed -i writes a temporary file beside the original and renames it over.
      ['sed -i', (n) => run('sed', ['-i', `s/^# save .*/# save ${n}/`, file]).then(() => undefined)],
      [
        'write a temporary file, rename it over',
        async (n) => {
          const temp = join(dir, `.aviary.yaml.${n}~`);
          await writeFile(temp, aviaryYaml(n));
          await rename(temp, file);
        },
      ],
    ];
    const plan = [
      ...Array.from({ length: 10 }, (_, i) => saves[i % 2]!),
      ...Array.from({ length: 3 }, (): [string, (n: number) => Promise<void>] => [
        'in place',
        (n) => writeFile(file, aviaryYaml(n)),
      ]),
      ...Array.from({ length: 3 }, (): [string, (n: number) => Promise<void>] => [
        'delete, then create',
        async (n) => {
          await unlink(file);
          await writeFile(file, aviaryYaml(n));
        },
      ]),
    ];
    for (const [index, [how, save]] of plan.entries()) {
      const n = index + 1;
      await save(n);
      await pollFor(
        `save ${n} (${how}) to be applied`,
        () => (appliedCount(cli.stdout()) >= n ? true : undefined),
        () => `stdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`,
        15_000,
      );
    }
    expect(appliedCount(cli.stdout())).toBe(plan.length);
    expect(cli.stderr()).not.toMatch(/rejected/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 120_000);
});

describe('aviary proxy --config FILE --watch', () => {
  it('reloads after each of five saves by rename', async () => {
    const file = join(dir, 'proxy.yaml');
    const proxyYaml = (save: number): string =>
      `# save ${save}\nlisteners: [{name: default, host: 127.0.0.1, port: 0}]\n`;
    await writeFile(file, proxyYaml(0));
    const args = ['proxy', '--config', file, '--watch', '--admin', '127.0.0.1:0'];
    const cli = spawnCli([...args, '--token-file', join(dir, 'proxy-token')], {
      env: { AVIARY_TOKEN: 'proxy-file-watch-token' },
    });
    try {
      await cli.waitForStdout((text) => text.includes('admin API on'), 'start');
      const reloads = (): number =>
        cli
          .stdout()
          .split('\n')
          .filter((l) => l.includes(' reloaded ')).length;
      for (let n = 1; n <= 5; n++) {
        const temp = join(dir, `.proxy.yaml.${n}.tmp`);
        await writeFile(temp, proxyYaml(n));
        await rename(temp, file);
        await pollFor(
          `save ${n} by rename to be reloaded`,
          () => (reloads() >= n ? true : undefined),
          () => `stdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`,
          15_000,
        );
      }
      expect(reloads()).toBe(5);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  }, 60_000);
});
