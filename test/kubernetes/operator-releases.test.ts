/**
 * Release files on Kubernetes (issue 14, "Release file on Kubernetes";
 * docs/adr/0024-releases-on-kubernetes.md), end to end on the real test control plane: the
 * seed's Helm values file (`canaryConfig`, two entries at 50/50) sent with the built
 * `aviary apply` to the operator's control API becomes two Deployments and Services and one
 * HTTPRoute with weighted backendRefs, whose pods KWOK makes Ready; removing an entry puts it
 * at weight 0, then takes it off the route, then deletes its Deployment and Service; an
 * invalid document is a 422 naming each bad entry, and nothing changes; a new tag rolls the
 * entry's Deployment over; a name a Canary's HTTPRoute holds is refused (409); a restarted
 * operator knows the release from the HTTPRoute, and finishes a drain it was stopped in; an
 * edit whose pods cannot be scheduled (node cordoned) is undone and the split kept. The operator holds only its ServiceAccount's token
 * (deploy/kubernetes/operator as shipped), so the RBAC is what is tested too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startOperator } from '../../src/operator/operator.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { ensureBuilt, runCli } from '../cli/cli-support.js';
import { pollFor } from '../support/poll.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();
const TOKEN = 'operator-releases-test-token';
const DRAIN_MS = 3_000;

/** The seed's values file: chart keys (image, service, httpRoute) beside `canaryConfig`. */
function valuesFile(canaryConfig: { name: string; tag: string; weight: number }[]) {
  return {
    app: 'catalogdetail',
    image: { repository: 'example.invalid/catalog-backend', pullPolicy: 'IfNotPresent' },
    service: { port: 3000 },
    httpRoute: { parentRefs: [{ name: 'edge', sectionName: 'http' }] },
    canaryConfig,
  };
}

interface Route {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    parentRefs: { name: string }[];
    rules: { backendRefs: { name: string; port: number; weight: number }[] }[];
  };
}

