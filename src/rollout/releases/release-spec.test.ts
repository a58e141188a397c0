import { describe, expect, it } from 'vitest';
import { DEFAULT_RELEASE_SETTINGS, releaseSettingsSchema } from '../../config/release-schema.js';
import type { ProcessSpec } from '../../target/process/version-spec.js';
import { releaseVersionSpec, substitute, templateVariables } from './release-spec.js';

const template: ProcessSpec = {
  command: 'node',
  args: ['demo/apps/catalogdetail.js'],
  env: { VERSION: '1', LOG_LEVEL: 'info' },
  replicas: 2,
};

describe('releaseVersionSpec', () => {
  it("hands the tag's major number to the process as VERSION, and the tag as AVIARY_TAG", () => {
    const spec = releaseVersionSpec(
      template,
      'catalogdetail',
      { name: 'backend-v2', tag: 'v2.0.0', weight: 50 },
      DEFAULT_RELEASE_SETTINGS,
    );
    expect(spec).toEqual({
      command: 'node',
      args: ['demo/apps/catalogdetail.js'],
      env: { VERSION: '2', LOG_LEVEL: 'info', AVIARY_TAG: 'v2.0.0', AVIARY_RELEASE: 'backend-v2' },
      replicas: 2,
    });
  });

  it('uses the tag itself as VERSION when it has no numbers (an allow-listed tag)', () => {
    const spec = releaseVersionSpec(
      template,
      'web',
      { name: 'edge', tag: 'stable', weight: 1 },
      DEFAULT_RELEASE_SETTINGS,
    );
    expect(spec.env.VERSION).toBe('stable');
  });

  it('substitutes releases.env and releases.args instead of the defaults', () => {
    const settings = releaseSettingsSchema.parse({
      env: { IMAGE_TAG: '${tag}', RELEASE: '${app}/${name}@${major}.${minor}.${patch}' },
      args: ['server.js', '--version=${tag}', '$HOME', '${tag}; rm -rf /'],
    });
    const spec = releaseVersionSpec(
      template,
      'web',
      { name: 'canary', tag: 'v3.1.4-rc.1', weight: 1 },
      settings,
    );
    expect(spec.args).toEqual(['server.js', '--version=v3.1.4-rc.1', '$HOME', 'v3.1.4-rc.1; rm -rf /']);
    expect(spec.env).toEqual({
      VERSION: '1',
      LOG_LEVEL: 'info',
      IMAGE_TAG: 'v3.1.4-rc.1',
      RELEASE: 'web/canary@3.1.4',
      AVIARY_TAG: 'v3.1.4-rc.1',
      AVIARY_RELEASE: 'canary',
    });
  });

  it('gives different tags different revisions and equal tags equal specs', () => {
    const a = releaseVersionSpec(
      template,
      'web',
      { name: 'x', tag: 'v1.0.0', weight: 1 },
      DEFAULT_RELEASE_SETTINGS,
    );
    const b = releaseVersionSpec(
      template,
      'web',
      { name: 'x', tag: 'v1.0.1', weight: 9 },
      DEFAULT_RELEASE_SETTINGS,
    );
    const c = releaseVersionSpec(
      template,
      'web',
      { name: 'x', tag: 'v1.0.0', weight: 9 },
      DEFAULT_RELEASE_SETTINGS,
    );
    expect(a.env).not.toEqual(b.env);
    expect(a).toEqual(c);
  });
});

describe('substitute', () => {
  it('replaces known placeholders only, as plain text', () => {
    const variables = templateVariables('web', { name: 'n', tag: '10.20.30', weight: 1 });
    expect(substitute('${major}-${minor}-${patch} ${other} $tag ${tag}', variables)).toBe(
      '10-20-30 ${other} $tag 10.20.30',
    );
  });
});
