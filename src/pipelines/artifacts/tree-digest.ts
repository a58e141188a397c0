/**
 * The SHA-256 digest that names an artifact: a hash of its whole tree, so two builds with
 * the same output share one stored directory, and a stored directory can be checked against
 * its name. What is hashed, entry by entry in the order of {@link walkTree}:
 *
 *   directory: `D <path length>:<path>\n`
 *   file:      `F <644|755> <path length>:<path> <size>:<contents>\n`
 *   symlink:   `L <path length>:<path> <target length>:<target>\n`
 *
 * Lengths are UTF-8 byte counts, so no path, target or content can be read as another.
 * Owners, times and all mode bits but the owner's exec bit are left out: they do not change
 * what a version runs.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { walkTree } from './tree-files.js';

function field(text: string): string {
  return `${Buffer.byteLength(text)}:${text}`;
}

async function hashFile(hash: Hash, path: string): Promise<number> {
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return size;
}

/** The lowercase hex SHA-256 digest of the tree at `root`. */
export async function digestTree(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of await walkTree(root)) {
    if (entry.kind === 'directory') hash.update(`D ${field(entry.path)}\n`);
    else if (entry.kind === 'symlink') hash.update(`L ${field(entry.path)} ${field(entry.target)}\n`);
    else {
      hash.update(`F ${entry.executable ? '755' : '644'} ${field(entry.path)} ${entry.size}:`);
      // The size in the header is from lstat; a file that changed while hashed would not match.
      const read = await hashFile(hash, join(root, entry.path));
      if (read !== entry.size) throw new Error(`${entry.path}: changed while its digest was computed`);
      hash.update('\n');
    }
  }
  return hash.digest('hex');
}
