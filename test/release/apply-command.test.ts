/**
 * `aviary apply` against a running Aviary: a Helm values file (`canaryConfig:`) as is, through the
 * real command line (exit codes, the printed split), then `--watch` following saves made
 * the way editors make them (write a new file and rename it over, or write in place).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApply } from '../../src/cli/apply-command.js';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';
import {
  getRelease,
  pollUntil,
  startCatalogRuntime,
  stopRuntime,
  TOKEN,
  waitForExit,
  type ReleaseRuntime,
} from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const leaks = new ProcessLeakCheck();
let started: ReleaseRuntime | undefined;
let dir: string;

/** A Helm values.yaml with the given canaryConfig entries. */
function seedValues(entries: [string, string, number][]): string {
  const list = entries
    .map(([name, tag, weight]) => `  - name: "${name}"\n    tag: "${tag}"\n    weight: ${weight}\n`)
    .join('');
  return `detail:\n  replicaCount: 1\n  namespace: apps\n  name: backend-service\n\ncanaryConfig:\n${list}`;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, AVIARY_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function env(): ReleaseRuntime {
  if (!started) throw new Error('runtime not started');
  return started;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aviary-apply-'));
  started = await startCatalogRuntime(leaks);
});

afterAll(async () => {
  await stopRuntime(started);
  await rm(dir, { recursive: true, force: true });
  expect(await leaks.leftovers()).toEqual([]);
});

describe('aviary apply', () => {
  it('rejects an invalid file with exit code 3 naming the entry, then applies the Helm values file as is', async () => {
    const { runtime } = env();
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      seedValues([
        ['backend-v1', 'v1.0.0', 50],
        ['backend-v2', 'v2.0.0', -50],
      ]),
    );
    const api = ['--api', runtime.controlUrl, '--app', 'catalogdetail'];
    const rejected = await cli(['apply', '-f', bad, ...api]);
    expect(rejected.code).toBe(3);
    expect(rejected.stderr).toContain(
      'canaryConfig[1].weight: entry "backend-v2": expected a number >= 0, got -50',
    );
    const file = join(dir, 'values.yaml');
    await writeFile(
      file,
      seedValues([
        ['backend-v1', 'v1.0.0', 50],
        ['backend-v2', 'v2.0.0', 50],
      ]),
    );
    const printed: string[] = [];
    const options = {
      file,
      app: 'catalogdetail',
      api: runtime.controlUrl,
      token: TOKEN,
      tokenFile: '/nonexistent',
    };
    await runApply(options, { out: (text) => printed.push(text), err: (text) => printed.push(text) });
    const applied = { stdout: printed.join('\n') };
    expect(applied.stdout).toMatch(/backend-v1\s+v1\.0\.0\s+50\s+50\.0%\s+1\/1/);
    expect(applied.stdout).toMatch(/backend-v2\s+v2\.0\.0\s+50\s+50\.0%\s+1\/1/);
    expect(applied.stdout).toContain('taken over from the rollout controller');
  });

  it('--watch applies every save, reports an invalid one and keeps the split, and drains a removed version', async () => {
    const { runtime } = env();
    const file = join(dir, 'values.yaml');
    const out: string[] = [];
    const err: string[] = [];
    const stop = new AbortController();
    const watching = runApply(
      {
        file,
        app: 'catalogdetail',
        watch: true,
        api: runtime.controlUrl,
        token: TOKEN,
        tokenFile: '/nonexistent',
      },
      { out: (text) => out.push(text), err: (text) => err.push(text) },
      stop.signal,
    );
    const weights = async (): Promise<number[]> =>
      ((await getRelease(runtime, 'catalogdetail')).versions as { weight: number }[]).map((v) => v.weight);
    try {
      await pollUntil(() =>
        out.some((text) => text.startsWith('catalogdetail: applied')) ? true : undefined,
      );
      // An editor's save: a new file renamed over the old one.
      await writeFile(
        `${file}.swp`,
        seedValues([
          ['backend-v1', 'v1.0.0', 80],
          ['backend-v2', 'v2.0.0', 20],
        ]),
      );
      await rename(`${file}.swp`, file);
      await pollUntil(async () => ((await weights()).join() === '80,20' ? true : undefined));
      await pollUntil(() => (/backend-v2\s+v2\.0\.0\s+20\s+20\.0%/.test(out.join('\n')) ? true : undefined));

      await writeFile(
        file,
        seedValues([
          ['backend-v1', 'v1.0.0', 80],
          ['backend-v1', 'v2.0.0', 20],
        ]),
      );
      await pollUntil(() => (err.length > 0 ? true : undefined));
      expect(err[0]).toContain('not applied; the running split is kept');
      expect(err[0]).toContain(
        'canaryConfig[1].name: entry "backend-v1": duplicate name (also canaryConfig[0])',
      );
      expect(await weights()).toEqual([80, 20]);

      const v2Pid: number = (await getRelease(runtime, 'catalogdetail')).versions[1].pids[0];
      await writeFile(file, seedValues([['backend-v1', 'v1.0.0', 100]]));
      await pollUntil(async () => ((await weights()).join() === '100' ? true : undefined));
      await waitForExit(v2Pid);
      await pollUntil(() =>
        out.some((text) => text.includes('drained, then stopped backend-v2')) ? true : undefined,
      );
    } finally {
      stop.abort();
      await watching;
    }
  });
});
