/**
 * `npm run cluster:up` / `cluster:down`: the test control plane (control-plane.ts) for a
 * person at a shell. `up` starts it detached in $AVIARY_CLUSTER_DIR (default
 * <tmp>/aviary-cluster), records the processes in state.json and prints the kubeconfig;
 * `down` stops them and removes the directory. Loopback only.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneUnavailable } from './binaries.js';
import { startControlPlane, type Component } from './control-plane.js';

const dir = process.env.AVIARY_CLUSTER_DIR ?? join(tmpdir(), 'aviary-cluster');
const stateFile = join(dir, 'state.json');

interface State {
  readonly server: string;
  readonly kubeconfig: string;
  readonly pids: Record<Component, number>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readState(): Promise<State | undefined> {
  try {
    return JSON.parse(await readFile(stateFile, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

async function up(): Promise<void> {
  const existing = await readState();
  if (existing !== undefined && Object.values(existing.pids).some(alive)) {
    console.log(`cluster already up at ${existing.server}\nexport KUBECONFIG=${existing.kubeconfig}`);
    return;
  }
  const missing = await controlPlaneUnavailable();
  if (missing !== undefined) throw new Error(missing);
  await rm(dir, { recursive: true, force: true });
  const started = Date.now();
  const plane = await startControlPlane({ dir, detached: true });
  const state: State = { server: plane.server, kubeconfig: plane.kubeconfig, pids: plane.pids };
  await writeFile(stateFile, JSON.stringify(state, null, 2));
  console.log(
    `cluster up at ${plane.server} in ${((Date.now() - started) / 1000).toFixed(1)} s (logs in ${dir}/logs)`,
  );
  console.log(`export KUBECONFIG=${plane.kubeconfig}`);
}

async function down(): Promise<void> {
  const state = await readState();
  if (state !== undefined) {
    for (const pid of Object.values(state.pids)) if (alive(pid)) process.kill(-pid, 'SIGTERM');
    const gone = async (ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (Object.values(state.pids).some(alive) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return !Object.values(state.pids).some(alive);
    };
    if (!(await gone(20_000))) {
      for (const pid of Object.values(state.pids)) if (alive(pid)) process.kill(-pid, 'SIGKILL');
      if (!(await gone(10_000))) throw new Error(`processes still running: ${JSON.stringify(state.pids)}`);
    }
  }
  await rm(dir, { recursive: true, force: true });
  console.log(state === undefined ? `no cluster in ${dir}` : 'cluster down');
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else {
  console.error('usage: tsx test/cluster/cli.ts up|down');
  process.exitCode = 2;
}
