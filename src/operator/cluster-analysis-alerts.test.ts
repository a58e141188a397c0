import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../notify/alert-types.js';
import { analysisWith, appOf, NS, object } from './cluster-analysis-test-support.js';

let receiver: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

/** A loopback receiver answering `status`; resolves each body it receives into `bodies`. */
async function startReceiver(status: number): Promise<{ address: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return { address: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, bodies };
}

const rollback: AlertEvent = {
  app: { name: 'podinfo', namespace: NS },
  severity: 'error',
  message: 'Canary podinfo rolled back',
  fields: [],
};

describe('ClusterAnalysis: alerts', () => {
  it('sends to the AlertProvider in the Canary’s namespace; a missing one is warned about and skipped', async () => {
    const { address, bodies } = await startReceiver(200);
    const { analysis, warnings } = analysisWith({
      providers: [object('AlertProvider', NS, 'hook', { type: 'webhook', address })],
    });
    const app = appOf({
      alerts: [
        { name: 'on-call', severity: 'info', providerRef: { name: 'hook' } },
        { name: 'chat', severity: 'info', providerRef: { name: 'slack', namespace: 'ops' } },
      ],
    });
    const deliveries = await analysis.alerts(app)?.dispatch(rollback);
    expect(deliveries?.map((d) => [d.alert, d.outcome])).toEqual([['on-call', 'sent']]);
    expect(bodies).toMatchObject([
      { app: { name: 'podinfo', namespace: NS }, message: 'Canary podinfo rolled back' },
    ]);
    expect(warnings).toEqual([
      'podinfo AlertProviderWarning AlertProvider ops/slack not found; create it, or correct the providerRef of alert "chat" (alert "chat" is not sent)',
    ]);
  });

  it('names an invalid provider and reports a delivery that failed', async () => {
    const { address } = await startReceiver(500);
    const { analysis, warnings } = analysisWith({
      providers: [
        object('AlertProvider', NS, 'bad', { type: 'webhook', address: 'hooks.example.com' }),
        object('AlertProvider', NS, 'down', { type: 'webhook', address }),
      ],
    });
    const app = appOf({
      alerts: [
        { name: 'a', providerRef: { name: 'bad' } },
        { name: 'b', providerRef: { name: 'down' } },
      ],
    });
    await analysis.alerts(app)?.dispatch(rollback);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe(
      'podinfo AlertProviderWarning AlertProvider shop/bad: spec.address: expected an http(s) URL (alert "a" is not sent)',
    );
    expect(warnings[1]).toMatch(
      /^podinfo AlertProviderWarning AlertProvider shop\/down: alert "b" not delivered: .*500/,
    );
  });

  it('has no alerts for a Canary without analysis.alerts', () => {
    expect(analysisWith({}).analysis.alerts(appOf({}))).toBeUndefined();
  });
});
