/**
 * The composed pipelines (startPipelines) on real git repositories: the webhook receiver is
 * off unless `pipelines.webhooks` is set; the deploy branch poll applies a push no webhook
 * announced, at start and on its interval, and does not try a failed tip again; a signed
 * delivery over loopback HTTP starts the run its push calls for, or none. The release file
 * is validated as the release manager does, behind the service's `applyRelease` seam.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipelinesSchema } from '../config/pipelines-schema.js';
import { parseReleaseOrThrow } from '../config/release-schema.js';
import { ArtifactStore, artifactStoreRoot } from './artifacts/artifact-store.js';
import { createBareRepository } from './flows/flow-test-support.js';
import { applyThroughReleaseManager } from './flows/release-flow.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from './git/git-test-support.js';
import { startPipelines, type PipelinesService } from './pipelines-service.js';
import type { RunRecord } from './runs/run-record.js';
import { deliver, githubPush } from './webhook/test-support.js';

const SECRET = 'service-test-secret';
let dir: string;
let deployBare: string;
let appBare: string;
let deploy: TestRepository;
let service: PipelinesService | undefined;
/** The splits the release manager stand-in applied. */
let applied: [string, number][][];
const errors: string[] = [];

beforeEach(async () => {
  dir = await makeTemporaryDir('pipelines-service');
  deployBare = await createBareRepository(dir, 'deploy');
  appBare = await createBareRepository(dir, 'app');
  deploy = await createTestRepository(join(dir, 'deploy-work'));
  await writeFile(join(dir, 'hook-secret'), `${SECRET}\n`, { mode: 0o600 });
  applied = [];
  errors.length = 0;
});

afterEach(async () => {
  await service?.close();
  service = undefined;
  await removeTemporaryDir(dir);
});

/** Starts the pipelines with a build source `app` and a release source `deploy` polled every `poll`. */
async function start(options: { webhooks: boolean; poll: string | 0 }): Promise<PipelinesService> {
  const common = { forge: 'github', secretFile: 'hook-secret' };
  const config = pipelinesSchema.parse({
    ...(options.webhooks ? { webhooks: { port: 0 } } : {}),
    sources: [
      { ...common, name: 'app', repository: 'acme/app', url: appBare, build: { app: 'app' } },
      {
        ...common,
        name: 'deploy',
        repository: 'acme/deploy',
        url: deployBare,
        release: { app: 'catalogdetail', poll: options.poll },
      },
    ],
  });
  service = await startPipelines({
    config,
    stateDir: join(dir, 'state'),
    baseDir: dir,
    environment: {},
    artifacts: await ArtifactStore.open(artifactStoreRoot(join(dir, 'state'))),
    applyRelease: applyThroughReleaseManager({
      apply(app, document) {
        const release = parseReleaseOrThrow(document, `release of app ${app}`, { app });
        applied.push(release.entries.map((entry) => [entry.name, entry.weight]));
        return Promise.resolve();
      },
    }),
    onError: (err, context) => errors.push(`${context}: ${(err as Error).message}`),
  });
  return service;
}

/** Commits the release file with `entries` and pushes main (the bare repository has no hook). */
async function pushRelease(entries: [string, string, number][]): Promise<string> {
  const text = `canaryConfig:\n${entries.map(([name, tag, weight]) => `  - {name: ${name}, tag: ${tag}, weight: ${weight}}\n`).join('')}`;
  const commit = await deploy.commit('release', { 'release.yaml': text });
  await deploy.git('push', '--quiet', deployBare, 'main');
  return commit;
}

/** Resolves the first run of `source` matching `done`, as soon as the store holds it. */
function runOf(running: PipelinesService, done: (run: RunRecord) => boolean): Promise<RunRecord> {
  return new Promise((resolve) => {
    const look = (): void => {
      const found = running.runs.list().find(done);
      if (found !== undefined) resolve(found);
      else running.runs.once('run', look);
    };
    look();
  });
}

describe('pipelines service', () => {
  it('starts no webhook receiver without pipelines.webhooks', async () => {
    const running = await start({ webhooks: false, poll: 0 });
    expect(running.webhookUrl).toBeUndefined();
  });

  it('applies deploy pushes no webhook announced: at start, then on the poll interval', async () => {
    const before = await pushRelease([['v1', 'v1.0.0', 100]]);
    const running = await start({ webhooks: false, poll: '100ms' });
    const first = await runOf(running, (run) => run.commit === before && run.state === 'succeeded');
    expect(first).toMatchObject({ pipeline: 'release', source: 'deploy', after: before });
    const later = await pushRelease([
      ['v1', 'v1.0.0', 50],
      ['v2', 'v2.0.0', 50],
    ]);
    await runOf(running, (run) => run.commit === later && run.state === 'succeeded');
    expect(applied).toEqual([
      [['v1', 100]],
      [
        ['v1', 50],
        ['v2', 50],
      ],
    ]);
    expect(errors).toEqual([]);
  });

  it('does not poll a failed deploy commit into a run again', async () => {
    const bad = await pushRelease([['v1', 'v1.0.0', -5]]);
    const running = await start({ webhooks: false, poll: 0 });
    await running.pollNow();
    const failed = await runOf(running, (run) => run.commit === bad && run.state === 'failed');
    for (let i = 0; i < 3; i += 1) await running.pollNow();
    expect(running.runs.list().map((run) => run.id)).toEqual([failed.id]);
    expect(applied).toEqual([]);
  });

  it('answers a signed delivery with the run its push calls for, or ignores it', async () => {
    const running = await start({ webhooks: true, poll: 0 });
    const url = running.webhookUrl!;
    const signed = { secret: SECRET, event: 'push' };
    const commit = 'c'.repeat(40);
    const branchOfApp = await deliver(
      url,
      'github',
      githubPush('refs/heads/main', commit, 'acme/app'),
      signed,
    );
    const tagOfDeploy = await deliver(
      url,
      'github',
      githubPush('refs/tags/v1', commit, 'acme/deploy'),
      signed,
    );
    expect([branchOfApp, tagOfDeploy].map((answer) => answer.body.status)).toEqual(['ignored', 'ignored']);
    expect(running.runs.list()).toEqual([]);

    const tip = await pushRelease([['v1', 'v1.0.0', 100]]);
    const push = await deliver(url, 'github', githubPush('refs/heads/main', tip, 'acme/deploy'), signed);
    expect(push.status).toBe(202);
    const run = await runOf(running, (r) => r.id === push.body.runId && r.state === 'succeeded');
    expect(run).toMatchObject({ pipeline: 'release', commit: tip });
    expect(applied).toEqual([[['v1', 100]]]);
  });

  it('queues no second run for a deploy push the poll saw first', async () => {
    // The poll and the delivery race: CI once saw a fourth release run, which found its
    // commit applied and did nothing, after the poll had applied the push.
    const running = await start({ webhooks: true, poll: 0 });
    const signed = { secret: SECRET, event: 'push' };
    const tip = await pushRelease([['v1', 'v1.0.0', 100]]);
    await running.pollNow();
    const polled = await runOf(running, (r) => r.commit === tip && r.state === 'succeeded');
    const late = await deliver(
      running.webhookUrl!,
      'github',
      githubPush('refs/heads/main', tip, 'acme/deploy'),
      signed,
    );
    expect(late.body).toEqual({
      status: 'ignored',
      reason: `commit ${tip} of refs/heads/main is already applied`,
    });
    expect(running.runs.list().map((r) => r.id)).toEqual([polled.id]);
    expect(applied).toEqual([[['v1', 100]]]);
  });
});
