/**
 * `aviary apply -f release.yaml [--app NAME] [--watch]`: sends the operator's release file
 * (versions and weights; docs/adr/0007-release-file.md) to the control API of `aviary up`
 * and prints the resulting split. With `--watch` every saved edit is applied within a
 * second; an invalid edit is reported and the running split stays. Needs the control API's
 * token.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { readReleaseText } from '../config/release-schema.js';
import { AviaryError } from '../errors.js';
import type { ReleaseResult } from '../rollout/releases/release-manager.js';
import { addTokenOptions, ControlClient, type TokenOptions } from './control-client.js';
import { watchFile } from './file-watch.js';
import { listenForStop, signalExitCode } from './stop-signals.js';

/** Options of `aviary apply`. */
export interface ApplyOptions extends TokenOptions {
  readonly file: string;
  readonly app?: string;
  readonly watch?: boolean;
  readonly json?: boolean;
}

/** Where `apply` writes; a seam for tests. */
export interface ApplyOutput {
  out(text: string): void;
  err(text: string): void;
}

/** An apply waits for new versions to be ready (30 s by default) and for removed ones to drain. */
const APPLY_TIMEOUT_MS = 120_000;

/** Reads a release file and finds its app: `--app`, else the file's `app:`. */
export async function readReleaseFile(
  file: string,
  app?: string,
): Promise<{ app: string; document: unknown }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  const document = readReleaseText(text, file);
  if (document === null || document === undefined)
    throw new ConfigError(file, [{ path: '', message: 'the file is empty; expected a release' }]);
  const fileApp = (document as { app?: unknown }).app;
  const name = app ?? (typeof fileApp === 'string' ? fileApp : undefined);
  if (name === undefined)
    throw new AviaryError('AVIARY_USAGE', `${file}: which app? pass --app NAME or set app: in the file`);
  return { app: name, document };
}

/** The split as a table: each version, its tag, weight, share of the traffic and readiness. */
export function renderReleaseResult(result: ReleaseResult, source: string): string {
  const rows = [
    ['VERSION', 'TAG', 'WEIGHT', 'SHARE', 'READY'],
    ...result.release.versions.map((v) => [
      v.name,
      v.tag,
      String(v.weight),
      `${v.share.toFixed(1)}%`,
      `${v.readyReplicas}/${v.desiredReplicas}`,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  const notes = [
    result.handedOver ? 'taken over from the rollout controller' : '',
    result.started.length > 0 ? `started ${result.started.join(', ')}` : '',
    result.updated.length > 0 ? `updated ${result.updated.join(', ')}` : '',
    result.removed.length > 0 ? `drained, then stopped ${result.removed.join(', ')}` : '',
  ].filter((note) => note !== '');
  return [
    `${result.app}: applied ${source}`,
    ...table,
    ...(notes.length > 0 ? [`  ${notes.join('; ')}`] : []),
  ].join('\n');
}

/** Sends the file once and prints the split (or, with `json`, the API's answer). */
export async function applyReleaseFile(
  client: ControlClient,
  options: Pick<ApplyOptions, 'file' | 'app' | 'json'>,
  output: ApplyOutput,
  signal?: AbortSignal,
): Promise<ReleaseResult> {
  const { app, document } = await readReleaseFile(options.file, options.app);
  const path = `/api/v1/apps/${encodeURIComponent(app)}/release`;
  const result = (await client.post(path, document as object, signal)) as ReleaseResult;
  output.out(options.json ? JSON.stringify(result, null, 2) : renderReleaseResult(result, options.file));
  return result;
}

/** Runs `aviary apply`; in watch mode until `signal` aborts, reporting failed edits instead of throwing. */
export async function runApply(
  options: ApplyOptions,
  output: ApplyOutput,
  signal?: AbortSignal,
): Promise<void> {
  const client = new ControlClient({
    baseUrl: options.api,
    token: { ...(options.token !== undefined ? { token: options.token } : {}), tokenFile: options.tokenFile },
    timeoutMs: APPLY_TIMEOUT_MS,
  });
  if (!options.watch) {
    await applyReleaseFile(client, options, output, signal);
    return;
  }
  // A missing file or app is a usage error now, not a message repeated at every save.
  await readReleaseFile(options.file, options.app);
  output.out(`aviary: watching ${options.file}; every saved edit is applied (Ctrl-C to stop)`);
  await watchFile(
    options.file,
    async () => {
      try {
        await applyReleaseFile(client, options, output, signal);
      } catch (err) {
        if (signal?.aborted) return;
        output.err(
          `aviary: ${options.file} not applied; the running split is kept:\n${(err as Error).message}`,
        );
      }
    },
    signal ?? new AbortController().signal,
  );
}

/** Registers `aviary apply`. */
export function registerApplyCommand(program: Command): void {
  const command = program
    .command('apply')
    .description("apply a release file: each version's tag and weight, traffic follows")
    .requiredOption('-f, --file <file>', 'the release file (versions:, or a Helm values canaryConfig:)')
    .option('--app <name>', 'the app the release is for (default: app: in the file)')
    .option('-w, --watch', 'keep running and apply every saved edit')
    .option('--json', "print the API's answer as JSON");
  addTokenOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  aviary apply -f release.yaml
  aviary apply -f values.yaml --app catalogdetail     # a Helm values file (canaryConfig:)
  aviary apply -f release.yaml --watch                # edit weights, save, traffic follows
Release file:
  app: catalogdetail
  versions:
    - {name: backend-v1, tag: v1.0.0, weight: 90}
    - {name: backend-v2, tag: v2.0.0, weight: 10}
Removing an entry drains that version, takes it out of routing, then stops it. An invalid
edit (all weights 0, a duplicate name, an unknown version, a negative weight, a bad tag)
is rejected with the entry named, and the running split stays.`,
    )
    .action(async (options: ApplyOptions) => {
      const stop = listenForStop();
      try {
        await runApply(
          options,
          {
            out: (text) => process.stdout.write(`${text}\n`),
            err: (text) => process.stderr.write(`${text}\n`),
          },
          stop.signal,
        );
      } catch (err) {
        // Ctrl-C aborts the request of a one-off apply: a stop to report in one line, not an error.
        if (!stop.signal.aborted) throw err;
        console.error(
          `aviary: apply stopped by ${String(stop.signal.reason)} before the control API answered`,
        );
        process.exitCode = signalExitCode(stop.signal);
      } finally {
        stop.dispose();
      }
    });
}
