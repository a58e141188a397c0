/**
 * Child processes of the proxy bench: each one pinned to a core with `taskset`, started in
 * its own process group so the whole group (wrappers and grandchildren alike) dies on
 * cleanup, even when the bench fails or is interrupted. Also reads per-process CPU time
 * from /proc so a run can report CPU microseconds per request, which stays meaningful when
 * other work shares the machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

/** A started child; `stop()` kills its process group. */
export interface PinnedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far (for error messages). */
  output(): string;
  /** Resolves with the first stdout/stderr line matching `pattern`, rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

const running = new Set<PinnedProcess>();

/** True when `command` is on the PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('which', [command], { stdio: 'ignore' }).status === 0;
}

/**
 * With Linux autogroup scheduling (sched(7)) CPU is shared between sessions first, so a
 * child in its own session gains nothing from `nice` alone; the session's autogroup gets the
 * same adjustment. Best effort: kernels without autogroup lack the file.
 */
function reniceAutogroup(pid: number, nice: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // No autogroup on this kernel, or not permitted.
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Scheduling of the bench's children: the core to pin to and an optional `nice` adjustment. */
export interface Placement {
  readonly core: number | undefined;
  /** Added with `nice -n` (negative needs root); 0 leaves the priority alone. */
  readonly nice: number;
}

/**
 * Starts `command args` pinned to `placement.core` (not pinned when undefined or taskset is
 * missing), reniced by `placement.nice`. Never goes through a shell; `nice` and `taskset`
 * exec the command, so the pid is the command's own.
 */
export function startPinned(
  name: string,
  placement: Placement,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): PinnedProcess {
  let argv = [command, ...args];
  if (placement.core !== undefined && hasCommand('taskset'))
    argv = ['taskset', '-c', String(placement.core), ...argv];
  if (placement.nice !== 0) argv = ['nice', '-n', String(placement.nice), ...argv];
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    shell: false,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  if (placement.nice !== 0) reniceAutogroup(pid, placement.nice);
  let text = '';
  const listeners = new Set<(line: string) => void>();
  let pending = '';
  const onChunk = (chunk: Buffer): void => {
    const s = chunk.toString('utf8');
    if (text.length < 64 * 1024) text += s;
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) for (const listener of listeners) listener(line);
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: PinnedProcess = {
    name,
    pid,
    child,
    output: () => text,
    waitForLine: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const done = (): void => {
          listeners.delete(onLine);
          clearTimeout(timer);
        };
        const onLine = (line: string): void => {
          const match = pattern.exec(line);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no line matching ${String(pattern)} within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        listeners.add(onLine);
        for (const line of text.split('\n')) onLine(line);
        void exited.then(() => {
          if (!listeners.has(onLine)) return;
          done();
          reject(new Error(`${name} exited (code ${String(child.exitCode)}):\n${text}`));
        });
      }),
    stop: async () => {
      running.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      // Anything the group left behind.
      killGroup(pid, 'SIGKILL');
    },
  };
  running.add(proc);
  return proc;
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Synchronous last resort on process exit: SIGKILL to every group still registered. */
export function killAllNow(): void {
  for (const proc of running) killGroup(proc.pid, 'SIGKILL');
  running.clear();
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds, polling until `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** CPU time (user + system) of one process in milliseconds, from /proc/PID/stat. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ; 100 on every Linux this bench targets (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

/** Busy and steal time of one core (ms since boot), from /proc/stat. */
export function coreTimesMs(core: number): { busy: number; steal: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${core} `));
    if (!line) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const values = [user, nice, system, idle, iowait, irq, softirq, steal].map((v) => v ?? 0);
    const toMs = (t: number): number => (t * 1000) / CLOCK_TICKS;
    const [u, n, s, i, w, q, sq, st] = values as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    return { busy: toMs(u + n + s + q + sq), steal: toMs(st), total: toMs(u + n + s + i + w + q + sq + st) };
  } catch {
    return undefined;
  }
}

/** A loopback port free right now (for programs such as HAProxy that cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
