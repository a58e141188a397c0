/**
 * `aviary operator` as a user runs it, in its own process, for the tests that kill, stop or
 * restart it: its stdout lines kept (the leader-election log, the control API's URL), and its
 * control API's /metrics read over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pollFor } from '../support/poll.js';

/** A running `aviary operator` process. */
export class OperatorProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  /** Starts `aviary operator` with `args` (besides the kubeconfig, namespace `default` and a free API port). */
  constructor(kubeconfig: string, stateDir: string, args: readonly string[] = []) {
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'operator',
        `--kubeconfig=${kubeconfig}`,
        '--namespace=default',
        `--state-dir=${stateDir}`,
        '--min-interval=1s',
        '--api-port=0',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.lines.push(line));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The first stdout line matching `pattern`, once it is printed. */
  line(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> {
    return pollFor(
      `operator line ${pattern}`,
      () => Promise.resolve(this.lines.map((l) => pattern.exec(l)).find((m) => m !== null) ?? undefined),
      () => `its output: ${this.lines.join(' | ')}`,
      timeoutMs,
    );
  }

  /** Its leader-election identity, from `leading as` or `standby as`. */
  async identity(): Promise<string> {
    return (await this.line(/(?:leading|standby) as (\S+?):?(?: \(|$| )/))[1]!;
  }

  /** Its control API's /metrics, once it serves one (only a leader does). */
  async metrics(): Promise<string> {
    const url = (await this.line(/control API on (http:\/\/\S+)/))[1]!;
    return (await fetch(`${url}/metrics`)).text();
  }

  /** kill -9, resolving once it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** The value of a Prometheus sample `name{labels}` in `text`, 0 when absent. */
export function sampleOf(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
