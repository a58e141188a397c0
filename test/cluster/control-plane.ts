/**
 * A real Kubernetes control plane for tests, on loopback only: etcd (fsync off), the
 * kube-apiserver (a static admin token, RBAC, a self-signed serving certificate and a
 * service-account signing key), kube-controller-manager (Deployments → ReplicaSets → Pods,
 * garbage collection, EndpointSlices, service accounts and their tokens), kube-scheduler,
 * and KWOK, which plays the kubelet of one fake node: it marks the pods bound there Running
 * and Ready with an IP. KWOK is the only simulated part; see test/cluster/README.md.
 *
 * `startControlPlane` returns once the API server is ready, the CRDs (Gateway API's standard
 * channel and `extraCrds`) are established and the node is Ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clusterBinaries, moduleDir, type ClusterBinaries } from './binaries.js';
import { kubectl } from './kubectl.js';
import { freePort, httpsStatus, stopChild, waitUntil } from './processes.js';

/** A started control plane. */
export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The admin's bearer token (group system:masters). */
  readonly token: string;
  /** A kubeconfig for the admin, for kubectl and clients. */
  readonly kubeconfig: string;
  /** The serving certificate's chain (a CA for clients). */
  readonly caFile: string;
  /** etcd's client URL (http://127.0.0.1:<port>), e.g. for its /metrics. */
  readonly etcdUrl: string;
  readonly dir: string;
  /** Process ids by component, for cluster:down and for tests that kill one. */
  readonly pids: Readonly<Record<Component, number>>;
  /** Stops the API server and starts it again on the same port and data (a watch interrupted). */
  restartApiServer(): Promise<void>;
  /** Stops every component (SIGTERM, then SIGKILL), newest first. */
  stop(): Promise<void>;
}

export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Working directory (data, certificates, logs); must exist and be empty or absent. */
  readonly dir: string;
  /** CRD files or directories to install besides Gateway API's. */
  readonly extraCrds?: readonly string[];
  /** Start the components in their own process groups and let them outlive this process (cluster:up). */
  readonly detached?: boolean;
  /** More kube-apiserver flags, after the defaults (e.g. `--etcd-compaction-interval=2s`). */
  readonly apiServerArgs?: readonly string[];
}

/** The fake node's name; KWOK manages it (annotation kwok.x-k8s.io/node=fake). */
export const NODE_NAME = 'kwok-node-0';

function kubeconfigYaml(server: string, caFile: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: aviary-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: aviary-test',
    '  context: {cluster: aviary-test, user: admin, namespace: default}',
    'current-context: aviary-test',
    '',
  ].join('\n');
}

/** KWOK's fake node, with room for many pods. */
const NODE_MANIFEST = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: NODE_NAME,
    annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', type: 'kwok' },
  },
  status: {
    allocatable: { cpu: '64', memory: '256Gi', pods: '2000' },
    capacity: { cpu: '64', memory: '256Gi', pods: '2000' },
  },
});

/** KWOK's stages from its module at the pinned version: nodes Ready with leases, pods Ready and deleted. */
async function kwokStages(): Promise<string> {
  const root = join(await moduleDir('kwok', 'sigs.k8s.io/kwok'), 'kustomize', 'stage');
  const files = [
    'node/fast/node-initialize.yaml',
    'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
  ];
  const docs = await Promise.all(files.map((f) => readFile(join(root, f), 'utf8')));
  return docs.map((d) => d.trim()).join('\n---\n') + '\n';
}

