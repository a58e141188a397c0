/**
 * The options of `npm run soak`, read from its arguments with their defaults. The defaults
 * scale with `--duration`: the 120 s CI run releases every 20 s and warms up for 20 s; the
 * 30-minute run (`--duration 1800`) releases every 2 minutes and warms up for 11.
 */
import { DEFAULT_WINDOW_SECONDS } from '../src/proxy/stats/rolling-window.js';

/**
 * The warm-up of a long run: the proxy's rolling window and a minute. Its per-second traffic
 * slices fill for that long (by design: a latency sketch each, about 2 MB per version),
 * and RSS measured before they are full grows by them without leaking.
 */
export const FULL_WARMUP_SECONDS = DEFAULT_WINDOW_SECONDS + 60;

/** What one soak run does. */
export interface SoakSettings {
  /** From the start of the load to the last idle point, s. Default 120 (the CI figure). */
  readonly durationSeconds: number;
  /** A new release starts this often (or when the last one settles, if later), s. */
  readonly everySeconds: number;
  /** The first idle point after this, and after a good and a faulty release, is the start figure, s (see {@link FULL_WARMUP_SECONDS}). */
  readonly warmupSeconds: number;
  /** Requests per second of the load on the router. Default 40, as the demo sends. */
  readonly ratePerSecond: number;
  /** Where the run's config, state and logs go. */
  readonly workDir: string;
  /** Whether to write the report to docs/soak.md. */
  readonly report: boolean;
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/**
 * {@link FULL_WARMUP_SECONDS} when the run is at least twice that long; a shorter run warms
 * up for a sixth of its time (at least 20 s), and tells a filling window from a leak less well.
 */
function defaultWarmup(durationSeconds: number): number {
  if (durationSeconds >= 2 * FULL_WARMUP_SECONDS) return FULL_WARMUP_SECONDS;
  return clamp(durationSeconds / 6, 20, FULL_WARMUP_SECONDS);
}

/** A number option's value, or `fallback` when absent; names the option when it is wrong. */
function numberOption(argv: readonly string[], name: string, fallback: number, min: number): number {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const text = argv[at + 1];
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < min)
    throw new Error(`${name}: expected a number >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

const KNOWN = new Set(['--duration', '--every', '--warmup', '--rate', '--work-dir', '--report']);

/** The settings `argv` (the arguments after the script) asks for; `defaultWorkDir` unless `--work-dir`. */
export function soakSettings(argv: readonly string[], defaultWorkDir: string): SoakSettings {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!KNOWN.has(arg)) throw new Error(`unknown option ${arg}; known: ${[...KNOWN].join(', ')}`);
    if (arg !== '--report') i++;
  }
  const durationSeconds = numberOption(argv, '--duration', 120, 60);
  const workDirAt = argv.indexOf('--work-dir');
  const workDir = workDirAt === -1 ? defaultWorkDir : argv[workDirAt + 1];
  if (workDir === undefined || workDir.startsWith('--')) throw new Error('--work-dir: expected a directory');
  return {
    durationSeconds,
    everySeconds: numberOption(argv, '--every', clamp(durationSeconds / 6, 20, 120), 5),
    warmupSeconds: numberOption(argv, '--warmup', defaultWarmup(durationSeconds), 0),
    ratePerSecond: numberOption(argv, '--rate', 40, 1),
    workDir,
    report: argv.includes('--report'),
  };
}
