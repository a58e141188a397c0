/**
 * The git pipelines of a running Aviary (docs/adr/0023-git-pipelines.md), composed from
 * their layers: the durable runs and their queue, the developer's build flow and the
 * operator's release flow, the webhook receiver (when `pipelines.webhooks` is set) and the
 * poll backstop of each deploy branch. The runtime hands in the two things only it has:
 * how a release file is applied, and how a published tag becomes a canary.
 *
 * Under `<stateDir>/pipelines/`: `runs/` (a run file and a log per run), `git/` (a cache per
 * source), `work/` (a build's exported tree, removed after it), `deliveries.jsonl` (the
 * receiver's dedupe records) and `applied.json` (the last commit applied per deploy source).
 */
import { join } from 'node:path';
import { AviaryError } from '../errors.js';
import type { PipelinesConfig } from '../config/pipelines-schema.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import type { PipelinesPort } from './pipelines-port.js';
import { AppliedCommits } from './flows/applied-commits.js';
import { buildFlow, type StartCanary } from './flows/build-flow.js';
import type { StatusPoster } from './flows/commit-status.js';
import { coveringReleaseRun, pollSource } from './flows/poll-source.js';
import { releaseFlow, type ApplyRelease } from './flows/release-flow.js';
import { resolveSources, runForPush, type ResolvedSources, type SecretContext } from './pipeline-sources.js';
import { RunQueue } from './runs/run-queue.js';
import { RunStore } from './runs/run-store.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook/receiver.js';

/** What {@link startPipelines} needs. */
export interface PipelinesServiceOptions extends SecretContext {
  readonly config: PipelinesConfig;
  readonly stateDir: string;
  /** The artifact store the release manager resolves tags in: one store for both. */
  readonly artifacts: ArtifactStore;
  readonly applyRelease: ApplyRelease;
  /** `onPublish: canary`; without it such a source's publish fails its run. */
  readonly startCanary?: StartCanary;
  /** Link from a commit status to a run, e.g. the dashboard's. */
  readonly runUrl?: (runId: string) => string;
  /** Posts commit statuses; default the forge client. A seam for tests. */
  readonly postStatus?: StatusPoster;
  /** Told of failures nobody waits for (a poll, a run's bookkeeping); default console.error. */
  readonly onError?: (err: unknown, context: string) => void;
}

/** Running pipelines. */
export interface PipelinesService {
  readonly runs: RunStore;
  readonly queue: RunQueue;
  /** The receiver's base URL (`${url}/hooks/github`), or undefined when `pipelines.webhooks` is unset. */
  readonly webhookUrl: string | undefined;
  /** Polls every release source now (or `source`), as the timer does; resolves when done. */
  pollNow(source?: string): Promise<void>;
  /** Stops the receiver and the polls; running runs are killed and end `interrupted` (re-queued at the next start). */
  close(): Promise<void>;
}

/** The default of `onError`: Aviary's own errors as one line (their message says it all), others with their stack. */
function reportToConsole(err: unknown, context: string): void {
  if (err instanceof AviaryError)
    console.error(`aviary: pipelines: ${context}: ${err.message} (${err.code})`);
  else console.error(`aviary: pipelines: ${context}:`, err);
}

/** The directory of the pipelines' state under Aviary's state directory. */
export function pipelinesStateDir(stateDir: string): string {
  return join(stateDir, 'pipelines');
}

/** Polls one source every `pollMs` (and once at start: deliveries missed while Aviary was down). */
function pollLoop(run: () => Promise<void>, pollMs: number, signal: AbortSignal): void {
  const tick = (): void => {
    if (signal.aborted) return;
    void run().finally(() => {
      if (signal.aborted) return;
      setTimeout(tick, pollMs).unref();
    });
  };
  tick();
}

/**
 * Starts the pipelines: reads the sources' secrets, opens the run store (a run that was
 * running when Aviary died is marked interrupted, its processes killed, and re-queued once),
 * starts the queue, the receiver and the polls.
 * @throws ConfigError naming an unreadable secret or token; nothing is started then
 */
