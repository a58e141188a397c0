import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import {
  addReleaseFlags,
  parseGateway,
  releaseOptionsOf,
  type ReleaseFlags,
} from './operator-release-flags.js';

function parsed(argv: string[]): ReleaseFlags {
  const command = addReleaseFlags(new Command('operator').exitOverride());
  command.parse(argv, { from: 'user' });
  return command.opts<ReleaseFlags>();
}

describe('aviary operator --release-* flags', () => {
  it('become the release options, repeatable flags collected', () => {
    const options = releaseOptionsOf(
      parsed([
        '--release-image',
        'registry.example/${app}',
        '--release-gateway',
        'edge',
        '--release-gateway',
        'infra/public/https',
        '--release-port',
        '9000',
        '--release-replicas',
        '2',
        '--release-drain',
        '30s',
        '--release-ready-timeout',
        '2m',
        '--release-allowed-tag',
        'abc1234',
      ]),
    );
    expect(options).toEqual({
      defaults: {
        imageRepository: 'registry.example/${app}',
        port: 9000,
        replicas: 2,
        parentRefs: [{ name: 'edge' }, { namespace: 'infra', name: 'public', sectionName: 'https' }],
      },
      allowedTags: ['abc1234'],
      drainMs: 30_000,
      readyTimeoutMs: 120_000,
    });
  });

  it('leave the operator defaults alone when absent', () => {
    expect(releaseOptionsOf(parsed([]))).toEqual({ defaults: {} });
  });

  it('name the flag and what it expects when a value is wrong', () => {
    const problem = (argv: string[]) => {
      try {
        releaseOptionsOf(parsed(argv));
      } catch (err) {
        return (err as ConfigError).issues[0];
      }
      return undefined;
    };
    expect(problem(['--release-port', '70000'])).toMatchObject({
      path: '--release-port',
      message: /1 to 65535/,
    });
    expect(problem(['--release-replicas', 'two'])).toMatchObject({ path: '--release-replicas' });
    expect(problem(['--release-drain', 'soon'])).toMatchObject({
      path: '--release-drain',
      message: /10s or 1m/,
    });
    expect(problem(['--release-gateway', 'a/b/c/d'])).toMatchObject({ path: '--release-gateway' });
    expect(() => parseGateway('Edge')).toThrow(ConfigError);
  });
});
