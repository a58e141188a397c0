/**
 * The seeds' two personas on one machine (`aviary demo --gitops`, `npm run demo:gitops`):
 * the developer tags catalogdetail and pushes; the post-receive hook of its bare repository
 * posts a signed webhook; Aviary builds and publishes the tag. The operator edits the
 * `canaryConfig` list of a deploy repository and pushes; Aviary applies it: the traffic
 * splits, and a removed version is drained and stopped. Everything is real: git, the hooks,
 * the receiver, the builds, the artifact store, the processes and the router.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { parseOrThrow } from '../config/schema-issues.js';
import { aviaryConfigSchema, type AviaryConfig } from '../config/app-schema.js';
import type { RunRecord } from '../pipelines/runs/run-record.js';
import type { RunStore } from '../pipelines/runs/run-store.js';
import type { Runtime } from '../runtime.js';
import { installPostReceiveHook } from './post-receive-hook.js';

const execFileAsync = promisify(execFile);
const DEMO_APPS = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'apps');

/** Where the gitops demo lives and listens. */
export interface GitopsSettings {
  /** Wiped at start: the repositories, the secret, aviary.yaml and Aviary's state go here. */
  readonly stateDir: string;
  readonly routerPort: number;
  readonly apiPort: number;
  readonly webhookPort: number;
  /** A forge API to report commit statuses to, with the variable holding its token. Default none. */
  readonly status?: { readonly api: string; readonly tokenEnv: string };
}

/** The repositories and configuration of a prepared demo. */
export interface GitopsWorkspace {
  readonly config: AviaryConfig;
  /** The developer's clone of catalogdetail and the operator's clone of the deploy repository. */
  readonly appClone: string;
  readonly deployClone: string;
}

/** What the story measured. */
export interface GitopsOutcome {
  /** The artifact digest published for each tag. */
  readonly published: Readonly<Record<string, string>>;
  /** Share of 200 requests each version answered after the 50/50 edit. */
  readonly split: Readonly<Record<string, number>>;
  /** The pid of v1's process, and whether it was still alive after v1 was removed. */
  readonly v1Pid: number;
  readonly v1AliveAfterRemoval: boolean;
  /** Versions answering after v1 was removed. */
  readonly afterRemoval: Readonly<Record<string, number>>;
}

/** Runs git in `cwd` with a fixed identity, never through a shell. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const identity = ['-c', 'user.name=Aviary Demo', '-c', 'user.email=demo@aviary.invalid'];
  const { stdout } = await execFileAsync('git', [...identity, ...args], {
    cwd,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  });
  return stdout.trim();
}

/** A bare repository with the webhook hook installed, and a clone of it. */
async function repository(root: string, name: string, secretFile: string, url: string): Promise<string> {
  const bare = join(root, 'git', `${name}.git`);
  await mkdir(bare, { recursive: true });
  await git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  await installPostReceiveHook({ repo: bare, url, repository: `acme/${name}`, secretFile });
  const clone = join(root, 'work', name);
  await mkdir(clone, { recursive: true });
  await git(clone, 'init', '--quiet', '--initial-branch=main');
  await git(clone, 'remote', 'add', 'origin', bare);
  return clone;
}

/** The build step of the catalogdetail repository: the server and a stamp of what was built. */
const BUILD_SCRIPT = `import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('dist');
cpSync('server.js', 'dist/server.js');
writeFileSync('dist/BUILD', new Date().toISOString() + '\\n');
console.log('built dist/server.js');
`;

/** Creates the two repositories, their hooks, the webhook secret and aviary.yaml. */
export async function prepareGitops(settings: GitopsSettings): Promise<GitopsWorkspace> {
  const root = resolve(settings.stateDir);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const secretFile = join(root, 'webhook-secret');
  await writeFile(secretFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  const hookUrl = `http://127.0.0.1:${settings.webhookPort}/hooks/github`;
  const appClone = await repository(root, 'catalogdetail', secretFile, hookUrl);
  const deployClone = await repository(root, 'deploy', secretFile, hookUrl);
  const probe = { httpGet: { path: '/ping' }, interval: '200ms', failureThreshold: 3 };
  const source = (name: string) => ({
    name,
    forge: 'github',
    repository: `acme/${name}`,
    url: join(root, 'git', `${name}.git`),
    secretFile,
    ...(settings.status && { status: settings.status }),
  });
  const input = {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: settings.routerPort },
    api: { port: settings.apiPort },
    stateDir: join(root, 'state'),
    apps: [
      {
        name: 'catalogdetail',
        path: '/catalogDetail',
        process: { command: process.execPath, args: ['server.js'], readinessProbe: probe },
        releases: { artifacts: true },
      },
    ],
    pipelines: {
      webhooks: { port: settings.webhookPort },
      sources: [
        {
          ...source('catalogdetail'),
          build: {
            app: 'catalogdetail',
            steps: [[process.execPath, 'build.mjs']],
            output: 'dist',
            timeout: '2m',
          },
        },
        {
          ...source('deploy'),
          release: { app: 'catalogdetail', branch: 'main', path: 'release.yaml', poll: '30s' },
        },
      ],
    },
  };
  await writeFile(join(root, 'aviary.yaml'), stringify(input));
  const config = parseOrThrow(aviaryConfigSchema, input, 'gitops demo configuration');
  return { config, appClone, deployClone };
}

