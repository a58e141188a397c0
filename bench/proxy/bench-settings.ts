/**
 * Settings of the proxy bench, read once from the environment so a quick run is one
 * variable away (`BENCH_ROUNDS=3 npm run bench:proxy`).
 */

/** Every run the bench knows, in the order a round runs them. */
export const RUN_NAMES = [
  'direct',
  'bareUndici',
  'aviary',
  'haproxy',
  'aviaryHaproxy',
  'aviaryHttp2',
] as const;
export type RunName = (typeof RUN_NAMES)[number];

/** Parsed settings. */
export interface BenchSettings {
  /** Concurrent client connections (BENCH_CONNECTIONS, default 64). */
  readonly connections: number;
  /** Measured seconds per window (BENCH_DURATION, default 3). */
  readonly durationSeconds: number;
  /** Discarded seconds before each window: connections open, caches fill (BENCH_WARMUP, default 1). */
  readonly warmupSeconds: number;
  /** Discarded seconds of load on each proxy before the first round, for the JIT (BENCH_PRIME, default 5). */
  readonly primeSeconds: number;
  /**
   * Rounds (BENCH_ROUNDS, default 9). Each round loads every proxy for one window, in an
   * order rotated from round to round; ratios are taken within a round and their median
   * is the verdict, so a machine that slows down between rounds moves both sides alike.
   */
  readonly rounds: number;
  /** Core of the proxy under test (BENCH_PROXY_CORE, default 0). */
  readonly proxyCore: number;
  /** Core of the load generator and the backends (BENCH_LOAD_CORE, default 1). */
  readonly loadCore: number;
  /** \`nice\` adjustment of every child (BENCH_NICE, default 0; e.g. -10 as root on a shared machine). */
  readonly nice: number;
  /** Static backends: `haproxy`, `node`, or `auto` = haproxy when installed (BENCH_BACKEND). */
  readonly backend: 'auto' | 'haproxy' | 'node';
  /** Load generator: `wrk`, `undici`, or `auto` = wrk when installed (BENCH_LOAD). */
  readonly load: 'auto' | 'wrk' | 'undici';
  /** Runs to do, comma-separated (BENCH_ONLY, default all): e.g. `aviary` while profiling. */
  readonly only: readonly RunName[];
  /** Extra node arguments for the Aviary process, space-separated (BENCH_AVIARY_NODE_ARGS), e.g. `--cpu-prof`. */
  readonly aviaryNodeArgs: readonly string[];
  /** Aviary entry point to run (BENCH_AVIARY_CLI, default bin/aviary.js of this checkout), e.g. a copy of an older build for A/B runs. */
  readonly aviaryCli: string | undefined;
  /** Upstream connections per backend of the Node proxies and HAProxy's server maxconn (BENCH_UPSTREAM_CONNECTIONS, default 128). */
  readonly upstreamConnections: number;
}

function positiveInt(env: NodeJS.ProcessEnv, key: string, fallback: number, min = 1): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${key}: expected an integer >= ${min}, got "${raw}"`);
  return value;
}

function integerIn(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${key}: expected an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, key: string, known: readonly T[], fallback: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!(known as readonly string[]).includes(raw))
    throw new Error(`${key}: expected one of ${known.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** Reads the settings; a bad value throws naming the variable. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const only = (env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of only) {
    if (!(RUN_NAMES as readonly string[]).includes(name))
      throw new Error(`BENCH_ONLY: unknown run "${name}"; expected some of ${RUN_NAMES.join(', ')}`);
  }
  return {
    connections: positiveInt(env, 'BENCH_CONNECTIONS', 64),
    durationSeconds: positiveInt(env, 'BENCH_DURATION', 3),
    warmupSeconds: positiveInt(env, 'BENCH_WARMUP', 1, 0),
    primeSeconds: positiveInt(env, 'BENCH_PRIME', 5, 0),
    rounds: positiveInt(env, 'BENCH_ROUNDS', 9),
    proxyCore: positiveInt(env, 'BENCH_PROXY_CORE', 0, 0),
    loadCore: positiveInt(env, 'BENCH_LOAD_CORE', 1, 0),
    nice: integerIn(env, 'BENCH_NICE', 0, -20, 19),
    backend: oneOf(env, 'BENCH_BACKEND', ['auto', 'haproxy', 'node'], 'auto'),
    load: oneOf(env, 'BENCH_LOAD', ['auto', 'wrk', 'undici'], 'auto'),
    only: only.length > 0 ? (only as RunName[]) : RUN_NAMES,
    aviaryNodeArgs: (env.BENCH_AVIARY_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== ''),
    aviaryCli: env.BENCH_AVIARY_CLI === '' ? undefined : env.BENCH_AVIARY_CLI,
    upstreamConnections: positiveInt(env, 'BENCH_UPSTREAM_CONNECTIONS', 128),
  };
}
