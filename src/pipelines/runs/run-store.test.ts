import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTemporaryDir, removeTemporaryDir } from '../git/git-test-support.js';
import { RunError } from './run-error.js';
import { appendRunLog, readRunLog } from './run-log.js';
import { compareRunIds, nextRunId, type RunRecord } from './run-record.js';
import { RunStore } from './run-store.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTemporaryDir('runs');
});

afterEach(async () => {
  await removeTemporaryDir(dir);
});

const BUILD = { pipeline: 'build', source: 'shop', ref: 'refs/tags/v1.0.0' } as const;

async function collect(iterator: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of iterator) text += chunk.toString('utf8');
  return text;
}

describe('run ids', () => {
  it('sort by creation, stay unique within a millisecond and when the clock steps back', () => {
    const t = new Date('2026-12-03T10:00:00.000Z');
    const a = nextRunId(undefined, t);
    const b = nextRunId(a, t);
    const c = nextRunId(b, new Date('2026-12-03T09:00:00.000Z'));
    const d = nextRunId(c, new Date('2026-12-03T10:00:00.001Z'));
    expect(a).toBe('run-20261203T100000000Z-0000');
    expect([b, c]).toEqual(['run-20261203T100000000Z-0001', 'run-20261203T100000000Z-0002']);
    expect([d, c, a, b].sort(compareRunIds)).toEqual([a, b, c, d]);
    expect(compareRunIds('run-20261203T100000000Z-10000', 'run-20261203T100000000Z-9999')).toBeGreaterThan(0);
  });
});

describe('run store', () => {
  it('persists each run atomically and reads it back after a reopen', async () => {
    const store = await RunStore.open(dir);
    const run = await store.create({ ...BUILD, after: 'a'.repeat(40), deliveryId: 'd-1' });
    await store.update(run.id, { state: 'running', startedAt: store.timestamp() });
    const reopened = await RunStore.open(dir, { killLeftovers: () => Promise.resolve() });
    expect(reopened.get(run.id)).toMatchObject({
      ...BUILD,
      deliveryId: 'd-1',
      state: 'interrupted',
      attempt: 1,
    });
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const second = await reopened.create(BUILD);
    expect(compareRunIds(second.id, run.id)).toBeGreaterThan(0);
  });

  it('emits every state change after it is durable', async () => {
    const store = await RunStore.open(dir);
    const seen: RunRecord[] = [];
    store.on('run', (run) => seen.push(run));
    const run = await store.create(BUILD);
    await store.update(run.id, { state: 'running' });
    await store.update(run.id, { state: 'succeeded', reason: 'done' });
    expect(seen.map((r) => r.state)).toEqual(['queued', 'running', 'succeeded']);
    const onDisk = JSON.parse(await readFile(join(dir, `${run.id}.json`), 'utf8'));
    expect(onDisk.state).toBe('succeeded');
    await expect(store.finished(run.id)).resolves.toMatchObject({ reason: 'done' });
  });

  it('keeps the last maxRuns finished runs, removing older ones with their logs', async () => {
    const store = await RunStore.open(dir, { maxRuns: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const run = await store.create(BUILD);
      await appendRunLog(store, run.id, `log ${i}`);
      await store.update(run.id, { state: i === 0 ? 'queued' : 'succeeded' });
      ids.push(run.id);
    }
    const newest = await store.create(BUILD);
    // The queued first run is never pruned; of the finished ones, the oldest go.
    expect(store.list().map((r) => r.id)).toEqual([ids[0], ids[3], newest.id]);
    const files = await readdir(dir);
    expect(files).not.toContain(`${ids[1]}.log`);
    expect(files).not.toContain(`${ids[2]}.json`);
    expect(files).toContain(`${ids[3]}.log`);
  });

  it('names a corrupt run file and the field', async () => {
    await writeFile(join(dir, 'run-20261203T100000000Z-0000.json'), JSON.stringify({ id: 'x' }));
    const error = (await RunStore.open(dir).catch((e: unknown) => e)) as RunError;
    expect(error).toBeInstanceOf(RunError);
    expect(error.code).toBe('AVIARY_RUN_STATE_CORRUPT');
    expect(error.message).toMatch(/run-20261203T100000000Z-0000\.json: id: /);
  });

  it('refuses a run input, naming the field', async () => {
    const store = await RunStore.open(dir);
    const error = (await store.create({ ...BUILD, after: 'HEAD' }).catch((e: unknown) => e)) as RunError;
    expect(error.code).toBe('AVIARY_RUN_INVALID_INPUT');
    expect(error.message).toMatch(/^run input after: /);
    expect(store.list()).toEqual([]);
  });

  it('answers AVIARY_RUN_NOT_FOUND for an unknown run', async () => {
    const store = await RunStore.open(dir);
    expect(() => store.require('run-nope')).toThrow(
      expect.objectContaining({ code: 'AVIARY_RUN_NOT_FOUND' }),
    );
    expect(() => store.logPath('../../etc/passwd')).toThrow(
      expect.objectContaining({ code: 'AVIARY_RUN_NOT_FOUND' }),
    );
  });
});

describe('run log', () => {
  it('reads a whole log, and follows appended chunks until the run ends', async () => {
    const store = await RunStore.open(dir);
    const run = await store.create(BUILD);
    await appendRunLog(store, run.id, 'first');
    expect(await collect(readRunLog(store, run.id))).toBe('first\n');

    const chunks: string[] = [];
    const following = (async () => {
      for await (const chunk of readRunLog(store, run.id, { follow: true })) {
        chunks.push(chunk.toString('utf8'));
        if (chunks.join('') === 'first\n') await appendFile(store.logPath(run.id), 'second\n');
        if (chunks.join('').endsWith('second\n') && !chunks.join('').includes('third')) {
          await appendRunLog(store, run.id, 'third');
          await store.update(run.id, { state: 'failed' });
        }
      }
    })();
    await following;
    expect(chunks.join('')).toBe('first\nsecond\nthird\n');
  });

  it('stops following when the signal aborts', async () => {
    const store = await RunStore.open(dir);
    const run = await store.create(BUILD);
    const stop = new AbortController();
    const text = collect(readRunLog(store, run.id, { follow: true, signal: stop.signal }));
    await appendRunLog(store, run.id, 'only');
    stop.abort();
    expect(await text).toMatch(/^(only\n)?$/);
  });
});
