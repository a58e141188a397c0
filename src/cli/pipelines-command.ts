/**
 * `aviary pipelines list | logs <id> [-f] | rerun <id> | cancel <id>`: the runs of the git
 * pipelines that `aviary up` runs (docs/adr/0023-git-pipelines.md), through the control
 * API's pipeline routes. `logs -f` follows a run until it ends and exits 0 only when it
 * succeeded, so a script can wait on a build. The `hook` subcommands live in
 * pipelines-hook-command.ts, under the same `pipelines` command.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { RunFilter } from '../api/pipeline-routes.js';
import {
  PIPELINES,
  RUN_STATES,
  type PipelineKind,
  type RunRecord,
  type RunState,
} from '../pipelines/runs/run-record.js';
import { addApiOption, addTokenOptions, type ApiOptions, type TokenOptions } from './control-client.js';
import { EXIT } from './exit-codes.js';
import { pipelinesCommand } from './pipelines-hook-command.js';
import { PipelinesClient } from './pipelines-client.js';
import { renderRuns } from './render-pipelines.js';
import { terminalStyle, type TerminalStyle } from './render-terminal.js';
import { listenForStop, signalExitCode } from './stop-signals.js';

/** Where the commands write; a seam for tests. */
export interface PipelinesOutput {
  /** Writes `text` as it is (no newline added). */
  out(text: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  readonly style: TerminalStyle;
}

interface ListOptions extends ApiOptions {
  readonly source?: string;
  readonly pipeline?: PipelineKind;
  readonly state?: RunState;
  readonly limit?: number;
  readonly json?: boolean;
}

interface RunCommandOptions extends TokenOptions {
  readonly json?: boolean;
}

function processOutput(): PipelinesOutput {
  return {
    out: (text) => process.stdout.write(text),
    err: (line) => process.stderr.write(`${line}\n`),
    style: terminalStyle(process.stdout),
  };
}

function choice<T extends string>(known: readonly T[]): (value: string) => T {
  return (value) => {
    const found = known.find((k) => k === value);
    if (found === undefined)
      throw new InvalidArgumentError(`expected one of ${known.join(', ')}, got "${value}"`);
    return found;
  };
}

/** Parses `--limit`: a positive integer. */
export function parseLimit(value: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value))
    throw new InvalidArgumentError(`expected an integer from 1 to 999999, got "${value}"`);
  return Number(value);
}

/** Prints the runs `options` select, newest first, as a table or (`json`) the API's records. */
export async function runPipelinesList(options: ListOptions, output: PipelinesOutput): Promise<void> {
  const filter: RunFilter = {
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(options.pipeline === undefined ? {} : { pipeline: options.pipeline }),
    ...(options.state === undefined ? {} : { state: options.state }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const runs = await new PipelinesClient(options).runs(filter);
  if (options.json === true) return output.out(`${JSON.stringify(runs, null, 2)}\n`);
  if (runs.length === 0) return output.out('no runs\n');
  output.out(`${renderRuns(output.style, runs, Date.now()).join('\n')}\n`);
}

/**
 * Prints run `id`'s log; with `follow`, until the run ends. Resolves the exit code: with
 * `follow`, 0 only when the run succeeded (1 otherwise, its end on stderr); without, 0.
 */
export async function runPipelinesLogs(
  id: string,
  options: ApiOptions & { readonly follow?: boolean },
  output: PipelinesOutput,
  signal?: AbortSignal,
): Promise<number> {
  const client = new PipelinesClient(options);
  const follow = options.follow === true;
  for await (const text of client.log(id, { follow, ...(signal === undefined ? {} : { signal }) }))
    output.out(text);
  if (!follow || signal?.aborted === true) return EXIT.ok;
  const run = await client.run(id);
  if (run.state === 'succeeded') return EXIT.ok;
  output.err(`aviary: run ${id} ${run.state}${run.reason === undefined ? '' : `: ${run.reason}`}`);
  return EXIT.failure;
}

/** Reruns or cancels run `id` and prints the run it resolves (the new one for a rerun). */
export async function runPipelinesAction(
  action: 'rerun' | 'cancel',
  id: string,
  options: RunCommandOptions,
  output: PipelinesOutput,
): Promise<RunRecord> {
  const client = new PipelinesClient(options);
  const run = action === 'rerun' ? await client.rerun(id) : await client.cancel(id);
  if (options.json === true) {
    output.out(`${JSON.stringify(run, null, 2)}\n`);
    return run;
  }
  const said = action === 'rerun' ? `queued ${run.id}, a rerun of ${id}` : `cancelled ${id}: ${run.state}`;
  output.out(`${said}\n${renderRuns(output.style, [run], Date.now()).join('\n')}\n`);
  return run;
}

/** Registers `aviary pipelines list`, `logs`, `rerun` and `cancel`. */
export function registerPipelinesCommands(program: Command): void {
  const pipelines = pipelinesCommand(program);

  const list = pipelines
    .command('list')
    .description('show the pipeline runs, newest first: id, pipeline, source, ref, state, detail, age')
    .option('--source <name>', 'only runs of this configured source')
    .option('--pipeline <kind>', `only runs of this pipeline (${PIPELINES.join(', ')})`, choice(PIPELINES))
    .option('--state <state>', `only runs in this state (${RUN_STATES.join(', ')})`, choice(RUN_STATES))
    .option('--limit <n>', 'at most this many runs, the newest', parseLimit)
    .option('--json', "print the API's run records as JSON");
  addApiOption(list)
    .addHelpText(
      'after',
      `
Examples:
  aviary pipelines list
  aviary pipelines list --source catalogdetail --state failed --limit 5
  aviary pipelines list --json | jq '.[] | select(.pipeline == "build") | {id, ref, state}'`,
    )
    .action(async (options: ListOptions) => {
      await runPipelinesList(options, processOutput());
    });

  const logs = pipelines
    .command('logs')
    .description("print a run's log; with -f, follow it until the run ends (exit 0 only if it succeeded)")
    .argument('<id>', 'the run id (aviary pipelines list shows them)')
    .option('-f, --follow', 'keep printing what the run writes until it ends');
  addApiOption(logs)
    .addHelpText(
      'after',
      `
Examples:
  aviary pipelines logs run-20261204T101500123Z-0000
  aviary pipelines logs -f "$(aviary pipelines list --limit 1 --json | jq -r '.[0].id')" && echo built`,
    )
    .action(async (id: string, options: ApiOptions & { follow?: boolean }) => {
      const stop = listenForStop();
      try {
        process.exitCode = await runPipelinesLogs(id, options, processOutput(), stop.signal);
        if (stop.signal.aborted) process.exitCode = signalExitCode(stop.signal);
      } finally {
        stop.dispose();
      }
    });

  for (const action of ['rerun', 'cancel'] as const) {
    const command = pipelines
      .command(action)
      .description(
        action === 'rerun'
          ? 'queue a new run with the inputs of a run (any state) and print it'
          : 'cancel a queued or running run and print it once ended (a finished run is refused)',
      )
      .argument('<id>', 'the run id')
      .option('--json', 'print the run record as JSON');
    addTokenOptions(command)
      .addHelpText(
        'after',
        `
Examples:
  aviary pipelines ${action} run-20261204T101500123Z-0000
The token is read from --token, AVIARY_TOKEN, or --token-file (default .aviary/token).`,
      )
      .action(async (id: string, options: RunCommandOptions) => {
        await runPipelinesAction(action, id, options, processOutput());
      });
  }
}
