/**
 * `aviary up -f aviary.yaml`: runs the runtime (the router `router.kind` names, the apps'
 * workloads, the controller, the control API). Saving the file applies it: a changed
 * workload is a new revision and starts a rollout; an invalid edit, or one that moves the
 * router, the API or the state directory, is reported and the running configuration stays.
 */
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, formatIssues } from '../config/config-error.js';
import { aviaryConfigSchema, type AviaryConfig } from '../config/app-schema.js';
import type { RouterSettings } from '../config/router-kinds.js';
import { readDocumentFile, readDocumentsFile } from '../config/document.js';
import { flaggerCanaryPlacement, isFlaggerCanaryDocument } from '../config/flagger-canary.js';
import { AviaryError } from '../errors.js';
import { parseOrThrow } from '../config/schema-issues.js';
import type { RouterContext } from '../router/router-registry.js';
import type { Runtime } from '../runtime.js';
import { prepareStateDirectory } from '../rollout/state/state-directory.js';
import { resolveToken } from './admin-token.js';
import { listenForStop, untilStopped } from './stop-signals.js';
import { fileVersion, watchFile } from './file-watch.js';

interface UpOptions {
  file: string;
  inProcessRouter?: boolean;
}

/**
 * Reads and validates an `aviary.yaml`. A Flagger Canary in the file, alone or beside the
 * Aviary document, is refused with one line saying where its settings go.
 */
export async function readAviaryConfig(file: string): Promise<AviaryConfig> {
  const documents = await readDocumentsFile(file);
  const canary = documents.find(isFlaggerCanaryDocument);
  if (canary !== undefined)
    throw new AviaryError('AVIARY_CONFIG_INVALID', flaggerCanaryPlacement(file, canary));
  if (documents.length > 1) return parseOrThrow(aviaryConfigSchema, await readDocumentFile(file), file);
  return parseOrThrow(aviaryConfigSchema, documents[0] ?? null, file);
}

/**
 * Applies every later save of `file` to `runtime` until `signal` aborts, however the editor
 * saves (src/cli/file-watch.ts); a rejected edit is reported and the running configuration
 * stays. Used by `up` and by the demo once its story is told.
 */
export function applyEachSave(
  file: string,
  runtime: Runtime,
  signal: AbortSignal,
  /** {@link fileVersion} of the file the runtime was started from, read before it was. */
  appliedVersion?: string,
): Promise<void> {
  return watchFile(
    file,
    async () => {
      try {
        runtime.update(await readAviaryConfig(file));
        console.log(`aviary: applied ${file}`);
      } catch (err) {
        console.error(
          `aviary: ${file} rejected; the running configuration stays:\n${err instanceof ConfigError ? formatIssues(err.issues) : (err as Error).message}`,
        );
      }
    },
    signal,
    { callAtStart: false, appliedVersion },
  );
}

/**
 * How the CLI has the built-in proxy run: `--in-process-router` keeps it in this process;
 * otherwise the file's `router.process`, and unset, its own supervised process, so traffic
 * survives the controller (docs/adr/0014-supervised-proxy-process.md). A supervised proxy
 * runs this same CLI, as this process was run.
 */
export function cliRouterContext(
  router: RouterSettings,
  inProcessRouter = false,
): Required<Pick<RouterContext, 'command' | 'placement'>> {
  const configured = router.kind === 'embedded' ? router.process : undefined;
  return {
    command: [process.execPath, ...process.execArgv, process.argv[1] ?? ''],
    placement: inProcessRouter ? 'in-process' : (configured ?? 'separate'),
  };
}

/** Runs `aviary up`. */
export async function runUp(options: UpOptions): Promise<void> {
  // Heard from the start: a signal while the runtime starts closes it as soon as it is up.
  const stop = listenForStop();
  // Read before the file: a save while the runtime starts is applied once it has started.
  const appliedVersion = await fileVersion(options.file);
  const config = await readAviaryConfig(options.file);
  // Before the token is read from it or written into it: created 0700, refused when not ours.
  await prepareStateDirectory(config.stateDir);
  const { token, source } = await resolveToken(join(config.stateDir, 'token'));
  // Loaded on use: the runtime pulls in every part of Aviary, which other commands do not need.
  const { startRuntime } = await import('../runtime.js');
  const runtime = await startRuntime(config, {
    token,
    baseDir: dirname(options.file),
    routerContext: {
      // Relative token files of `router.kind: aviary-admin` are read next to the configuration.
      baseDir: dirname(options.file),
      ...cliRouterContext(config.router, options.inProcessRouter),
    },
  });
  console.log(`aviary: router on ${runtime.routerUrl}`);
  console.log(`aviary: control API and dashboard on ${runtime.controlUrl} (token from ${source})`);
  const webhooks = runtime.pipelines.service?.webhookUrl;
  if (webhooks !== undefined) console.log(`aviary: git webhooks on ${webhooks}/hooks/{github,gitea,gitlab}`);
  const stopWatching = new AbortController();
  const watching = applyEachSave(options.file, runtime, stopWatching.signal, appliedVersion);
  await untilStopped(runtime, stop);
  stopWatching.abort();
  await watching;
}

/** Registers `aviary up`. */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run apps from aviary.yaml: the router, workloads, rollouts and the control API')
    .option('-f, --file <file>', 'the Aviary configuration', 'aviary.yaml')
    .option(
      '--in-process-router',
      'run the built-in proxy inside this process (it then stops when this process stops); default: its own supervised process',
    )
    .addHelpText(
      'after',
      `
Examples:
  aviary up                      # reads ./aviary.yaml
  aviary up -f examples/aviary.yaml
Edit the file while it runs: a changed process spec starts an analysed rollout.`,
    )
    .action(async (options: UpOptions) => {
      await runUp(options);
    });
}
