/**
 * Several virtual services on one host, told apart by path: the most specific service is
 * tried first, and a service whose routes do not match hands the request to the next one.
 */
import { describe, expect, it } from 'vitest';
import { send, useFixtures } from './support.js';

const fx = useFixtures();

/** Service `name` with one version, `v1` at `address`, answering under the path `prefix`. */
function pathService(name: string, prefix: string, address: string) {
  return {
    name,
    versions: [{ name: 'v1', endpoints: [address] }],
    routes: [{ name: 'main', match: { path: { prefix } }, targets: [{ version: 'v1', weight: 1 }] }],
  };
}

describe('services sharing a host', () => {
  it('routes by path across services, most specific first, whatever their order', async () => {
    const frontend = await fx.backend('frontend');
    const catalog = await fx.backend('catalog');
    const { origin } = await fx.proxy({
      listeners: [{ port: 0 }],
      services: [
        pathService('frontend', '/', frontend.address),
        pathService('catalogdetail', '/catalogDetail', catalog.address),
      ],
    });
    expect((await send(`${origin}/catalogDetail/`)).text).toBe('catalog');
    expect((await send(`${origin}/`)).text).toBe('frontend');
    expect((await send(`${origin}/other`)).text).toBe('frontend');
  });

  it('answers 404 naming every candidate service when none matches', async () => {
    const a = await fx.backend('a');
    const { origin } = await fx.proxy({
      listeners: [{ port: 0 }],
      services: [pathService('alpha', '/a', a.address), pathService('beta', '/b', a.address)],
    });
    const answer = await send(`${origin}/c`);
    expect(answer.status).toBe(404);
    expect(answer.text).toContain('"alpha"');
    expect(answer.text).toContain('"beta"');
  });
});
