/**
 * Several virtual services on one host, told apart by path: the most specific service is
 * tried first, and a service whose routes do not match hands the request to the next one.
 */
import { describe, expect, it } from 'vitest';
import { send, useFixtures } from './support.js';

const fx = useFixtures();

describe('services sharing a host', () => {
  it('routes by path across services, most specific first, whatever their order', async () => {
    const frontend = await fx.backend('frontend');
    const catalog = await fx.backend('catalog');
    const { origin } = await fx.proxy({
      listeners: [{ port: 0 }],
      services: [
        {
          name: 'frontend',
          versions: [{ name: 'v1', endpoints: [frontend.address] }],
          routes: [
            { name: 'main', match: { path: { prefix: '/' } }, targets: [{ version: 'v1', weight: 1 }] },
          ],
        },
        {
          name: 'catalogdetail',
          versions: [{ name: 'v1', endpoints: [catalog.address] }],
          routes: [
            {
              name: 'main',
              match: { path: { prefix: '/catalogDetail' } },
              targets: [{ version: 'v1', weight: 1 }],
            },
          ],
        },
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
      services: [
        {
          name: 'alpha',
          versions: [{ name: 'v1', endpoints: [a.address] }],
          routes: [
            { name: 'main', match: { path: { prefix: '/a' } }, targets: [{ version: 'v1', weight: 1 }] },
          ],
        },
        {
          name: 'beta',
          versions: [{ name: 'v1', endpoints: [a.address] }],
          routes: [
            { name: 'main', match: { path: { prefix: '/b' } }, targets: [{ version: 'v1', weight: 1 }] },
          ],
        },
      ],
    });
    const answer = await send(`${origin}/c`);
    expect(answer.status).toBe(404);
    expect(answer.text).toContain('"alpha"');
    expect(answer.text).toContain('"beta"');
  });
});