export async function startPipelines(options: PipelinesServiceOptions): Promise<PipelinesService> {
  const sources: ResolvedSources = await resolveSources(options.config, options);
  const dir = pipelinesStateDir(options.stateDir);
  const cacheRoot = join(dir, 'git');
  const onError = options.onError ?? reportToConsole;
  const runs = await RunStore.open(join(dir, 'runs'));
  const applied = await AppliedCommits.open(join(dir, 'applied.json'));
  const common = {
    ...(options.postStatus && { postStatus: options.postStatus }),
    ...(options.runUrl && { runUrl: options.runUrl }),
  };
  const queue = new RunQueue({
    store: runs,
    concurrency: options.config.concurrency,
    onError,
    executors: {
      build: buildFlow({
        buildSource: (name) => sources.builds.get(name),
        cacheRoot,
        workRoot: join(dir, 'work'),
        artifacts: options.artifacts,
        ...(options.startCanary && { startCanary: options.startCanary }),
        ...common,
      }),
      release: releaseFlow({
        releaseSource: (name) => sources.releases.get(name),
        cacheRoot,
        applied,
        applyRelease: options.applyRelease,
        ...common,
      }),
    },
  });
  await queue.start();
  const stopping = new AbortController();
  // A poll that keeps failing the same way (a deploy repository with no branch yet) is told once.
  const lastPollError = new Map<string, string>();
  const poll = async (name: string): Promise<void> => {
    const source = sources.releases.get(name);
    if (source === undefined) return;
    await pollSource({ source, cacheRoot, applied, queue, store: runs, signal: stopping.signal }).then(
      () => lastPollError.delete(name),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (stopping.signal.aborted || lastPollError.get(name) === message) return;
        lastPollError.set(name, message);
        onError(err, `poll of source ${name}`);
      },
    );
  };
  let receiver: WebhookReceiver | undefined;
  const webhooks = options.config.webhooks;
  try {
    if (webhooks !== undefined && sources.webhooks.length > 0) {
      receiver = await startWebhookReceiver({
        sources: sources.webhooks,
        host: webhooks.host,
        port: webhooks.port,
        maxBodyBytes: webhooks.maxBodyBytes,
        maxInFlight: webhooks.maxInFlight,
        rateLimit: webhooks.rateLimit,
        dedupeFile: join(dir, 'deliveries.jsonl'),
        onError,
        onPush: async (event, source) => {
          const input = runForPush(event, source.name, sources);
          if ('ignored' in input) return input;
          const release = sources.releases.get(source.name);
          if (input.pipeline === 'release' && release !== undefined && input.after !== undefined) {
            // The poll may have seen this push first: answer with the run that covers it.
            const covered = coveringReleaseRun({ source: release, applied, store: runs }, input.after);
            if (covered?.kind === 'already-queued') return { runId: covered.runId };
            if (covered?.kind === 'up-to-date')
              return { ignored: `commit ${input.after} of ${input.ref} is already applied` };
          }
          return { runId: (await queue.enqueue(input)).id };
        },
      });
    }
  } catch (err) {
    await queue.close();
    throw err;
  }
  for (const [name, source] of sources.releases)
    if (source.pollMs > 0) pollLoop(() => poll(name), source.pollMs, stopping.signal);
  return {
    runs,
    queue,
    webhookUrl: receiver?.url,
    async pollNow(source) {
      const names = source === undefined ? [...sources.releases.keys()] : [source];
      await Promise.all(names.map(poll));
    },
    async close() {
      stopping.abort();
      await receiver?.close();
      await queue.close({ abort: true });
    },
  };
}

/** The pipelines as a runtime exposes them: the port of the runs API, and the service when configured. */
export interface RuntimePipelines extends PipelinesPort {
  /** Undefined when `aviary.yaml` has no `pipelines` block (artifacts still resolve for release files). */
  readonly service: PipelinesService | undefined;
}

/**
 * The {@link PipelinesPort} over `service` (absent without a `pipelines` block) and the shared
 * artifact store; `usesArtifact` says whether a running release names a tag or runs in a
 * directory (`ReleaseManager.usesArtifact`), so garbage collection keeps it.
 */
export function runtimePipelines(
  service: PipelinesService | undefined,
  artifacts: ArtifactStore,
  usesArtifact: (app: string, tag: string, dir: string) => boolean,
): RuntimePipelines {
  return {
    service,
    runs: service?.runs,
    queue: service?.queue,
    artifacts,
    referenced: (entry) => usesArtifact(entry.app, entry.tag, artifacts.directoryOf(entry.digest)),
  };
}
