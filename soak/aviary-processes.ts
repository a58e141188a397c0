/**
 * Aviary's processes and what each holds, read from /proc (proc(5)): the controller the soak
 * started and every process below it that runs the `aviary` CLI (the supervised
 * `aviary proxy`, any other), told apart from the apps' replicas by their command line.
 * Resident memory is `VmRSS` of /proc/<pid>/status; open descriptors are the entries of
 * /proc/<pid>/fd, established TCP connections counted apart.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** One Aviary process: its pid and what it runs (`up`, `proxy`, …: the CLI's command). */
export interface AviaryProcess {
  readonly pid: number;
  readonly role: string;
}

/** What one process held when sampled. */
export interface ProcessUse {
  readonly rssBytes: number;
  /** Open descriptors other than established TCP connections. */
  readonly fds: number;
  /** Open descriptors that are established TCP connections (keep-alive pools, clients). */
  readonly connections: number;
}

/** The parent pid of `pid`, from /proc/<pid>/stat (its command may hold spaces and parentheses). */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[1]);
}

async function commandLine(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return text.split('\0').filter((arg) => arg !== '');
}

/** Every live process below `root` (children, grandchildren, …). */
async function descendants(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = await parentOf(pid);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * The CLI command `argv` runs when it is Node (`node`, the executable) running `script`
 * (`bin/aviary.js`): `up`, `proxy`, …; undefined for another program, or for a wrapper such
 * as `timeout` that names them in its own arguments.
 */
export function aviaryRole(argv: readonly string[], script: string, node: string): string | undefined {
  const at = argv.indexOf(script);
  if (argv[0] !== node || at === -1) return undefined;
  return argv.slice(at + 1).find((arg) => !arg.startsWith('-')) ?? 'aviary';
}

/** `root` and the processes below it that run `script` on this Node, each with its role. */
export async function aviaryProcesses(root: number, script: string): Promise<AviaryProcess[]> {
  const found: AviaryProcess[] = [];
  for (const pid of [root, ...(await descendants(root))]) {
    const role = aviaryRole(await commandLine(pid), script, process.execPath);
    if (role !== undefined) found.push({ pid, role });
  }
  return found;
}

/**
 * The inodes of the established TCP sockets of this network namespace (/proc/net/tcp and
 * tcp6: state 01). A connection is kept open on purpose while its peer lives; a leaked one
 * shows in another state (CLOSE_WAIT once the peer has gone), so it stays among the fds.
 */
export async function establishedSockets(): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '01' && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** What `pid` holds now, its connections told by `established`; undefined once it has exited. */
export async function processUse(pid: number, established: Set<string>): Promise<ProcessUse | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb === undefined) return undefined;
    const targets = await Promise.all(
      (await readdir(`/proc/${pid}/fd`)).map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
    );
    const connections = targets.filter((t) =>
      established.has(/^socket:\[(\d+)\]$/.exec(t)?.[1] ?? ''),
    ).length;
    return { rssBytes: Number(kb) * 1024, fds: targets.length - connections, connections };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive (not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}