/** Resolves the first run of `source` created after `since` (a run id or undefined) once it has ended. */
async function nextRunEnded(store: RunStore, source: string, since: string | undefined): Promise<RunRecord> {
  const deadline = Date.now() + 120_000;
  const isIt = (run: RunRecord) => run.source === source && (since === undefined || run.id > since);
  for (;;) {
    const run = store.list().find(isIt);
    if (run !== undefined) {
      const ended = store.get(run.id)!;
      if (['succeeded', 'failed', 'timed-out', 'skipped', 'interrupted'].includes(ended.state)) return ended;
      return store.finished(run.id);
    }
    if (Date.now() > deadline) throw new Error(`no run of ${source} started within 120 s of the push`);
    await new Promise<void>((done) => store.once('run', () => done()));
  }
}

/** The newest run id, to tell the runs of the next push from earlier ones. */
function lastRunId(store: RunStore): string | undefined {
  return store.list().at(-1)?.id;
}

/** Shares of `count` requests to catalogdetail answered by each version. */
async function measureSplit(routerUrl: string, count: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i += 1) {
    const res = await fetch(`${routerUrl}/catalogDetail`);
    const body = (await res.json()) as { version?: string };
    const key = `v${body.version ?? '?'}`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  for (const key of Object.keys(seen)) seen[key] = seen[key]! / count;
  return seen;
}

/** Plays the story on a runtime started from `workspace.config`; `log` narrates it. */
export async function runGitopsStory(
  runtime: Runtime,
  workspace: GitopsWorkspace,
  log: (line: string) => void,
): Promise<GitopsOutcome> {
  const store = runtime.pipelines.runs;
  if (store === undefined) throw new Error('the runtime has no pipelines');
  const published: Record<string, string> = {};
  const app = workspace.appClone;
  await copyFile(join(DEMO_APPS, 'catalogdetail.js'), join(app, 'server.js'));
  await writeFile(join(app, 'build.mjs'), BUILD_SCRIPT);
  await git(app, 'add', '.');
  await git(app, 'commit', '--quiet', '-m', 'catalogdetail');
  for (const tag of ['v1.0.0', 'v2.0.0']) {
    if (tag !== 'v1.0.0') await git(app, 'commit', '--quiet', '--allow-empty', '-m', `release ${tag}`);
    await git(app, 'tag', '-a', tag, '-m', `catalogdetail ${tag}`);
    const since = lastRunId(store);
    log(`developer: git push origin ${tag}`);
    await git(app, 'push', '--quiet', 'origin', 'main', tag);
    const run = await nextRunEnded(store, 'catalogdetail', since);
    if (run.state !== 'succeeded') throw new Error(`the build of ${tag} ${run.state}: ${run.reason ?? ''}`);
    const digest = run.artifact?.digest ?? '';
    published[tag] = digest;
    log(`pipeline: ${run.id} built and published ${tag} (${digest.slice(0, 19)}…)`);
  }
  const deploy = async (entries: { name: string; tag: string; weight: number }[], message: string) => {
    await writeFile(join(workspace.deployClone, 'release.yaml'), stringify({ canaryConfig: entries }));
    await git(workspace.deployClone, 'commit', '--quiet', '-am', message);
    const since = lastRunId(store);
    log(`operator: git push (${message})`);
    await git(workspace.deployClone, 'push', '--quiet', 'origin', 'main');
    const run = await nextRunEnded(store, 'deploy', since);
    if (run.state !== 'succeeded')
      throw new Error(`the release "${message}" ${run.state}: ${run.reason ?? ''}`);
    log(`pipeline: ${run.id} applied "${message}"`);
  };
  await writeFile(join(workspace.deployClone, 'release.yaml'), '');
  await git(workspace.deployClone, 'add', 'release.yaml');
  await deploy([{ name: 'v1', tag: 'v1.0.0', weight: 100 }], 'catalogdetail v1 at 100%');
  await deploy(
    [
      { name: 'v1', tag: 'v1.0.0', weight: 50 },
      { name: 'v2', tag: 'v2.0.0', weight: 50 },
    ],
    'catalogdetail v1 and v2 at 50/50',
  );
  const split = await measureSplit(runtime.routerUrl, 200);
  log(`traffic: ${JSON.stringify(split)} of 200 requests`);
  const v1Pid = (await runtime.target.status('catalogdetail-v1', 'primary'))?.replicas[0]?.pid ?? 0;
  await deploy([{ name: 'v2', tag: 'v2.0.0', weight: 100 }], 'remove v1');
  const v1AliveAfterRemoval = isAlive(v1Pid);
  const afterRemoval = await measureSplit(runtime.routerUrl, 50);
  log(
    `traffic after removing v1: ${JSON.stringify(afterRemoval)}; v1's process ${v1AliveAfterRemoval ? 'still runs' : 'stopped'}`,
  );
  return { published, split, v1Pid, v1AliveAfterRemoval, afterRemoval };
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