describe.skipIf(unavailable !== undefined)('release files applied to the operator', () => {
  const fixture = new OperatorFixture();
  let dir = '';
  let operatorKubeconfig = '';
  const url = () => fixture.operator.controlUrl!;
  const apply = async (document: unknown) => {
    const file = join(dir, 'values.yaml');
    await writeFile(file, stringify(document));
    return runCli(['apply', '--file', file, '--api', url(), '--token', TOKEN]);
  };
  const route = () => fixture.getJson<Route>(['httproute', 'catalogdetail']);
  const weights = async () =>
    Object.fromEntries((await route()).spec.rules.at(-1)!.backendRefs.map((r) => [r.name, r.weight]));
  const names = async (kind: string) =>
    (await fixture.run(['get', kind, '-l', 'aviary.dev/release=catalogdetail', '-o', 'name']))
      .split('\n')
      .filter((line) => line !== '')
      .sort();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-releases-'));
    await ensureBuilt();
    await fixture.start(
      { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10, judge: { enabled: false } },
      { controlApi: { port: 0, token: TOKEN }, releases: { drainMs: DRAIN_MS, readyTimeoutMs: 60_000 } },
      (f) => f.asShippedServiceAccount(),
    );
    operatorKubeconfig = fixture.shippedKubeconfig;
  }, 240_000);
  afterAll(async () => {
    await fixture.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('renders a 50/50 canaryConfig as two Deployments and Services and one weighted HTTPRoute, pods Ready', async () => {
    const result = await apply(
      valuesFile([
        { name: 'backend-v1', tag: 'v1.0.0', weight: 50 },
        { name: 'backend-v2', tag: 'v2.0.0', weight: 50 },
      ]),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/catalogdetail: applied/);
    expect(result.stdout).toMatch(/backend-v1\s+v1\.0\.0\s+50\s+50\.0%\s+1\/1/);
    expect(result.stdout).toMatch(/started backend-v1, backend-v2/);

    expect(await names('deployments')).toEqual([
      'deployment.apps/catalogdetail-backend-v1',
      'deployment.apps/catalogdetail-backend-v2',
    ]);
    expect(await names('services')).toEqual([
      'service/catalogdetail-backend-v1',
      'service/catalogdetail-backend-v2',
    ]);
    const deployment = await fixture.getJson<{
      spec: { template: { spec: { containers: { image: string; ports: { containerPort: number }[] }[] } } };
      status: { readyReplicas?: number };
    }>(['deployment', 'catalogdetail-backend-v2']);
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({
      image: 'example.invalid/catalog-backend:v2.0.0',
      ports: [{ containerPort: 3000 }],
    });
    expect(deployment.status.readyReplicas).toBe(1);
    const pods = await fixture.getJson<{
      items: { status: { conditions: { type: string; status: string }[] } }[];
    }>(['pods', '-l', 'aviary.dev/release=catalogdetail']);
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items)
      expect(pod.status.conditions).toContainEqual(
        expect.objectContaining({ type: 'Ready', status: 'True' }),
      );

    const httpRoute = await route();
    expect(httpRoute.spec.parentRefs).toEqual([
      expect.objectContaining({ name: 'edge', sectionName: 'http' }),
    ]);
    expect(httpRoute.spec.rules).toHaveLength(1);
    expect(httpRoute.spec.rules[0]!.backendRefs).toEqual([
      expect.objectContaining({ name: 'catalogdetail-backend-v1', port: 3000, weight: 50 }),
      expect.objectContaining({ name: 'catalogdetail-backend-v2', port: 3000, weight: 50 }),
    ]);
    expect(httpRoute.metadata.labels['aviary.dev/release']).toBe('catalogdetail');
  }, 120_000);

  it('refuses an invalid document with 422 naming each bad entry, and changes nothing', async () => {
    const before = await route();
    const answer = await fetch(`${url()}/api/v1/apps/catalogdetail/release`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        valuesFile([
          { name: 'backend-v1', tag: 'v1.0.0', weight: 50 },
          { name: 'backend-v1', tag: 'v3.0.0', weight: -5 },
        ]),
      ),
    });
    const body = (await answer.json()) as {
      error: { code: string; issues: { path: string; message: string }[] };
    };
    expect(answer.status).toBe(422);
    expect(body.error.code).toBe('AVIARY_CONFIG_INVALID');
    // Both faults of the second entry at once: its name repeats the first's, its weight is < 0.
    expect(body.error.issues).toEqual([
      { path: 'canaryConfig[1].name', message: 'entry "backend-v1": duplicate name (also canaryConfig[0])' },
      { path: 'canaryConfig[1].weight', message: 'entry "backend-v1": expected a number >= 0, got -5' },
    ]);
    const duplicate = await fetch(`${url()}/api/v1/apps/catalogdetail/release`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        valuesFile([
          { name: 'backend-v1', tag: 'v1.0.0', weight: 50 },
          { name: 'backend-v1', tag: 'v3.0.0', weight: 50 },
        ]),
      ),
    });
    expect(duplicate.status).toBe(422);
    expect(((await duplicate.json()) as typeof body).error.issues).toEqual([
      { path: 'canaryConfig[1].name', message: expect.stringMatching(/duplicate name/) },
    ]);
    const cli = await apply({
      ...valuesFile([{ name: 'backend-v3', tag: 'v3.0.0', weight: 10 }]),
      image: {},
    });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/image\.repository: no image repository for app catalogdetail/);

    const after = await route();
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.annotations).toEqual(before.metadata.annotations);
    expect(await names('deployments')).toEqual([
      'deployment.apps/catalogdetail-backend-v1',
      'deployment.apps/catalogdetail-backend-v2',
    ]);
  }, 60_000);

  it('drains a removed entry at weight 0, takes it off the route, then deletes its Deployment and Service', async () => {
    const seen: Record<string, number>[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = await weights().catch(() => undefined);
        if (now !== undefined && JSON.stringify(seen.at(-1)) !== JSON.stringify(now)) seen.push(now);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const started = Date.now();
    const result = await apply(valuesFile([{ name: 'backend-v2', tag: 'v2.0.0', weight: 100 }])).finally(
      () => (watching = false),
    );
    await watcher;
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(DRAIN_MS);
    expect(result.stdout).toMatch(/drained, then stopped backend-v1/);
    expect(seen).toEqual([
      { 'catalogdetail-backend-v1': 50, 'catalogdetail-backend-v2': 50 },
      { 'catalogdetail-backend-v1': 0, 'catalogdetail-backend-v2': 100 },
      { 'catalogdetail-backend-v2': 100 },
    ]);
    await pollFor(
      'backend-v1 Deployment and Service deleted',
      async () =>
        (await names('deployments')).length === 1 && (await names('services')).length === 1
          ? true
          : undefined,
      undefined,
      30_000,
    );
    expect(await names('deployments')).toEqual(['deployment.apps/catalogdetail-backend-v2']);
    expect(await names('services')).toEqual(['service/catalogdetail-backend-v2']);
  }, 90_000);

  it("rolls a changed tag over in place, and refuses a release whose HTTPRoute is a Canary's", async () => {
    const result = await apply(valuesFile([{ name: 'backend-v2', tag: 'v2.0.1', weight: 100 }]));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/updated backend-v2/);
    const deployment = await fixture.getJson<{
      spec: { template: { spec: { containers: { image: string }[] } } };
      status: { readyReplicas?: number; updatedReplicas?: number };
    }>(['deployment', 'catalogdetail-backend-v2']);
    expect(deployment.spec.template.spec.containers[0]!.image).toBe('example.invalid/catalog-backend:v2.0.1');
    expect(deployment.status).toMatchObject({ readyReplicas: 1, updatedReplicas: 1 });

    // The fixture's Canary podinfo owns the HTTPRoute podinfo.
    await pollFor(
      'the Canary HTTPRoute podinfo',
      () => fixture.getJson(['httproute', 'podinfo']).catch(() => undefined),
      undefined,
      30_000,
    );
    const before = await fixture.getJson<Route>(['httproute', 'podinfo']);
    const answer = await fetch(`${url()}/api/v1/apps/podinfo/release`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...valuesFile([{ name: 'v1', tag: 'v1.0.0', weight: 100 }]), app: 'podinfo' }),
    });
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect([answer.status, body.error.code]).toEqual([409, 'AVIARY_RELEASE_CONFLICT']);
    expect(body.error.message).toMatch(/HTTPRoute default\/podinfo exists and is not part of this release/);
    expect((await fixture.getJson<Route>(['httproute', 'podinfo'])).spec).toEqual(before.spec);
    expect(await fixture.run(['get', 'deployments', '-o', 'name'])).not.toMatch(/podinfo-v1/);
  }, 60_000);

  it('a restarted operator knows the release from the HTTPRoute', async () => {
    await fixture.operator.close();
    fixture.operator = await startOperator({
      kubeconfig: operatorKubeconfig,
      namespace: 'default',
      stateDir: join(dir, 'state-2'),
      controlApi: { port: 0, token: TOKEN },
    });
    const listed = await fetch(`${url()}/api/v1/releases`);
    expect(await listed.json()).toEqual([
      expect.objectContaining({
        app: 'catalogdetail',
        draining: [],
        versions: [expect.objectContaining({ name: 'backend-v2', tag: 'v2.0.1', weight: 100, share: 100 })],
      }),
    ]);
    const status = await runCli(['status', '--api', url()]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/catalogdetail/);
  }, 60_000);

  it('an operator stopped while draining leaves the entry at weight 0, and the next one finishes the drain', async () => {
    const both = await apply(
      valuesFile([
        { name: 'backend-v2', tag: 'v2.0.1', weight: 50 },
        { name: 'backend-v3', tag: 'v3.0.0', weight: 50 },
      ]),
    );
    expect(both.code, both.stderr).toBe(0);
    // This operator drains for the default 10 s: stopped in the middle of it.
    const pending = fetch(`${url()}/api/v1/apps/catalogdetail/release`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(valuesFile([{ name: 'backend-v3', tag: 'v3.0.0', weight: 100 }])),
    }).catch((error: unknown) => error);
    await pollFor(
      'backend-v2 at weight 0',
      async () => ((await weights())['catalogdetail-backend-v2'] === 0 ? true : undefined),
      undefined,
      30_000,
    );
    await fixture.operator.close();
    await pending;
    const left = await route();
    expect(JSON.parse(left.metadata.annotations['aviary.dev/release']!)).toMatchObject({
      draining: ['backend-v2'],
    });
    expect(await names('deployments')).toContain('deployment.apps/catalogdetail-backend-v2');

    fixture.operator = await startOperator({
      kubeconfig: operatorKubeconfig,
      namespace: 'default',
      stateDir: join(dir, 'state-3'),
      controlApi: { port: 0, token: TOKEN },
      releases: { drainMs: 500, readyTimeoutMs: 5_000 },
    });
    await pollFor(
      'backend-v2 deleted by the next operator',
      async () =>
        (await names('deployments')).join() === 'deployment.apps/catalogdetail-backend-v3' &&
        (await names('services')).join() === 'service/catalogdetail-backend-v3'
          ? true
          : undefined,
      undefined,
      30_000,
    );
    expect(await weights()).toEqual({ 'catalogdetail-backend-v3': 100 });
    expect(JSON.parse((await route()).metadata.annotations['aviary.dev/release']!)).toMatchObject({
      draining: [],
    });
  }, 90_000);

  it('undoes an edit whose entries do not roll out: a new one deleted, a changed one put back, the split kept', async () => {
    const before = await route();
    // No new pod can be scheduled on the cordoned node, so none becomes Ready.
    await fixture.run(['cordon', 'kwok-node-0']);
    try {
      const answer = await fetch(`${url()}/api/v1/apps/catalogdetail/release`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          valuesFile([
            { name: 'backend-v3', tag: 'v3.0.1', weight: 50 },
            { name: 'backend-v4', tag: 'v4.0.0', weight: 50 },
          ]),
        ),
      });
      const body = (await answer.json()) as { error: { code: string; message: string } };
      expect([answer.status, body.error.code]).toEqual([422, 'AVIARY_RELEASE_NOT_READY']);
      expect(body.error.message).toMatch(/entry "backend-v3" .* not rolled out within 5000 ms/);
    } finally {
      await fixture.run(['uncordon', 'kwok-node-0']);
    }
    expect((await route()).spec).toEqual(before.spec);
    await pollFor(
      'backend-v4 deleted',
      async () =>
        (await names('deployments')).join() === 'deployment.apps/catalogdetail-backend-v3' &&
        (await names('services')).join() === 'service/catalogdetail-backend-v3'
          ? true
          : undefined,
      undefined,
      30_000,
    );
    const v3 = await fixture.getJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>([
      'deployment',
      'catalogdetail-backend-v3',
    ]);
    expect(v3.spec.template.spec.containers[0]!.image).toBe('example.invalid/catalog-backend:v3.0.0');
  }, 60_000);
});