/** Starts etcd, the API server, the controllers, the scheduler and KWOK; see the module comment. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const binaries = await clusterBinaries();
  const dir = options.dir;
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'certs'), { recursive: true });
  const children = new Map<Component, ChildProcess>();
  const logOf = (name: Component) => join(dir, 'logs', `${name}.log`);
  const startProcess = (name: Component, program: string, args: readonly string[]): ChildProcess => {
    const fd = openSync(logOf(name), 'a');
    const child = spawn(program, args, { stdio: ['ignore', fd, fd], detached: options.detached === true });
    closeSync(fd);
    if (options.detached === true) child.unref();
    children.set(name, child);
    return child;
  };
  const stop = async (): Promise<void> => {
    const order: Component[] = [
      'kwok',
      'kube-scheduler',
      'kube-controller-manager',
      'kube-apiserver',
      'etcd',
    ];
    for (const name of order) await stopChild(children.get(name));
  };

  try {
    const token = randomBytes(24).toString('hex');
    await writeFile(join(dir, 'tokens.csv'), `${token},aviary-admin,aviary-admin,"system:masters"\n`, {
      mode: 0o600,
    });
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    await writeFile(join(dir, 'sa.key'), keys.privateKey, { mode: 0o600 });
    await writeFile(join(dir, 'sa.pub'), keys.publicKey);

    const etcdPort = await freePort();
    const peerPort = await freePort();
    const etcd = startProcess('etcd', binaries.etcd, [
      '--name=aviary-test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=aviary-test=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitUntil(
      'etcd',
      async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok,
      etcd,
      logOf('etcd'),
    );

    const apiPort = await freePort();
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = join(dir, 'certs', 'apiserver.crt');
    const apiArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The endpoint reconciler refuses loopback addresses; the tests need no kubernetes Service endpoints.
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--anonymous-auth=false',
      '--profiling=false',
      '--v=0',
      ...(options.apiServerArgs ?? []),
    ];
    const startApi = async (): Promise<void> => {
      const api = startProcess('kube-apiserver', binaries.kubeApiserver, apiArgs);
      await waitUntil(
        'kube-apiserver /readyz',
        async () => (await httpsStatus(`${server}/readyz`, await readFile(caFile), token)) === 200,
        api,
        logOf('kube-apiserver'),
      );
    };
    await startApi();
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, caFile, token), { mode: 0o600 });

    startProcess('kube-controller-manager', binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--root-ca-file=${caFile}`,
      '--use-service-account-credentials=false',
      // KWOK's node has no kubelet: under load its heartbeats can come late, and the node
      // lifecycle controller would then mark every pod NotReady for good (KWOK does not make
      // them Ready again). It stays on (it lifts the new node's not-ready taint), but waits
      // long before it believes a node lost: nothing in the tests depends on that.
      '--node-monitor-grace-period=10m',
      '--v=0',
    ]);
    startProcess('kube-scheduler', binaries.kubeScheduler, [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--v=0',
    ]);
    await writeFile(join(dir, 'kwok.yaml'), await kwokStages());
    startProcess('kwok', binaries.kwok, [
      `--kubeconfig=${kubeconfig}`,
      `--config=${join(dir, 'kwok.yaml')}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.0/16',
      '--node-ip=127.0.0.1',
      // Renew the node's Lease, as a kubelet does (the heartbeat-with-lease stage).
      '--node-lease-duration-seconds=40',
    ]);

    const gatewayCrds = join(
      await moduleDir('gateway-api', 'sigs.k8s.io/gateway-api'),
      'config',
      'crd',
      'standard',
    );
    for (const path of [gatewayCrds, ...(options.extraCrds ?? [])]) {
      await kubectl(kubeconfig, ['apply', '--server-side', '--field-manager=aviary-test', '-f', path]);
    }
    await kubectl(kubeconfig, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await kubectl(
      kubeconfig,
      ['apply', '--server-side', '--field-manager=aviary-test', '-f', '-'],
      NODE_MANIFEST,
    );
    await kubectl(kubeconfig, ['wait', '--for=condition=Ready', `node/${NODE_NAME}`, '--timeout=60s']);

    const pids = () =>
      Object.fromEntries([...children].map(([name, child]) => [name, child.pid ?? -1])) as Record<
        Component,
        number
      >;
    return {
      server,
      token,
      kubeconfig,
      caFile,
      etcdUrl: `http://127.0.0.1:${etcdPort}`,
      dir,
      get pids() {
        return pids();
      },
      async restartApiServer() {
        await stopChild(children.get('kube-apiserver'));
        await startApi();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export type { ClusterBinaries };
