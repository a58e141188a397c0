/**
 * HAProxy's CLI over a unix socket (the master CLI and the Runtime API), and the Runtime API
 * commands that take a running worker from one plan to another of the same structure:
 * `set server <b>/<s> addr|weight|state` (https://docs.haproxy.org/2.6/management.html#9.3).
 */
import { createConnection } from 'node:net';
import { AviaryError } from '../../errors.js';
import type { AppPlan, BackendPlan, ServerSlot } from './haproxy-plan.js';

/**
 * Sends one line of `;`-separated commands in non-interactive mode (then half-closes: the
 * master CLI answers but keeps the connection open until the client closes its side) and resolves with what
 * HAProxy answered before closing the connection.
 */
export function cliCommand(socketPath: string, line: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    const onAbort = () => socket.destroy(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${socketPath} within 10 s`)));
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    socket.on('close', (hadError) => {
      signal?.removeEventListener('abort', onAbort);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Lines `set server` answers on success; anything else is an error. */
const ACCEPTED =
  /^(|IP changed from .*|no need to change the addr.*|port changed from .*|IP changed from .* port changed from .*)$/;

/**
 * Sends commands to one worker through the master CLI (`@!<pid>` prefixes each command, so a
 * worker that is leaving after a reload never takes them).
 * @throws AviaryError `AVIARY_ROUTER_UNAVAILABLE` with HAProxy's answer when a command failed.
 */
export async function runtimeCommands(
  masterSocket: string,
  workerPid: number,
  commands: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  if (commands.length === 0) return;
  const answer = await cliCommand(
    masterSocket,
    commands.map((c) => `@!${workerPid} ${c}`).join('; '),
    signal,
  );
  const refused = answer.split('\n').filter((line) => !ACCEPTED.test(line.trim()));
  if (refused.length > 0)
    throw new AviaryError(
      'AVIARY_ROUTER_UNAVAILABLE',
      `HAProxy's Runtime API refused a change: ${refused.join(' | ')} (commands: ${commands.join('; ')})`,
    );
}

function slotCommands(
  backend: string,
  before: ServerSlot | undefined,
  after: ServerSlot,
): {
  up: string[];
  down: string[];
} {
  const target = `${backend}/${after.name}`;
  const up: string[] = [];
  const down: string[] = [];
  const moved =
    after.address &&
    (before?.address?.host !== after.address.host || before.address.port !== after.address.port);
  if (moved) {
    // A slot that changes address leaves service first, so no request reaches the old
    // address under the new weight (or the reverse).
    if (before?.ready) up.push(`set server ${target} state maint`);
    up.push(`set server ${target} addr ${after.address.host} port ${after.address.port}`);
    up.push(`set server ${target} weight ${after.weight}`);
    if (after.ready) up.push(`set server ${target} state ready`);
    return { up, down };
  }
  if (before?.weight !== after.weight)
    (after.weight > (before?.weight ?? 0) ? up : down).push(`set server ${target} weight ${after.weight}`);
  if (after.ready && !before?.ready) up.push(`set server ${target} state ready`);
  if (!after.ready && before?.ready !== false) down.push(`set server ${target} state maint`);
  return { up, down };
}

function backendCommands(
  before: BackendPlan | undefined,
  after: BackendPlan,
): { up: string[]; down: string[] } {
  const up: string[] = [];
  const down: string[] = [];
  for (const slot of after.servers) {
    const old = before?.servers.find((s) => s.name === slot.name);
    const c = slotCommands(after.name, old, slot);
    up.push(...c.up);
    down.push(...c.down);
  }
  return { up, down };
}

/**
 * Runtime API commands from `before` to `after` (same structure). Slots that take traffic are
 * raised first and those that lose it lowered after, so no moment has no ready server.
 */
export function planCommands(before: readonly AppPlan[], after: readonly AppPlan[]): string[] {
  const up: string[] = [];
  const down: string[] = [];
  for (const plan of after) {
    const old = before.find((p) => p.app === plan.app);
    const main = backendCommands(old?.main, plan.main);
    up.push(...main.up);
    down.push(...main.down);
    if (plan.ab) {
      const ab = backendCommands(old?.ab?.backend, plan.ab.backend);
      up.push(...ab.up);
      down.push(...ab.down);
    }
  }
  return [...up, ...down];
}
