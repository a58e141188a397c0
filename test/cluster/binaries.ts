/**
 * Where the test control plane's programs are: built by `test/cluster/build.sh` from the Go
 * module proxy into `$AVIARY_CLUSTER_CACHE` (default ~/.cache/aviary-cluster), one directory
 * per version, the versions read from the wrapper modules' go.mod files under `go/`. Also the
 * data files those modules carry (Gateway API CRDs, KWOK's stages), found with
 * `go mod download -json`, so they come from the same proxy at the pinned version.
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HERE = new URL('.', import.meta.url).pathname;

/** Paths of the programs, by name. */
export interface ClusterBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kwok: string;
  readonly kubernetesVersion: string;
}

/** The version a wrapper module under `go/<dir>` requires of `module`. */
export async function pinnedVersion(dir: string, module: string): Promise<string> {
  const goMod = await readFile(join(HERE, 'go', dir, 'go.mod'), 'utf8');
  const line = goMod.split('\n').find((l) => l.startsWith(`require ${module} `));
  const version = line?.split(' ')[2];
  if (version === undefined)
    throw new Error(`test/cluster/go/${dir}/go.mod: no "require ${module} vX.Y.Z" line`);
  return version;
}

/** The cached programs, by the versions the wrapper modules pin. */
export async function clusterBinaries(): Promise<ClusterBinaries> {
  const cache = process.env.AVIARY_CLUSTER_CACHE ?? join(homedir(), '.cache', 'aviary-cluster');
  const k8s = await pinnedVersion('kubernetes', 'k8s.io/kubernetes');
  const etcd = await pinnedVersion('etcd', 'go.etcd.io/etcd/server/v3');
  const kwok = await pinnedVersion('kwok', 'sigs.k8s.io/kwok');
  const kube = (name: string) => join(cache, `kubernetes-${k8s}`, name);
  return {
    etcd: join(cache, `etcd-${etcd}`, 'etcd'),
    kubeApiserver: kube('kube-apiserver'),
    kubeControllerManager: kube('kube-controller-manager'),
    kubeScheduler: kube('kube-scheduler'),
    kwok: join(cache, `kwok-${kwok}`, 'kwok'),
    kubernetesVersion: k8s,
  };
}

/**
 * Why the control plane cannot start here (a program not built, kubectl or go missing), or
 * undefined when it can: the reason a suite gives when it skips.
 */
export async function controlPlaneUnavailable(): Promise<string | undefined> {
  const binaries = await clusterBinaries();
  const programs = [
    binaries.etcd,
    binaries.kubeApiserver,
    binaries.kubeControllerManager,
    binaries.kubeScheduler,
    binaries.kwok,
    '/usr/bin/kubectl',
  ];
  for (const path of programs) {
    try {
      await access(path, constants.X_OK);
    } catch {
      return `${path} is missing: run bash test/cluster/build.sh (.ci/run does; it needs go and the Go module proxy)`;
    }
  }
  return undefined;
}

/** The directory of `module` at the version the wrapper module under `go/<dir>` requires. */
export async function moduleDir(dir: string, module: string): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', module], { cwd: join(HERE, 'go', dir) });
  const answer = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (answer.Dir === undefined) throw new Error(`go mod download ${module}: ${answer.Error ?? 'no Dir'}`);
  return answer.Dir;
}

/**
 * {@link controlPlaneUnavailable} for a suite deciding whether to skip: under
 * `AVIARY_K8S_REQUIRED=1` a control plane that cannot start is an error, not a skip.
 */
export async function controlPlaneSkipReason(): Promise<string | undefined> {
  const reason = await controlPlaneUnavailable();
  if (reason !== undefined && process.env.AVIARY_K8S_REQUIRED === '1')
    throw new Error(`AVIARY_K8S_REQUIRED=1 but the control plane cannot start: ${reason}`);
  return reason;
}
