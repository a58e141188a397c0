/**
 * The file-system steps of the artifact store: walking a tree in a stable order, copying it
 * durably (every file and directory fsync'd before the tree is renamed into place), making
 * it read-only, and removing a tree that was made read-only.
 */
import { chmod, copyFile, lstat, mkdir, open, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from './artifact-error.js';

/** One entry of a tree, by its `/`-separated path relative to the root. */
export type TreeEntry =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly executable: boolean; readonly size: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

function byCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Every entry under `root` (not `root` itself), parents before children and siblings in
 * byte order of their UTF-8 names, so that the walk is the same on every machine. Symlinks
 * are not followed; anything but a file, directory or symlink is refused.
 */
export async function walkTree(root: string, prefix = ''): Promise<TreeEntry[]> {
  const names = (await readdir(join(root, prefix))).sort(byCodePoints);
  const entries: TreeEntry[] = [];
  for (const name of names) {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    const info = await lstat(join(root, path));
    if (info.isDirectory()) {
      entries.push({ kind: 'directory', path });
      entries.push(...(await walkTree(root, path)));
    } else if (info.isFile()) {
      entries.push({ kind: 'file', path, executable: (info.mode & 0o100) !== 0, size: info.size });
    } else if (info.isSymbolicLink()) {
      entries.push({ kind: 'symlink', path, target: await readlink(join(root, path)) });
    } else {
      throw new ArtifactError(
        'AVIARY_ARTIFACT_UNSUPPORTED_FILE',
        `${path}: not a file, directory or symlink`,
      );
    }
  }
  return entries;
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copies the tree at `from` into the new directory `to`, fsyncing every file and directory.
 * Files get mode 0644 or 0755 (only the owner's exec bit of the source counts).
 */
export async function copyTreeDurably(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o700 });
  const entries = await walkTree(from);
  const directories = [to];
  for (const entry of entries) {
    const source = join(from, entry.path);
    const target = join(to, entry.path);
    if (entry.kind === 'directory') {
      await mkdir(target, { mode: 0o700 });
      directories.push(target);
    } else if (entry.kind === 'symlink') {
      await symlink(entry.target, target);
    } else {
      await copyFile(source, target);
      await chmod(target, entry.executable ? 0o755 : 0o644);
      await syncPath(target);
    }
  }
  for (const directory of directories.reverse()) await syncPath(directory);
}

/** Makes every file (0444, or 0555 when executable) and directory (0555) under `root` read-only, `root` last. */
export async function makeTreeReadOnly(root: string): Promise<void> {
  const entries = await walkTree(root);
  for (const entry of entries) {
    if (entry.kind === 'file') await chmod(join(root, entry.path), entry.executable ? 0o555 : 0o444);
  }
  const directories = entries.filter((entry) => entry.kind === 'directory').reverse();
  for (const directory of directories) await chmod(join(root, directory.path), 0o555);
  await chmod(root, 0o555);
}

/** Removes the tree at `root`, first making its directories writable again; a missing tree is not an error. */
export async function removeTree(root: string): Promise<void> {
  const info = await lstat(root).catch(() => undefined);
  if (info === undefined) return;
  if (info.isDirectory()) {
    await chmod(root, 0o700);
    const entries = await walkTree(root).catch(() => []);
    for (const entry of entries) {
      if (entry.kind === 'directory') await chmod(join(root, entry.path), 0o700);
    }
  }
  await rm(root, { recursive: true, force: true });
}
