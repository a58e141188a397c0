import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStateDir, removeStateDir } from '../../../test/fixtures/apps/http-app-spec.js';
import { VersionLog } from './version-log.js';

let dir: string;
let clock = 0;
const open = (capacity: number) =>
  new VersionLog({ logDir: dir, app: 'shop', role: 'canary', capacity, now: () => clock });

beforeEach(async () => {
  dir = await makeStateDir();
  clock = Date.UTC(2025, 0, 1);
});
afterEach(() => removeStateDir(dir));

describe('VersionLog', () => {
  it('splits chunks into lines per replica and stream, keeping a final partial line', () => {
    const log = open(10);
    const out = log.lineSink(0, 'rev1', 'stdout');
    const err = log.lineSink(1, 'rev1', 'stderr');
    out.push('hel');
    err.push('oops\r\n');
    out.push('lo\nwor');
    out.push('ld');
    out.end();
    err.end();
    const lines = log.lines().map((l) => `${l.replica} ${l.stream} ${l.text}`);
    expect(lines).toEqual(['1 stderr oops', '0 stdout hello', '0 stdout world']);
  });

  it('keeps only the last lines in memory but appends every line to the revision file', async () => {
    const log = open(3);
    for (let i = 0; i < 5; i++) log.write(0, i < 2 ? 'old' : 'new', 'stdout', `line ${i}`);
    expect(log.lines().map((l) => l.text)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(log.lines(2).map((l) => l.text)).toEqual(['line 3', 'line 4']);
    expect(log.lines(0)).toEqual([]);
    await log.close();
    expect(await readFile(log.filePath('old'), 'utf8')).toBe(
      '2025-01-01T00:00:00.000Z r0 stdout line 0\n2025-01-01T00:00:00.000Z r0 stdout line 1\n',
    );
    expect((await readFile(log.filePath('new'), 'utf8')).split('\n')).toHaveLength(4);
    expect(log.filePath('new')).toBe(join(dir, 'shop-canary-new.log'));
  });

  it("closes one revision's file on request, and appends to it again when that revision writes later", async () => {
    const log = open(10);
    log.write(0, 'old', 'stdout', 'before');
    log.write(0, 'new', 'stdout', 'current');
    await log.closeRevision('old');
    expect(await readFile(log.filePath('old'), 'utf8')).toBe('2025-01-01T00:00:00.000Z r0 stdout before\n');
    log.write(0, 'old', 'stdout', 'applied again');
    await log.close();
    expect((await readFile(log.filePath('old'), 'utf8')).split('\n')).toHaveLength(3);
    expect(await readFile(log.filePath('new'), 'utf8')).toMatch(/current\n$/);
  });

  it('cuts a line that never ends instead of growing without bound', async () => {
    const log = open(10);
    log.lineSink(0, 'rev1', 'stdout').push('x'.repeat(40_000));
    const [line] = log.lines();
    expect(line?.text.length).toBeLessThan(17_000);
    expect(line?.text).toMatch(/\[line truncated\]$/);
    await log.close();
  });
});
