/**
 * The artifact index: one JSON file mapping (app, tag) to the commit, digest and build key
 * it was published with. It is the embedded mode's registry (docs/adr/0023-git-pipelines.md).
 * Replaced whole and atomically: a temporary file, fsync, rename(2), then an fsync of the
 * directory, so a crash leaves the old index or the new one, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ArtifactError } from './artifact-error.js';

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const DIGEST = /^[0-9a-f]{64}$/;

/** One published tag. */
export const artifactEntrySchema = z.object({
  app: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
  tag: z.string().min(1).max(255),
  commit: z.string().regex(OBJECT_ID),
  /** Lowercase hex SHA-256 of the tree (`tree-digest.ts`); the directory is `store/sha256-<digest>`. */
  digest: z.string().regex(DIGEST),
  buildKey: z.string().min(1).max(256),
  publishedAt: z.iso.datetime(),
  /**
   * Set when garbage collection removed the artifact. The entry stays, so the tag still
   * cannot be published from another commit: tags are immutable for good.
   */
  collectedAt: z.iso.datetime().optional(),
});

/** One published tag, as the index stores it. */
export type ArtifactEntry = z.infer<typeof artifactEntrySchema>;

const indexSchema = z.object({ version: z.literal(1), entries: z.array(artifactEntrySchema) });

/** Reads the index at `path`; a missing file is an empty index. */
export async function readIndex(path: string): Promise<ArtifactEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ArtifactError('AVIARY_ARTIFACT_INDEX_CORRUPT', `${path}: not JSON`, { cause: error });
  }
  const parsed = indexSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : `${issue.path.join('.') || '(root)'}: ${issue.message}`;
    throw new ArtifactError('AVIARY_ARTIFACT_INDEX_CORRUPT', `${path}: ${where}; fix or remove the file`);
  }
  return parsed.data.entries;
}

/** Replaces the index at `path` with `entries`, atomically and durably. */
export async function writeIndex(path: string, entries: readonly ArtifactEntry[]): Promise<void> {
  const dir = dirname(path);
  const temporary = join(dir, `${temporaryIndexPrefix(path)}${randomBytes(6).toString('hex')}`);
  const text = `${JSON.stringify({ version: 1, entries }, null, 2)}\n`;
  try {
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The name prefix of the index's temporary files, which `ArtifactStore.open` removes when left by a crash. */
export function temporaryIndexPrefix(path: string): string {
  return `.${basename(path)}.tmp-`;
}
