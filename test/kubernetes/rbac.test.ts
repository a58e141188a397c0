/**
 * The operator's install manifests (deploy/kubernetes/operator) on a real API server: what
 * its ServiceAccount may and may not do, asked of the API server's RBAC authorizer with
 * `kubectl auth can-i --as`, then shown with a real token of that ServiceAccount through the
 * operator's own API client: it lists Canaries and creates Deployments, and is Forbidden on
 * Secrets and on deleting a Deployment outside the namespace it runs (where release files may
 * delete a removed entry's Deployment and Service, ADR 0024).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AviaryError } from '../../src/errors.js';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { KUBECTL, kubectl } from '../cluster/kubectl.js';
import { BASE_SPEC, canary } from './canary-cases.js';

const unavailable = await controlPlaneSkipReason();
const CRDS = fileURLToPath(new URL('../../deploy/kubernetes/crds', import.meta.url));
const OPERATOR = fileURLToPath(new URL('../../deploy/kubernetes/operator', import.meta.url));
const OPERATOR_USER = 'system:serviceaccount:aviary-system:aviary-operator';

/** `kubectl auth can-i` arguments (verb, resource, flags) and the answer expected. */
type Question = readonly [args: string, allowed: boolean];

const QUESTIONS: readonly Question[] = [
  ['watch canaries.aviary.dev', true],
  ['list canaries.aviary.dev --all-namespaces', true],
  ['patch canaries.aviary.dev', true],
  ['update canaries.aviary.dev', true],
  ['patch canaries.aviary.dev --subresource=status', true],
  ['update canaries.aviary.dev --subresource=status', true],
  ['update canaries.aviary.dev --subresource=finalizers', true],
  ['list metrictemplates.aviary.dev', true],
  ['watch alertproviders.aviary.dev', true],
  ['create deployments.apps', true],
  ['patch deployments.apps', true],
  ['watch deployments.apps', true],
  ['list replicasets.apps', true],
  ['watch replicasets.apps', true],
  ['create services', true],
  ['update services', true],
  ['create httproutes.gateway.networking.k8s.io', true],
  ['patch httproutes.gateway.networking.k8s.io', true],
  ['list gateways.gateway.networking.k8s.io --all-namespaces', true],
  ['watch pods', true],
  ['list endpointslices.discovery.k8s.io', true],
  ['create events', true],
  ['patch events.events.k8s.io', true],
  ['get leases.coordination.k8s.io -n aviary-system', true],
  ['update leases.coordination.k8s.io -n aviary-system', true],
  ['create leases.coordination.k8s.io -n aviary-system', true],

  ['get secrets', false],
  ['list secrets', false],
  ['watch secrets --all-namespaces', false],
  ['get secrets -n aviary-system', false],
  ['get configmaps', false],
  ['update configmaps', false],
  ['create configmaps', false],
  // Release files (ADR 0024): a removed entry's Deployment and Service, in the operator's namespace only.
  ['delete deployments.apps', true],
  ['delete services', true],
  ['delete deployments.apps -n kube-system', false],
  ['delete services -n aviary-system', false],
  ['delete deployments.apps --all-namespaces', false],
  ['deletecollection deployments.apps', false],
  ['deletecollection services', false],
  ['update replicasets.apps', false],
  ['delete httproutes.gateway.networking.k8s.io', false],
  ['update gateways.gateway.networking.k8s.io', false],
  ['create canaries.aviary.dev', false],
  ['delete canaries.aviary.dev', false],
  ['update metrictemplates.aviary.dev', false],
  ['delete alertproviders.aviary.dev', false],
  ['create pods', false],
  ['delete pods', false],
  ['create pods --subresource=exec', false],
  ['update leases.coordination.k8s.io', false],
  ['create leases.coordination.k8s.io --all-namespaces', false],
  ['delete leases.coordination.k8s.io -n aviary-system', false],
  ['list leases.coordination.k8s.io -n aviary-system', false],
  ['watch leases.coordination.k8s.io -n aviary-system', false],
  ['create clusterroles.rbac.authorization.k8s.io', false],
  ['create rolebindings.rbac.authorization.k8s.io -n aviary-system', false],
  ['impersonate serviceaccounts', false],
  ['create serviceaccounts --subresource=token -n aviary-system', false],
];

