/**
 * Issue 10: a second router kind and a second workload kind, chosen in `aviary.yaml` alone.
 * `aviary up` (the real CLI) drives two `aviary proxy` instances (`router.kind:
 * aviary-admin`) and routes to versions it does not start (an `endpoints` workload: loopback
 * servers standing in for VMs). Editing the file rolls v2 out through both proxies, judged on
 * the traffic both saw; a v3 answering 500s is rolled back the same way.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ensureBuilt, spawnCli } from '../cli/cli-support.js';
import { quickCanary } from './catalog-config.js';
import { TEST_TIMEOUT_MS, waitFor } from './deadline-waits.js';
import {
  ADMIN_TOKEN,
  startProxy,
  versionsThrough,
  waitForBoth,
  type RunningProxy,
} from './proxy-instances.js';
import { onCleanup, tempDir } from './test-cleanup.js';
import { TrafficLoop } from './traffic-loop.js';

const APP = 'shop';
const PATH = '/shop';
const TOKEN = 'engines-from-config-token';

/** `count` loopback servers answering `{"version": version}`, 500 for `failRate` of requests. */
async function versionServers(version: string, count: number, failRate = 0): Promise<string[]> {
  const addresses: string[] = [];
  let served = 0;
  for (let i = 0; i < count; i++) {
    const server: Server = createServer((_req, res) => {
      served += 1;
      // Deterministic: every 1/failRate-th request fails.
      const fail = failRate > 0 && served % Math.round(1 / failRate) === 0;
      res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()));
    addresses.push(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  return addresses;
}

/** The aviary.yaml a user writes: two proxies by admin URL, the app at fixed addresses. */
function aviaryYaml(dir: string, proxies: readonly RunningProxy[], addresses: readonly string[]): string {
  return stringify({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: {
      kind: 'aviary-admin',
      instances: proxies.map((p) => ({ url: p.adminUrl, tokenFile: 'proxy-token' })),
    },
    api: { port: 0 },
    stateDir: join(dir, 'state'),
    minAnalysisInterval: '200ms',
    apps: [
      {
        name: APP,
        path: PATH,
        endpoints: {
          addresses,
          readinessProbe: { httpGet: { path: '/' }, interval: '100ms', failureThreshold: 1 },
        },
        canary: quickCanary({
          stepWeight: 25,
          maxWeight: 50,
          metrics: [{ name: 'request-success-rate', interval: '2s', thresholdRange: { min: 99 } }],
        }),
      },
    ],
  });
}

interface RolloutAnswer {
  status?: { phase?: string; canaryWeight?: number };
}

describe('engines chosen in aviary.yaml alone', { timeout: TEST_TIMEOUT_MS }, () => {
  beforeAll(() => ensureBuilt(), 240_000);

  it('rolls out endpoints versions through two aviary proxy instances', async () => {
    const dir = await tempDir('aviary-engines-');
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    await writeFile(join(dir, 'proxy-token'), `${ADMIN_TOKEN}\n`);
    const proxies = [await startProxy(dir, 'first'), await startProxy(dir, 'second')];
    const [v1, v2, v3] = [
      await versionServers('1', 2),
      await versionServers('2', 2),
      await versionServers('3', 2, 0.2),
    ];
    const file = join(dir, 'aviary.yaml');
    await writeFile(file, aviaryYaml(dir, proxies, v1));
    const up = spawnCli(['up', '-f', file], { env: { AVIARY_TOKEN: TOKEN } });
    onCleanup(async () => {
      if (up.child.exitCode !== null || up.child.signalCode !== null) return;
      up.child.kill('SIGTERM');
      await up.exited;
    });
    const out = await up.waitForStdout((text) => text.includes('control API and dashboard on'), 'aviary up');
    const api = /control API and dashboard on (http:\/\/[^ ]+)/.exec(out)?.[1];
    const rollout = async (): Promise<RolloutAnswer> =>
      (await (await fetch(`${api}/api/v1/rollouts/${APP}`)).json()) as RolloutAnswer;
    let last: RolloutAnswer = {};
    const phaseIs = (phase: string) =>
      waitFor(
        `${APP} in phase ${phase}`,
        async () => ((last = await rollout()).status?.phase === phase ? true : undefined),
        () => JSON.stringify(last),
      );

    await phaseIs('Initialized');
    await waitForBoth(proxies, { primary: 100 }, APP);
    for (const proxy of proxies) expect(await versionsThrough(proxy, 10, PATH)).toEqual({ '1': 10 });

    // Traffic through both proxies: the analysis reads what both of them saw.
    for (const proxy of proxies) TrafficLoop.start(proxy.routerUrl, { path: PATH, pauseMs: 5 });

    await writeFile(file, aviaryYaml(dir, proxies, v2));
    await phaseIs('Succeeded');
    await waitForBoth(proxies, { primary: 100 }, APP);
    for (const proxy of proxies) expect(await versionsThrough(proxy, 10, PATH)).toEqual({ '2': 10 });
    const events = async () =>
      (await (await fetch(`${api}/api/v1/rollouts/${APP}/events`)).json()) as {
        reason: string;
        message: string;
      }[];
    expect((await events()).map((e) => e.reason)).toContain('WeightAdvanced');

    await writeFile(file, aviaryYaml(dir, proxies, v3));
    await phaseIs('Failed');
    await waitForBoth(proxies, { primary: 100 }, APP);
    for (const proxy of proxies) expect(await versionsThrough(proxy, 10, PATH)).toEqual({ '2': 10 });
    // The rollback names the metric measured across both proxies.
    expect((await events()).some((e) => /metric request-success-rate [\d.]+ < min 99/.test(e.message))).toBe(
      true,
    );
  });
});
