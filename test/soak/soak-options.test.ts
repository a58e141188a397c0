/** `npm run soak`'s options (soak/soak-options.ts) and how it tells Aviary's processes (soak/aviary-processes.ts). */
import { describe, expect, it } from 'vitest';
import { aviaryRole } from '../../soak/aviary-processes.js';
import { soakSettings } from '../../soak/soak-options.js';

describe('soakSettings', () => {
  it('scales its defaults with --duration: the CI run and the 30-minute run', () => {
    expect(soakSettings([], '/w')).toEqual({
      durationSeconds: 120,
      everySeconds: 20,
      warmupSeconds: 20,
      ratePerSecond: 40,
      workDir: '/w',
      report: false,
    });
    expect(soakSettings(['--duration', '1800', '--report'], '/w')).toMatchObject({
      durationSeconds: 1800,
      everySeconds: 120,
      warmupSeconds: 660,
      report: true,
    });
    // A run shorter than twice the proxy's window and a minute warms up for a sixth of it.
    expect(soakSettings(['--duration', '1200'], '/w').warmupSeconds).toBe(200);
    expect(soakSettings(['--duration', '1320'], '/w').warmupSeconds).toBe(660);
    expect(soakSettings(['--every', '45', '--rate', '10', '--work-dir', '/x'], '/w')).toMatchObject({
      everySeconds: 45,
      ratePerSecond: 10,
      workDir: '/x',
    });
  });

  it('names the option that is wrong', () => {
    expect(() => soakSettings(['--duration', '10'], '/w')).toThrow(
      '--duration: expected a number >= 60, got "10"',
    );
    expect(() => soakSettings(['--rate', 'fast'], '/w')).toThrow(
      '--rate: expected a number >= 1, got "fast"',
    );
    expect(() => soakSettings(['--minutes', '3'], '/w')).toThrow('unknown option --minutes');
  });
});

describe('aviaryRole', () => {
  const node = '/usr/bin/node';
  const script = '/repo/bin/aviary.js';

  it("names the CLI command Node runs, past Node's own flags", () => {
    expect(aviaryRole([node, script, 'up', '-f', 'a.yaml'], script, node)).toBe('up');
    expect(aviaryRole([node, '--enable-source-maps', script, 'proxy', '--state', 'd'], script, node)).toBe(
      'proxy',
    );
  });

  it('is undefined for an app, and for a wrapper that names the CLI in its arguments', () => {
    expect(aviaryRole([node, '/repo/demo/apps/frontend.js'], script, node)).toBeUndefined();
    expect(
      aviaryRole(['timeout', '--kill-after=30', '1000', node, script, 'up'], script, node),
    ).toBeUndefined();
  });
});
