/**
 * Where the built-in gates live between runs: `<stateDir>/gates.json`, the gate store's
 * `toJSON`, replaced atomically (temp file, fsync, rename, directory fsync) at every change,
 * so a restart never finds a used one-shot gate open again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AviaryError } from '../../errors.js';
import { GateStore } from './gates.js';
import { writeFileAtomic } from '../state/state-files.js';

/** Path of the gate file in `stateDir`. */
export function gateFilePath(stateDir: string): string {
  return join(stateDir, 'gates.json');
}

/**
 * The gates saved in `stateDir`; every gate closed when there is no file yet.
 * @throws AviaryError `AVIARY_STATE_CORRUPT` naming the file when it is not a gate store,
 * rather than starting with every gate silently closed.
 */
export async function loadGates(stateDir: string): Promise<GateStore> {
  const path = gateFilePath(stateDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new GateStore();
    throw err;
  }
  try {
    return GateStore.fromJSON(JSON.parse(text));
  } catch (err) {
    throw new AviaryError(
      'AVIARY_STATE_CORRUPT',
      `${path}: not a gate store (${(err as Error).message}); fix or remove the file (every gate is then closed)`,
    );
  }
}

/** Saves `gates` to `stateDir` atomically. */
export async function saveGates(stateDir: string, gates: GateStore): Promise<void> {
  await writeFileAtomic(gateFilePath(stateDir), JSON.stringify(gates.toJSON()));
}
