/**
 * Where the admin/control token comes from: `AVIARY_TOKEN`, a token file, or a fresh random
 * token written to a file only the owner can read. The token is never printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Resolves the token; creates `file` with a random token when neither source has one.
 * Security: a new file is mode 0600 in a directory created 0700, and it is created
 * exclusively (`wx`, O_EXCL), so a symbolic link or a file someone else planted at its path
 * is neither followed nor reused with its own mode: an empty one is removed first, and any
 * file that appears in between makes this fail rather than write the token into it. An
 * existing file that group or others may read is used, with a warning on `warn`.
 */
export async function resolveToken(
  file: string,
  warn: (line: string) => void = (line) => console.warn(line),
): Promise<{ token: string; source: string }> {
  const fromEnv = process.env.AVIARY_TOKEN;
  if (fromEnv && fromEnv.trim() !== '') return { token: fromEnv.trim(), source: 'AVIARY_TOKEN' };
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing !== '') {
      const mode = (await stat(file)).mode & 0o777;
      if ((mode & 0o077) !== 0)
        warn(
          `aviary: warning: token file ${file} has mode ${mode.toString(8).padStart(4, '0')}: other users may read it; run chmod 600 ${file}`,
        );
      return { token: existing, source: file };
    }
  } catch {
    // No file yet: create one below.
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await rm(file, { force: true });
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return { token, source: file };
}
