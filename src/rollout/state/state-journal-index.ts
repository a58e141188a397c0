/**
 * One pass over a sealed journal (ADR 0009): where each app's lines are, so a compaction
 * reads back only the lines of the apps it is folding and never holds the file or its
 * decoded text whole.
 */
import { open } from 'node:fs/promises';
import { appOfLine, assertJournalHeader, journalPath } from './state-journal-read.js';

/** The byte ranges of each app's lines in one journal, and a way to read a line back. */
export interface JournalIndex {
  /** The journal's file. */
  readonly path: string;
  readonly lines: ReadonlyMap<string, readonly (readonly [number, number])[]>;
  /** The text of one line. */
  read(range: readonly [number, number]): Promise<string>;
  close(): Promise<void>;
}

/** Indexes the journal of `generation` in `dir` in one pass of 64 kB reads. */
export async function indexJournal(dir: string, generation: number): Promise<JournalIndex> {
  const path = journalPath(dir, generation);
  const handle = await open(path, 'r');
  try {
    const lines = new Map<string, [number, number][]>();
    let pending = Buffer.alloc(0);
    let offset = 0; // file offset of pending[0]
    let header = true;
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      const data = bytesRead === 0 ? pending : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      let start = 0;
      for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10, start)) {
        const head = data.toString('latin1', start, Math.min(newline, start + 80));
        if (header) {
          assertJournalHeader(path, data.toString('utf8', start, newline), generation);
          header = false;
        } else {
          const app = appOfLine(head);
          if (app !== undefined) {
            const range: [number, number] = [offset + start, offset + newline];
            const ranges = lines.get(app);
            if (ranges) ranges.push(range);
            else lines.set(app, [range]);
          }
        }
        start = newline + 1;
      }
      // A last line without its newline is torn: it never gets a range.
      if (bytesRead === 0) break;
      pending = data.subarray(start);
      offset += start;
    }
    return {
      path,
      lines,
      async read([from, to]) {
        const buffer = Buffer.alloc(to - from);
        await handle.read(buffer, 0, buffer.length, from);
        return buffer.toString('utf8');
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
