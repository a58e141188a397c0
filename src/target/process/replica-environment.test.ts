import { describe, expect, it } from 'vitest';
import { replicaEnvironment } from './replica-environment.js';

const identity = {
  app: 'shop',
  role: 'canary',
  revision: 'abc123def456',
  replica: 1,
  instance: 'inst-1',
  port: 41234,
};

describe('replicaEnvironment', () => {
  it('passes only allow-listed controller variables, then the spec env, then identity', () => {
    const env = replicaEnvironment(identity, { GREETING: 'hi', PATH: '/opt/bin' }, ['PATH', 'HOME'], {
      PATH: '/usr/bin',
      HOME: '/home/ci',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(env).toEqual({
      PATH: '/opt/bin',
      HOME: '/home/ci',
      GREETING: 'hi',
      PORT: '41234',
      AVIARY_APP: 'shop',
      AVIARY_ROLE: 'canary',
      AVIARY_REVISION: 'abc123def456',
      AVIARY_REPLICA: '1',
      AVIARY_INSTANCE: 'inst-1',
    });
  });

  it('does not let a spec override the port or the identity', () => {
    const env = replicaEnvironment(identity, { PORT: '80', AVIARY_INSTANCE: 'forged' }, [], {});
    expect(env).toMatchObject({ PORT: '41234', AVIARY_INSTANCE: 'inst-1' });
  });
});
