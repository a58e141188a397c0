import { describe, expect, it } from 'vitest';
import { makeStateDir, removeStateDir } from '../../test/fixtures/apps/http-app-spec.js';
import { InMemoryTarget } from '../../test/fakes/in-memory-target.js';
import { builtInTargetRegistry, TargetRegistry } from './target-registry.js';

describe('TargetRegistry', () => {
  it('builds each built-in kind', async () => {
    const stateDir = await makeStateDir();
    try {
      const registry = builtInTargetRegistry();
      expect(registry.kinds()).toEqual(['in-memory', 'process']);
      expect(registry.create('process', { stateDir }).kind).toBe('process');
      expect(registry.create('in-memory', { stateDir }).kind).toBe('in-memory');
    } finally {
      await removeStateDir(stateDir);
    }
  });

  it('rejects an unknown kind and lists the known ones', () => {
    expect(() => builtInTargetRegistry().create('kubernetes', { stateDir: '/nonexistent' })).toThrow(
      expect.objectContaining({
        code: 'AVIARY_TARGET_UNKNOWN_KIND',
        message: 'target kind "kubernetes" is unknown; known kinds: in-memory, process',
      }),
    );
  });

  it('refuses to register a kind twice', () => {
    const registry = new TargetRegistry().register('fake', () => new InMemoryTarget());
    expect(() => registry.register('fake', () => new InMemoryTarget())).toThrow(/already registered/);
  });
});
