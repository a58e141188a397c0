/**
 * `aviary operator` as a user runs it (`node bin/aviary.js operator`, the compiled CLI, with
 * the defaults of its flags and the Node flags of the shipped Deployment), in its
 * own process group so cleanup takes it down even when the bench fails: its memory from
 * /proc/<pid>/status, and its API request counts from its control API's /metrics when the
 * CLI has `--api-port`, else from the API server's /metrics (request-counts.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../../test/cluster/processes.js';
import {
  apiserverOperatorWrites,
  operatorCounts,
  type CountSource,
  type RequestCount,
} from './request-counts.js';

const CLI = fileURLToPath(new URL('../../bin/aviary.js', import.meta.url));
const MANIFEST = fileURLToPath(
  new URL('../../deploy/kubernetes/operator/20-deployment.yaml', import.meta.url),
);

/**
 * The Node flags the shipped Deployment gives the operator (between `node` and
 * `bin/aviary.js` in its container's command, e.g. the heap cap), so the bench runs the
 * operator as a cluster user gets it.
 */
export function manifestNodeFlags(): string[] {
  const manifest = parseYaml(readFileSync(MANIFEST, 'utf8')) as {
    spec?: { template?: { spec?: { containers?: Array<{ name?: string; command?: string[] }> } } };
  };
  const command = manifest.spec?.template?.spec?.containers?.find((c) => c.name === 'operator')?.command;
  const cli = command?.indexOf('bin/aviary.js') ?? -1;
  if (command?.[0] !== 'node' || cli < 0)
    throw new Error(`${MANIFEST}: expected the operator container's command to run node bin/aviary.js`);
  return command.slice(1, cli);
}

/** Where the operator's control plane is. */
export interface OperatorProcessOptions {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly stateDir: string;
  /** The operator's output goes here. */
  readonly logFile: string;
  /** The API server, its CA file and an admin token, for the fallback count. */
  readonly apiServer: { readonly server: string; readonly caFile: string; readonly token: string };
}

/** Memory of a process from /proc/<pid>/status, in MB; undefined once it has exited. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** True when this build's `aviary operator` serves a control API (`--api-port`). */
export function operatorHasApiPort(): boolean {
  const help = spawnSync(process.execPath, [CLI, 'operator', '--help'], { encoding: 'utf8' });
  return help.stdout.includes('--api-port');
}

function httpsGet(url: string, ca: Buffer, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.end();
  });
}

/** A running `aviary operator`. */
export class OperatorProcess {
  readonly child: ChildProcess;
  #countSource: CountSource;
  readonly #options: OperatorProcessOptions;
  readonly #apiPort: number | undefined;
  readonly #token = randomBytes(18).toString('base64url');
  #exited = false;

  private constructor(options: OperatorProcessOptions, apiPort: number | undefined) {
    this.#options = options;
    this.#apiPort = apiPort;
    this.#countSource = apiPort === undefined ? 'apiserver' : 'operator';
    const fd = openSync(options.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [
        ...manifestNodeFlags(),
        CLI,
        'operator',
        `--kubeconfig=${options.kubeconfig}`,
        `--namespace=${options.namespace}`,
        `--state-dir=${options.stateDir}`,
        ...(apiPort !== undefined ? [`--api-port=${apiPort}`] : []),
      ],
      {
        stdio: ['ignore', fd, fd],
        detached: true,
        env: { ...process.env, AVIARY_TOKEN: this.#token },
      },
    );
    closeSync(fd);
    this.child.once('exit', () => (this.#exited = true));
  }

  /** Starts the operator; resolves once it says it runs the namespace's Canaries. */
  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    const apiPort = operatorHasApiPort() ? await freePort() : undefined;
    const operator = new OperatorProcess(options, apiPort);
    const deadline = Date.now() + 60_000;
    while (!(await readFile(options.logFile, 'utf8')).includes('aviary operator: running')) {
      if (operator.#exited || Date.now() > deadline) {
        const log = (await readFile(options.logFile, 'utf8')).split('\n').slice(-20).join('\n');
        await operator.stop();
        throw new Error(`aviary operator did not start; last lines of ${options.logFile}:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A control API whose /metrics lacks the KubeApi counter (a build from before it was
    // wired in) counts nothing: the API server's count is used instead, and the report says so.
    if (operator.#apiPort !== undefined) {
      const text = await operator.#operatorMetrics().catch(() => '');
      if (!text.includes('aviary_kube_api_requests_total')) operator.#countSource = 'apiserver';
    }
    return operator;
  }

  /** Where {@link requestCounts} comes from: the operator's own counter or the API server's. */
  get countSource(): CountSource {
    return this.#countSource;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The operator's API requests so far, from the source in {@link countSource}. */
  async requestCounts(): Promise<RequestCount[]> {
    if (this.#countSource === 'operator') return operatorCounts(await this.#operatorMetrics());
    const { server, caFile, token } = this.#options.apiServer;
    return apiserverOperatorWrites(await httpsGet(`${server}/metrics`, await readFile(caFile), token));
  }

  async #operatorMetrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.#apiPort}/metrics`, {
      headers: { authorization: `Bearer ${this.#token}` },
    });
    if (!response.ok) throw new Error(`operator /metrics: HTTP ${response.status}`);
    return response.text();
  }

  /** SIGTERM to the process group, SIGKILL after 10 s; resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.#exited || this.child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-this.child.pid!, signal);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