describe.skipIf(unavailable !== undefined)("The operator's RBAC on a real API server", () => {
  let plane: ControlPlane;
  let dir: string;
  let operatorKubeconfig: string;
  const run = (args: readonly string[], stdin?: string) => kubectl(plane.kubeconfig, args, stdin);

  /** Runs `kubectl auth can-i` as the operator; resolves with its exit code and answer. */
  const canI = (args: readonly string[]): Promise<{ code: number; answer: string }> =>
    new Promise((resolve) => {
      execFile(
        KUBECTL,
        [`--kubeconfig=${plane.kubeconfig}`, 'auth', 'can-i', `--as=${OPERATOR_USER}`, ...args],
        (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code), answer: stdout.trim() }),
      );
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-rbac-'));
    plane = await startControlPlane({ dir, extraCrds: [CRDS] });
    await run(['apply', '-f', OPERATOR]);
    const token = (await run(['create', 'token', 'aviary-operator', '-n', 'aviary-system'])).trim();
    operatorKubeconfig = join(dir, 'operator.kubeconfig');
    await writeFile(
      operatorKubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: aviary-test',
        `  cluster: {server: '${plane.server}', certificate-authority: '${plane.caFile}'}`,
        'users:',
        '- name: aviary-operator',
        `  user: {token: '${token}'}`,
        'contexts:',
        '- name: operator',
        '  context: {cluster: aviary-test, user: aviary-operator, namespace: default}',
        'current-context: operator',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }, 180_000);

  afterAll(async () => {
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it.each(QUESTIONS)('can-i %s: %s', async (question, allowed) => {
    const args = question.split(' ');
    if (!args.some((a) => a === '-n' || a === '--all-namespaces')) args.push('-n', 'default');
    const { code, answer } = await canI(args);
    expect({ code, answer }).toEqual(allowed ? { code: 0, answer: 'yes' } : { code: 1, answer: 'no' });
  });

  it('grants no Secrets and no wildcard in any rule, and delete only on Deployments and Services in one namespace', async () => {
    const documents = (await readFile(join(OPERATOR, '10-rbac.yaml'), 'utf8')).split(/^---$/m).map(
      (text) =>
        parse(text) as {
          kind: string;
          metadata: { name: string; namespace?: string };
          rules?: { resources: string[]; verbs: string[] }[];
        },
    );
    const rules = documents.flatMap((d) => d.rules ?? []);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.resources).not.toContain('secrets');
      expect(rule.resources).not.toContain('*');
      expect(rule.verbs).not.toContain('*');
      expect(rule.verbs).not.toContain('deletecollection');
    }
    const deleting = documents.filter((d) => (d.rules ?? []).some((rule) => rule.verbs.includes('delete')));
    expect(deleting.map((d) => [d.kind, d.metadata.name, d.metadata.namespace])).toEqual([
      ['Role', 'aviary-operator-releases', 'default'],
    ]);
    expect(deleting[0]!.rules).toEqual([
      expect.objectContaining({ resources: ['deployments'], verbs: ['delete'] }),
      expect.objectContaining({ resources: ['services'], verbs: ['delete'] }),
    ]);
  });

  it('runs the operator Deployment with its ServiceAccount (a KWOK pod; no container runs)', async () => {
    await run(['rollout', 'status', 'deployment/aviary-operator', '-n', 'aviary-system', '--timeout=90s']);
    const pods = JSON.parse(
      await run([
        'get',
        'pods',
        '-n',
        'aviary-system',
        '-l',
        'app.kubernetes.io/name=aviary-operator',
        '-o',
        'json',
      ]),
    ) as { items: { spec: { serviceAccountName: string; containers: { command: string[] }[] } }[] };
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0]?.spec.serviceAccountName).toBe('aviary-operator');
    expect(pods.items[0]?.spec.containers[0]?.command).toEqual([
      'node',
      '--max-old-space-size=128',
      'bin/aviary.js',
      'operator',
      '--namespace=default',
      '--state-dir=/var/lib/aviary',
      '--api-host=0.0.0.0',
    ]);
  });

  it('works with a real token of the ServiceAccount: Canaries and Deployments yes, Secrets and deletes elsewhere no', async () => {
    await run(['apply', '-f', '-'], JSON.stringify(canary('podinfo', BASE_SPEC)));
    await run(['create', 'secret', 'generic', 'db', '-n', 'default', '--from-literal=password=hunter2']);

    const listed = await kubectl(operatorKubeconfig, ['get', 'canaries.aviary.dev', '-A', '-o', 'name']);
    expect(listed.trim()).toBe('canary.aviary.dev/podinfo');
    const secrets = await kubectl(operatorKubeconfig, ['get', 'secrets', '-n', 'default']).catch(
      (error: unknown) => String(error),
    );
    expect(secrets).toMatch(
      /secrets is forbidden: User "system:serviceaccount:aviary-system:aviary-operator" cannot list resource "secrets"/,
    );

    const api = new KubeApi({ kubeconfig: operatorKubeconfig });
    const canaries = await api.list('aviary.dev/v1alpha1', 'Canary', 'default');
    expect(canaries.map((c) => c.metadata?.name)).toEqual(['podinfo']);
    const primary = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'podinfo-primary', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'podinfo-primary' } },
        template: {
          metadata: { labels: { app: 'podinfo-primary' } },
          spec: { containers: [{ name: 'app', image: 'example.invalid/podinfo:1' }] },
        },
      },
    };
    const created: KubernetesObject = await api.apply(primary);
    expect(created.metadata?.uid).toBeDefined();
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'podinfo-primary' };
    const elsewhere = { ...ref, namespace: 'kube-system' };
    const refused = await api.delete(elsewhere).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AviaryError);
    expect((refused as AviaryError).message).toMatch(/forbidden.*\(HTTP 403\)/i);
    const secret = await api
      .read({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'db' })
      .catch((error: unknown) => error);
    expect((secret as AviaryError).message).toMatch(/forbidden.*\(HTTP 403\)/i);
    expect(await run(['get', 'deployment', 'podinfo-primary', '-n', 'default', '-o', 'name'])).toMatch(
      'deployment.apps/podinfo-primary',
    );
  });
});
