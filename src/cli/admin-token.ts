/**
 * Where the admin/control token comes from: `AVIARY_TOKEN`, a token file, or a fresh random
 * token written to a file only the owner can read. The token is never printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Resolves the token; creates `file` with a random token when neither source has one. */
export async function resolveToken(file: string): Promise<{ token: string; source: string }> {
  const fromEnv = process.env.AVIARY_TOKEN;
  if (fromEnv && fromEnv.trim() !== '') return { token: fromEnv.trim(), source: 'AVIARY_TOKEN' };
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing !== '') return { token: existing, source: file };
  } catch {
    // No file yet: create one below.
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, token + '\n', { mode: 0o600 });
  return { token, source: file };
}
