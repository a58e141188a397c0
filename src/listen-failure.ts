/**
 * A port Aviary could not listen on, told in one line that names the setting the port comes
 * from (`router.port`, `api.port`, a proxy listener, `--admin`), so that a busy port at
 * start is fixed by changing that setting rather than by reading a Node stack trace. The
 * `aviary` command exits with code 2 for these errors (error-catalogue.ts).
 */
import { AviaryError } from './errors.js';

/** What Node's `listen` error carries (`server.listen` fills `address` and `port`). */
interface ListenErrno extends Error {
  readonly code?: string;
  readonly address?: string;
  readonly port?: number;
}

/** A listening socket that could not bind; `code` is `AVIARY_PORT_IN_USE` for `EADDRINUSE`. */
export class ListenFailure extends AviaryError {
  constructor(
    /** The setting the port comes from, e.g. `router.port`. */
    readonly setting: string,
    readonly host: string,
    readonly port: number,
    /** Node's error code: `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, … */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'EADDRINUSE' ? 'AVIARY_PORT_IN_USE' : 'AVIARY_LISTEN_FAILED',
      reason === 'EADDRINUSE'
        ? `${setting} ${port} on ${host} is in use (EADDRINUSE); choose another port or stop what listens there`
        : `${setting} ${port} on ${host}: cannot listen (${reason}); choose another port or host`,
      options,
    );
  }

  /** The same failure named by another setting, e.g. the command-line flag a port came from. */
  named(setting: string): ListenFailure {
    return new ListenFailure(setting, this.host, this.port, this.reason, { cause: this.cause });
  }
}

/**
 * Runs `listen` (a server's start). A failure to bind becomes a {@link ListenFailure}
 * naming `setting`, given as a function of the port when several listeners start at once;
 * any other failure is rethrown as it is.
 */
export async function listenFor<T>(
  setting: string | ((port: number) => string),
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    if (err instanceof AviaryError) throw err;
    const { code, address, port } = err as ListenErrno;
    if (typeof code !== 'string' || typeof port !== 'number') throw err;
    const name = typeof setting === 'string' ? setting : setting(port);
    throw new ListenFailure(name, address ?? 'every address', port, code, { cause: err });
  }
}
