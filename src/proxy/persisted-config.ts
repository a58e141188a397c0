/**
 * The proxy's state directory (`aviary proxy --state DIR`): the last configuration it
 * accepted, written atomically (temporary file, fsync, rename, directory fsync) before the
 * change is answered, and read back at start before any listener opens, so a restarted proxy
 * never answers `404 no route` for routes it had (issue 11, 1b;
 * docs/adr/0014-supervised-proxy-process.md). Listener ports are saved as bound, so a
 * listener configured with port 0 comes back on the port clients already use.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProxyConfig } from '../config/proxy-schema.js';

/** File name of the persisted configuration inside the state directory. */
export const PERSISTED_CONFIG_FILE = 'config.json';

/** Writes `data` to `path` so that a crash leaves either the old or the new file whole. */
export async function writeFileAtomically(path: string, data: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (err) {
    // A full disk fails the write after open: the partial temporary file must not stay
    // behind, holding the space a later write needs.
    await rm(temporary, { force: true });
    throw err;
  }
  const dir = await open(join(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * The configuration last persisted in `stateDir`, as raw JSON to validate like any other
 * input; undefined when there is none yet.
 */
export async function loadPersistedConfig(stateDir: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(stateDir, PERSISTED_CONFIG_FILE), 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Persists `config` in `stateDir`, each listener's port replaced by `boundPort(name)` (the
 * port it really listens on). Calls must not overlap; the proxy's change queue runs them in
 * generation order.
 */
export async function persistConfig(
  stateDir: string,
  config: ProxyConfig,
  boundPort: (listener: string) => number,
): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const pinned = {
    ...config,
    listeners: config.listeners.map((listener) => ({ ...listener, port: boundPort(listener.name) })),
  };
  await writeFileAtomically(join(stateDir, PERSISTED_CONFIG_FILE), `${JSON.stringify(pinned, null, 2)}\n`);
}
