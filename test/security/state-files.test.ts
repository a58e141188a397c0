/**
 * State on disk (docs/security.md, "State"): the state directory is created 0700 and refused
 * when another user owns it; a symbolic link planted where a state file goes is not followed,
 * so the controller cannot be made to write over a file elsewhere; the token file is 0600.
 */
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveToken } from '../../src/cli/admin-token.js';
import { AviaryError } from '../../src/errors.js';
import { prepareStateDirectory } from '../../src/rollout/state/state-directory.js';
import { nodeStateFileSystem, writeFileAtomic } from '../../src/rollout/state/state-files.js';
import { StateStore } from '../../src/rollout/state/state-store.js';

let root: string;
/** A file outside the state directory that an attacker wants overwritten. */
let victim: string;
const VICTIM_TEXT = 'precious\n';

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'aviary-security-state-'));
  victim = join(root, 'victim.txt');
  await writeFile(victim, VICTIM_TEXT);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('the state directory', () => {
  it('is created 0700, parents included', async () => {
    const dir = join(root, 'new', '.aviary');
    await prepareStateDirectory(dir);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(root, 'new'))).toBe(0o700);
  });

  it('keeps the token file 0600 inside a 0700 directory when resolveToken creates both', async () => {
    const saved = process.env.AVIARY_TOKEN;
    delete process.env.AVIARY_TOKEN;
    try {
      const file = join(root, 'fresh', 'token');
      const { token } = await resolveToken(file);
      expect(await modeOf(file)).toBe(0o600);
      expect(await modeOf(join(root, 'fresh'))).toBe(0o700);
      expect((await readFile(file, 'utf8')).trim()).toBe(token);
    } finally {
      if (saved !== undefined) process.env.AVIARY_TOKEN = saved;
    }
  });

  it('warns, without the token, when an existing token file is readable by others', async () => {
    const saved = process.env.AVIARY_TOKEN;
    delete process.env.AVIARY_TOKEN;
    try {
      const file = join(root, 'loose-token');
      await writeFile(file, 'loose-secret-value\n', { mode: 0o644 });
      const lines: string[] = [];
      const { token } = await resolveToken(file, (line) => lines.push(line));
      expect(token).toBe('loose-secret-value');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('mode 0644');
      expect(lines[0]).not.toContain(token);
      const quiet: string[] = [];
      await chmod(file, 0o600);
      await resolveToken(file, (line) => quiet.push(line));
      expect(quiet).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.AVIARY_TOKEN = saved;
    }
  });

  it.runIf(process.getuid?.() === 0)(
    'is refused when another user owns it (simulated as root with chown to 65534)',
    async () => {
      const dir = join(root, 'theirs');
      await mkdir(dir, { mode: 0o700 });
      await chown(dir, 65534, 65534);
      const error = await prepareStateDirectory(dir).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(AviaryError);
      expect((error as AviaryError).code).toBe('AVIARY_STATE_NOT_OWNED');
      expect((error as AviaryError).message).toContain('uid 65534');
    },
  );

  it('is accepted when this user owns it', async () => {
    const dir = join(root, 'ours');
    await mkdir(dir, { mode: 0o700 });
    await expect(prepareStateDirectory(dir)).resolves.toBeUndefined();
  });
});

describe('a symbolic link planted at a state file path', () => {
  it('is replaced, not followed, by an atomic write', async () => {
    const path = join(root, 'status.json');
    await symlink(victim, path);
    await writeFileAtomic(path, '{"phase":"Succeeded"}\n');
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('{"phase":"Succeeded"}\n');
  });

  it('is not followed by an append (the journal, the dedupe and run logs): the write fails', async () => {
    const path = join(root, 'journal-1.jsonl');
    await symlink(victim, path);
    const error = await nodeStateFileSystem.append(path, '{"app":"x"}\n').catch((err: unknown) => err);
    expect((error as NodeJS.ErrnoException).code).toBe('ELOOP');
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('is not followed when a temporary file name is taken by a link: the write fails', async () => {
    const path = join(root, '.taken.tmp');
    await symlink(victim, path);
    const error = await nodeStateFileSystem.writeDurably(path, 'x').catch((err: unknown) => err);
    expect((error as NodeJS.ErrnoException).code).toBe('ELOOP');
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('leaves the target alone when the state store saves an app document there', async () => {
    const store = new StateStore(join(root, 'state'));
    await store.save('web', { phase: 'Initialized' });
    const document = join(root, 'state', 'rollouts', 'web.json');
    await rm(document);
    await symlink(victim, document);
    await store.save('web', { phase: 'Progressing' });
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(JSON.parse(await readFile(document, 'utf8'))).toEqual({ phase: 'Progressing' });
  });

  it('is not reused for a new token file: resolveToken removes it and creates a 0600 file', async () => {
    const saved = process.env.AVIARY_TOKEN;
    delete process.env.AVIARY_TOKEN;
    try {
      const empty = join(root, 'empty-target');
      await writeFile(empty, '', { mode: 0o644 });
      const file = join(root, 'token');
      await symlink(empty, file);
      await resolveToken(file);
      expect(await readFile(empty, 'utf8')).toBe('');
      expect((await lstat(file)).isSymbolicLink()).toBe(false);
      expect(await modeOf(file)).toBe(0o600);
    } finally {
      if (saved !== undefined) process.env.AVIARY_TOKEN = saved;
    }
  });
});
