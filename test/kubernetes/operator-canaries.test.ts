/**
 * Canaries the operator cannot run as written, end to end on the real test control plane
 * (issue 13, cases f on the cluster side, and i). A Canary naming a Deployment that does not
 * exist, or no Gateway, gets `Ready=False` naming the field, and the operator keeps running
 * its other Canaries; creating the Deployment makes it Ready and initialized. The seeds'
 * App Mesh Canary with only its `apiVersion` changed applies; it names no Gateway, so it is
 * reported, not guessed; once given one, it is driven, and the App Mesh fields the Gateway
 * API cannot carry are listed in `status.ignoredFields`.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startOperator, type Operator } from '../../src/operator/operator.js';
import type { HttpRoute } from '../../src/router/gateway-api/http-route.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { startGatewayController, type GatewayController } from './gateway-controller.js';
import { NS, OperatorFixture, type CanaryStatus } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();
const SEED = new URL('../fixtures/flagger-canary-seed.yaml', import.meta.url);
const SEED_NS = 'eks-blog1';

type Status = CanaryStatus & { ignoredFields?: { path: string; reason: string }[] };

/** A Deployment `name` in `namespace` serving on port `port`. */
function deployment(name: string, namespace = NS, port = 9898) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name, image: `example.invalid/${name}:1`, ports: [{ containerPort: port }] }],
        },
      },
    },
  };
}

/** A Canary `name` over the Deployment `target`, with `service` fields. */
function canary(name: string, target: string, service: Record<string, unknown>) {
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name, namespace: NS },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      service: { port: 9898, ...service },
      analysis: { interval: '10s', threshold: 2, stepWeight: 10, maxWeight: 50, judge: { enabled: false } },
    },
  };
}

