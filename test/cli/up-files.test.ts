// The files `aviary up` is pointed at: the ones its help names exist and validate, and a
// Flagger Canary given to it is refused with one line saying where its settings go.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runCli } from './cli-support.js';

const VALID_AVIARY = join(REPO_ROOT, 'test/fixtures/specs/aviary.yaml');
const SEED_CANARY = join(REPO_ROOT, 'test/fixtures/flagger-canary-seed.yaml');

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'aviary-cli-up-files-'));
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('aviary up --help', () => {
  it('names only files that exist, and each one validates', async () => {
    const help = await runCli(['up', '--help']);
    expect(help.code).toBe(0);
    // `./aviary.yaml` is the default in the working directory, not a file of the repository.
    const named = [...help.stdout.matchAll(/(?<![\w./-])[a-z][\w-]*\/[\w./-]+\.ya?ml/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(0);
    for (const file of named) {
      expect(existsSync(join(REPO_ROOT, file)), `${file} named by up --help`).toBe(true);
      const result = await runCli(['validate', file]);
      expect(result.stderr).toBe('');
      expect(result.code, `${file}: ${result.stdout}`).toBe(0);
    }
  });
});

describe('aviary up -f with a Flagger Canary', () => {
  const refusal =
    /a Flagger Canary is not an aviary\.yaml; move its spec\.service and spec\.analysis under apps\[\]\.canary of the app named "[\w-]+"/;

  it('refuses a Canary beside the app definitions in one line, exit 3', async () => {
    const file = join(dir, 'with-canary.yaml');
    await writeFile(
      file,
      [await readFile(VALID_AVIARY, 'utf8'), '---', await readFile(SEED_CANARY, 'utf8')].join('\n'),
    );
    const result = await runCli(['up', '-f', file]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(refusal);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a Canary file alone in one line, exit 3', async () => {
    const result = await runCli(['up', '-f', SEED_CANARY]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(refusal);
    expect(result.stderr).not.toMatch(/apiVersion/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
