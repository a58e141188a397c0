/**
 * The shared file watcher against real files in a temporary directory: ten saves in each of
 * the three ways editors save (rename over, in place, delete then create) are each seen,
 * editors' temporary files beside the file are not, and a burst of writes is one save.
 */
import { mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollFor } from '../../test/support/poll.js';
import { fileVersion, watchFile, type WatchFileOptions } from './file-watch.js';

const SAVES = 10;

interface Watched {
  readonly file: string;
  readonly dir: string;
  /** Content read at each call of onSave, in order. */
  readonly seen: string[];
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function watched(options: WatchFileOptions = {}): Promise<Watched> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-file-watch-'));
  const file = join(dir, 'aviary.yaml');
  await writeFile(file, 'save: 0\n');
  const seen: string[] = [];
  const stop = new AbortController();
  let armed = false;
  const watching = watchFile(
    file,
    async () => {
      seen.push(await readFile(file, 'utf8'));
    },
    stop.signal,
    { ...options, onReady: () => (armed = true) },
  );
  await pollFor('the watch to be armed', () => (armed ? true : undefined), undefined, 10_000);
  const close = async (): Promise<void> => {
    stop.abort();
    await watching;
    await rm(dir, { recursive: true, force: true });
  };
  cleanups.push(close);
  return { file, dir, seen, stop: close };
}

async function seenSave(w: Watched, n: number, how: string): Promise<void> {
  await pollFor(
    `save ${n} (${how}) to be seen`,
    () => (w.seen.includes(`save: ${n}\n`) ? true : undefined),
    () => `seen: ${JSON.stringify(w.seen)}`,
    10_000,
  );
}

const SAVE_WAYS: Record<string, (w: Watched, n: number) => Promise<void>> = {
  'by rename (a temporary file renamed over it)': async (w, n) => {
    const temp = join(w.dir, `.aviary.yaml.${n}.tmp`);
    await writeFile(temp, `save: ${n}\n`);
    await rename(temp, w.file);
  },
  'in place': (w, n) => writeFile(w.file, `save: ${n}\n`),
  'by delete, then create': async (w, n) => {
    await unlink(w.file);
    await writeFile(w.file, `save: ${n}\n`);
  },
};

describe('watchFile', () => {
  for (const [how, save] of Object.entries(SAVE_WAYS)) {
    it(`sees each of ${SAVES} saves ${how}`, async () => {
      const w = await watched();
      await seenSave(w, 0, 'at start');
      for (let n = 1; n <= SAVES; n++) {
        await save(w, n);
        await seenSave(w, n, how);
      }
      expect(w.seen).toEqual(Array.from({ length: SAVES + 1 }, (_, n) => `save: ${n}\n`));
    });
  }

  it('sees saves made by every way in turn, without a call at start', async () => {
    const w = await watched({ callAtStart: false });
    const ways = Object.values(SAVE_WAYS);
    for (let n = 1; n <= 9; n++) {
      await ways[n % ways.length]!(w, n);
      await seenSave(w, n, 'mixed');
    }
    expect(w.seen).toEqual(Array.from({ length: 9 }, (_, n) => `save: ${n + 1}\n`));
  });

  it("ignores editors' temporary files beside the file, then sees the real save", async () => {
    const w = await watched();
    await seenSave(w, 0, 'at start');
    await writeFile(join(w.dir, '.aviary.yaml.swp'), 'swap');
    await writeFile(join(w.dir, 'aviary.yaml~'), 'backup');
    await writeFile(join(w.dir, '4913'), '');
    await writeFile(w.file, 'save: 1\n');
    await seenSave(w, 1, 'after temporary files');
    expect(w.seen).toEqual(['save: 0\n', 'save: 1\n']);
  });

  it('takes a burst of writes as one save of the last content', async () => {
    // The quiet time is long against five writes, so the burst cannot be split by a slow machine.
    const w = await watched({ debounceMs: 1_000 });
    await seenSave(w, 0, 'at start');
    for (let n = 1; n <= 5; n++) await writeFile(w.file, `save: ${n}\n`);
    await seenSave(w, 5, 'end of the burst');
    expect(w.seen).toEqual(['save: 0\n', 'save: 5\n']);
  });
});

describe('watchFile from an applied version', () => {
  it('sees a save made after the applied content was read, though before the watch started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aviary-file-watch-'));
    const file = join(dir, 'aviary.yaml');
    await writeFile(file, 'save: 0\n');
    // aviary up reads the version, then the file, starts its runtime (the save comes now), then watches.
    const appliedVersion = await fileVersion(file);
    await writeFile(file, 'save: 1\n');
    const seen: string[] = [];
    const stop = new AbortController();
    const watching = watchFile(
      file,
      async () => {
        seen.push(await readFile(file, 'utf8'));
      },
      stop.signal,
      { callAtStart: false, appliedVersion },
    );
    try {
      await pollFor(
        'the save made before the watch',
        () => (seen.length > 0 ? true : undefined),
        undefined,
        10_000,
      );
      expect(seen).toEqual(['save: 1\n']);
    } finally {
      stop.abort();
      await watching;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