describe.skipIf(unavailable !== undefined)('Canaries the operator cannot run as written', () => {
  const fixture = new OperatorFixture();
  let seedOperator: Operator | undefined;
  let seedGateway: GatewayController | undefined;
  let seedDir: string | undefined;

  beforeAll(
    () =>
      fixture.start({
        interval: '10s',
        threshold: 2,
        stepWeight: 10,
        maxWeight: 50,
        judge: { enabled: false },
      }),
    180_000,
  );
  afterAll(async () => {
    await seedOperator?.close();
    await seedGateway?.stop();
    await fixture.stop();
    if (seedDir !== undefined) await rm(seedDir, { recursive: true, force: true });
  }, 60_000);

  const statusOf = async (name: string, namespace = NS): Promise<Status> =>
    (await fixture.getJson<{ status?: Status }>(['canary', name, '-n', namespace])).status ?? {};
  /** Waits until the Canary's status satisfies `test`, showing the last status read if it never does. */
  const statusWhere = (name: string, what: string, test: (s: Status) => boolean, namespace = NS) => {
    let last: Status = {};
    return pollFor(
      `Canary ${namespace}/${name}: ${what}`,
      async () => ((last = await statusOf(name, namespace)), test(last) ? last : undefined),
      () => `status: ${JSON.stringify({ ...last, aviary: undefined })}`,
      90_000,
    );
  };
  const ready = (s: Status) => s.conditions?.find((c) => c.type === 'Ready');

  it('(f) a Canary naming a missing Deployment is Ready=False until the Deployment exists, then initialized', async () => {
    await fixture.phase('Initialized');
    // Flagger fields the CRD accepts but the operator does not apply: reported, not refused.
    const ghost = canary('ghost', 'ghost', {
      gatewayRefs: [{ name: 'edge' }],
      backendTimeout: '10s',
      trafficDistribution: 'PreferClose',
    });
    await fixture.apply({ ...ghost, spec: { ...ghost.spec, metricsServer: 'http://prometheus:9090' } });
    const refused = await statusWhere('ghost', 'Ready=False', (s) => ready(s)?.status === 'False');
    expect(ready(refused)).toMatchObject({ reason: 'InvalidCanary' });
    expect(ready(refused)?.message).toContain('spec.targetRef.name: Deployment default/ghost not found');
    expect(refused.phase).toBeUndefined();
    expect(fixture.operator.controller.apps()).toEqual(['podinfo']);

    await fixture.apply(deployment('ghost'));
    const running = await statusWhere('ghost', 'Initialized', (s) => s.phase === 'Initialized');
    expect(ready(running)).toMatchObject({ status: 'True' });
    expect(running.ignoredFields?.map((f) => f.path).sort()).toEqual([
      'spec.metricsServer',
      'spec.service.backendTimeout',
      'spec.service.trafficDistribution',
    ]);
    const primary = await fixture.getJson<{ spec: { template: { metadata: { labels: object } } } }>([
      'deployment',
      'ghost-primary',
    ]);
    expect(primary.spec.template.metadata.labels).toEqual({ app: 'ghost-primary' });
    expect((await fixture.status()).phase).toBe('Initialized');
  });

  it('(f) a Canary whose targetPort names no container port is Ready=False naming the ports there are; fixed, it runs', async () => {
    const ported = deployment('ported');
    const container = ported.spec.template.spec.containers[0]!;
    await fixture.apply({
      ...ported,
      spec: {
        ...ported.spec,
        template: {
          ...ported.spec.template,
          spec: { containers: [{ ...container, ports: [{ name: 'web', containerPort: 9898 }] }] },
        },
      },
    });
    await fixture.apply(
      canary('ported', 'ported', { gatewayRefs: [{ name: 'edge' }], targetPort: 'metrics' }),
    );
    const refused = await statusWhere('ported', 'Ready=False', (s) => ready(s)?.status === 'False');
    expect(ready(refused)?.message).toMatch(
      /spec\.service\.targetPort: no container port named "metrics" in the pod template of Deployment default\/ported; named ports: web \(9898\)/,
    );
    await fixture.apply(canary('ported', 'ported', { gatewayRefs: [{ name: 'edge' }], targetPort: 'web' }));
    await statusWhere('ported', 'Initialized', (s) => s.phase === 'Initialized');
    const service = await fixture.getJson<{ spec: { ports: { targetPort: unknown }[] } }>([
      'service',
      'ported-primary',
    ]);
    expect(service.spec.ports[0]?.targetPort).toBe('web');
  });

  it('(f) a Canary with no Gateway in service.gatewayRefs applies, and is Ready=False naming that field', async () => {
    await fixture.apply(deployment('lonely'));
    await fixture.apply(canary('lonely', 'lonely', { gatewayRefs: [] }));
    const refused = await statusWhere('lonely', 'Ready=False', (s) => ready(s)?.status === 'False');
    expect(ready(refused)?.message).toContain('spec.service.gatewayRefs: expected at least one Gateway');
    expect(fixture.operator.controller.apps()).not.toContain('lonely');
  });

  it('(i) the seeds’ App Mesh Canary, apiVersion changed: applied, Gateway asked for, then driven with its ignored fields listed', async () => {
    const seed = parse(await readFile(SEED, 'utf8')) as { apiVersion: string };
    seed.apiVersion = 'aviary.dev/v1alpha1';
    await fixture.run(['create', 'namespace', SEED_NS]);
    await fixture.apply(deployment('webapp', SEED_NS, 80));
    await fixture.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'edge', namespace: SEED_NS },
      spec: { gatewayClassName: 'test', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    });
    seedGateway = startGatewayController(fixture.plane.kubeconfig, SEED_NS);
    seedDir = await mkdtemp(join(tmpdir(), 'aviary-seed-operator-'));
    seedOperator = await startOperator({
      kubeconfig: fixture.plane.kubeconfig,
      namespace: SEED_NS,
      stateDir: seedDir,
      maxTickMs: 250,
    });
    expect(await fixture.apply(seed)).toMatch(/canary.aviary.dev\/webapp created/);

    // App Mesh routes by mesh membership; a Gateway API route needs a parent, and neither
    // Flagger nor Gateway API defaults one, so the Canary says which field to set.
    const refused = await statusWhere('webapp', 'Ready=False', (s) => ready(s)?.status === 'False', SEED_NS);
    expect(ready(refused)?.message).toMatch(
      /^spec\.service\.gatewayRefs: expected at least one Gateway for the HTTPRoute; .*name the Gateway/,
    );

    await fixture.run([
      'patch',
      'canary',
      'webapp',
      '-n',
      SEED_NS,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { service: { gatewayRefs: [{ name: 'edge' }] } } }),
    ]);
    const running = await statusWhere('webapp', 'Initialized', (s) => s.phase === 'Initialized', SEED_NS);
    expect(ready(running)).toMatchObject({ status: 'True' });
    const ignored = Object.fromEntries((running.ignoredFields ?? []).map((f) => [f.path, f.reason]));
    expect(Object.keys(ignored).sort()).toEqual([
      'spec.provider',
      'spec.service.match',
      'spec.service.retries.attempts',
      'spec.service.retries.retryOn',
    ]);
    expect(ignored['spec.provider']).toMatch(/Gateway API/);

    const route = await fixture.getJson<HttpRoute>(['httproute', 'webapp', '-n', SEED_NS]);
    const rule = route.spec.rules.at(-1);
    expect(rule?.timeouts).toEqual({ request: '15s', backendRequest: '5s' });
    expect(rule?.filters).toEqual([
      { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
    ]);
    expect(Object.fromEntries(rule!.backendRefs.map((r) => [r.name, r.weight]))).toEqual({
      'webapp-primary': 100,
      'webapp-canary': 0,
    });
  });
});
