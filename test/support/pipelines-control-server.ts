/**
 * A control API with the pipeline routes over real parts, for the runs API and CLI tests: a
 * ControlServer on 127.0.0.1 port 0 (its controller over the in-memory router and target,
 * never started), a RunStore in a temporary directory, a RunQueue whose executor is a seam
 * the test drives (each run writes a line, then waits until the test ends it), and an
 * ArtifactStore with two published tags, one of them referenced.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { ControlServer } from '../../src/api/control-server.js';
import { pipelineRoutes } from '../../src/api/pipeline-routes.js';
import { ArtifactStore } from '../../src/pipelines/artifacts/artifact-store.js';
import type { ArtifactEntry } from '../../src/pipelines/artifacts/artifact-index.js';
import { removeTree } from '../../src/pipelines/artifacts/tree-files.js';
import type { PipelinesPort } from '../../src/pipelines/pipelines-port.js';
import { RunQueue, type RunContext, type RunOutcome } from '../../src/pipelines/runs/run-queue.js';
import { RunStore } from '../../src/pipelines/runs/run-store.js';
import { inMemoryController } from '../fakes/in-memory-controller.js';

/** The token the mutations need. */
export const PIPELINES_TOKEN = 'pipelines-token-0123456789';

/** A run the executor holds until the test ends it. */
export interface HeldRun {
  readonly context: RunContext;
  /** Ends the run with `outcome`. */
  finish(outcome: RunOutcome): void;
}

/** The server and the parts behind it. */
export interface PipelinesControlServer {
  readonly url: string;
  readonly store: RunStore;
  readonly queue: RunQueue;
  readonly artifacts: ArtifactStore;
  /** Tags of `catalogdetail` a release references (gc keeps them); starts with `v1.0.0`. */
  readonly referencedTags: Set<string>;
  /** Resolves the next run the executor starts (in start order). */
  nextHeld(): Promise<HeldRun>;
  close(): Promise<void>;
}

/** An object id for tests: `digit` repeated 40 times. */
export function commitOf(digit: string): string {
  return digit.repeat(40);
}

/**
 * Starts the server; `close` stops everything and removes the directories. With
 * `pipelinesBlock: false` the port has no runs and no queue, as without a `pipelines` block.
 */
export async function startPipelinesControlServer(
  options: { pipelinesBlock?: boolean } = {},
): Promise<PipelinesControlServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-pipeline-routes-'));
  const store = await RunStore.open(join(dir, 'runs'));
  const held: HeldRun[] = [];
  const waiting: ((run: HeldRun) => void)[] = [];
  const executor = (context: RunContext): Promise<RunOutcome> =>
    new Promise<RunOutcome>((resolve) => {
      const run: HeldRun = { context, finish: resolve };
      const aborted = (): void => resolve({ state: 'failed', reason: 'aborted by the executor' });
      // A queue closed between the run's launch and this call has aborted the signal already.
      if (context.signal.aborted) return aborted();
      context.signal.addEventListener('abort', aborted);
      void context.log(`[test] ${context.run.id} started`).then(() => {
        const waiter = waiting.shift();
        if (waiter !== undefined) waiter(run);
        else held.push(run);
      });
    });
  const queue = new RunQueue({ store, executors: { build: executor, release: executor }, concurrency: 4 });
  await queue.start();

  const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
  for (const [tag, digit] of [
    ['v1.0.0', '1'],
    ['v2.0.0', '2'],
  ] as const) {
    const output = join(dir, `build-${tag}`);
    await mkdir(output);
    await writeFile(join(output, 'server.js'), `console.log(${JSON.stringify(tag)});\n`);
    await artifacts.publish({
      app: 'catalogdetail',
      tag,
      commit: commitOf(digit),
      buildKey: 'npm-ci',
      fromDir: output,
    });
  }
  const referencedTags = new Set(['v1.0.0']);
  const configured = options.pipelinesBlock ?? true;
  const port: PipelinesPort = {
    runs: configured ? store : undefined,
    queue: configured ? queue : undefined,
    artifacts,
    referenced: (entry: ArtifactEntry) => entry.app === 'catalogdetail' && referencedTags.has(entry.tag),
  };

  const controller = inMemoryController({ stateDir: join(dir, 'state') });
  const server = new ControlServer(controller, {
    port: 0,
    token: PIPELINES_TOKEN,
    extraRoutes: [pipelineRoutes(port, PIPELINES_TOKEN)],
  });
  const { host, port: listening } = await server.start();
  return {
    url: `http://${host}:${listening}`,
    store,
    queue,
    artifacts,
    referencedTags,
    nextHeld: () => {
      const run = held.shift();
      return run !== undefined ? Promise.resolve(run) : new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      await server.close();
      await queue.close({ abort: true });
      // Published artifacts are read-only: removeTree makes them writable first.
      await removeTree(dir);
    },
  };
}

/** How {@link callApi} sends a request. */
export interface CallOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
}

/** One request to the API at `baseUrl`: its status, content type, and body (parsed when JSON). */
export async function callApi(
  baseUrl: string,
  path: string,
  options: CallOptions = {},
): Promise<{ status: number; body: any; type: string }> {
  const res = await request(new URL(path, baseUrl), {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
  });
  const text = await res.body.text();
  const type = String(res.headers['content-type'] ?? '');
  return {
    status: res.statusCode,
    type,
    body: type.startsWith('application/json') ? JSON.parse(text) : text,
  };
}
