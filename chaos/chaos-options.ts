/**
 * Options of `npm run chaos`, read from argv. Each wrong option is named in the error.
 */
import { parseArgs } from 'node:util';

/** What `npm run chaos -- ...` asks for. */
export interface ChaosCommandOptions {
  /** Seed of every random choice; default 16. */
  readonly seed: number;
  /** Scenario names to run; default all. */
  readonly only: readonly string[];
  /** Runs per scenario; default each scenario's own (the report's N). */
  readonly runs: number | undefined;
  /** Write docs/reliability.md from this run. */
  readonly report: boolean;
  /** Faults injected into the scenarios (for the runner's own test). */
  readonly inject: readonly string[];
  /** Smaller runs for CI (see RunContext.quick); refused with --report. */
  readonly quick: boolean;
  /** Print every run's progress. */
  readonly verbose: boolean;
  /**
   * Bound of the whole run, s; default {@link DEFAULT_MAX_SECONDS}: the full report took about
   * 56 min on two shared cores beside CI (3,331 s), so an hour would cut it short.
   */
  readonly maxSeconds: number;
}

/** Default of `--max-seconds`: two hours. */
export const DEFAULT_MAX_SECONDS = 7200;

/** The usage line. */
export const USAGE =
  'usage: npm run chaos -- [--seed N] [--only NAME]... [--runs N] [--report] [--quick] [--verbose] [--max-seconds S] [--inject FAULT]...';

/** Reads the options from `argv` (without node and the script). */
export function readChaosOptions(argv: readonly string[]): ChaosCommandOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seed: { type: 'string' },
      only: { type: 'string', multiple: true },
      runs: { type: 'string' },
      report: { type: 'boolean' },
      inject: { type: 'string', multiple: true },
      verbose: { type: 'boolean' },
      quick: { type: 'boolean' },
      'max-seconds': { type: 'string' },
    },
    strict: true,
  });
  if (values.quick && values.report)
    throw new Error(`--quick: the report needs full runs; drop --quick or --report\n${USAGE}`);
  return {
    seed: integer('--seed', values.seed, 16, 0),
    only: (values.only ?? []).flatMap((name) => name.split(',')).filter((name) => name !== ''),
    runs: values.runs === undefined ? undefined : integer('--runs', values.runs, 1, 1),
    report: values.report ?? false,
    inject: values.inject ?? [],
    quick: values.quick ?? false,
    verbose: values.verbose ?? false,
    maxSeconds: integer('--max-seconds', values['max-seconds'], DEFAULT_MAX_SECONDS, 1),
  };
}

function integer(option: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${option}: expected an integer >= ${min}, got ${JSON.stringify(text)}\n${USAGE}`);
  return value;
}
