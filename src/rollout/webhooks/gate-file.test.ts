import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gateFilePath, loadGates, saveGates } from './gate-file.js';
import { GateStore } from './gates.js';

describe('the gate file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-gates-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips the gates; with no file every gate is closed', async () => {
    expect((await loadGates(dir)).isOpen('shop.default', 'confirm-promotion')).toBe(false);
    const gates = new GateStore();
    gates.open('shop.default', 'confirm-promotion', { by: 'alice' });
    await saveGates(dir, gates);
    const loaded = await loadGates(dir);
    expect(loaded.isOpen('shop.default', 'confirm-promotion')).toBe(true);
    expect(loaded.isOpen('shop.default', 'rollback')).toBe(false);
  });

  it('refuses a damaged file, naming it, instead of closing every gate silently', async () => {
    await writeFile(gateFilePath(dir), '{"gates": [');
    await expect(loadGates(dir)).rejects.toMatchObject({
      code: 'AVIARY_STATE_CORRUPT',
      message: expect.stringMatching(/gates\.json: not a gate store/) as unknown,
    });
  });
});
