/**
 * A real embedded runtime with a `pipelines` block for the dashboard's Pipelines tests: one
 * GitHub-shaped source whose repository is a real bare repository in a temporary directory,
 * built by argv steps (`node -e …`, then the tree's own `build.js`, which writes `dist/`)
 * and published as an artifact, and the webhook receiver on port 0. A tag is pushed to the bare repository with
 * the git CLI and delivered as the post-receive hook does (`deliverRefUpdates`: a signed
 * GitHub push with the peeled commit), so each run goes through the whole product path.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deliverRefUpdates, gitPeeler } from '../../src/cli/push-delivery.js';
import { parseAviaryConfig, type AviaryConfig } from '../../src/config/app-schema.js';
import { formatIssues } from '../../src/config/config-error.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from '../../src/pipelines/git/git-test-support.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { findFreePort } from '../../src/target/process/free-port.js';
import { ProcessLeakCheck } from '../fixtures/apps/http-app-spec.js';

const CATALOGDETAIL = fileURLToPath(new URL('../../demo/apps/catalogdetail.js', import.meta.url));
const ZERO = '0'.repeat(40);

/** Bearer token of the control API under test. */
export const PIPELINE_TOKEN = 'pipeline-dashboard-token';
/** The configured source and the repository its deliveries must name. */
export const SOURCE = 'catalogdetail';
const REPOSITORY = 'acme/catalogdetail';
/** The variable the source's webhook secret is read from (`secretEnv`). */
const SECRET_ENV = 'CATALOGDETAIL_HOOK_SECRET';
const SECRET = 'pipeline-dashboard-hook-secret';
/** What the first build step prints, in every build. */
export const STEP_ONE_LINE = 'building step one';

/** A running runtime with pipelines, its repository, and what a test does with them. */
export interface PipelineRuntime {
  readonly runtime: Runtime;
  readonly repo: TestRepository;
  readonly leaks: ProcessLeakCheck;
  /** Creates `${GATE_FILE}-<gate>`, which a build's `build.js` may wait for (`GATE_FILE` is in the steps' environment). */
  openGate(gate: string): Promise<void>;
  /**
   * Commits `files`, tags the commit `tag` (annotated), pushes both to the bare repository
   * and delivers the tag's update to the receiver; resolves the receiver's status.
   */
  pushTag(tag: string, files: Record<string, string>): Promise<number | undefined>;
  /** Closes the runtime and removes the directory. */
  close(): Promise<void>;
}

function config(
  stateDir: string,
  bare: string,
  routerPort: number,
  gateFile: string,
  leaks: ProcessLeakCheck,
): AviaryConfig {
  const result = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: routerPort },
    api: { port: 0 },
    stateDir,
    apps: [
      {
        name: 'catalogdetail',
        path: '/',
        process: {
          command: process.execPath,
          args: [CATALOGDETAIL],
          env: { VERSION: '1', ...leaks.env },
          readinessProbe: { httpGet: { path: '/ping' }, interval: '100ms' },
        },
      },
    ],
    pipelines: {
      webhooks: { port: 0 },
      sources: [
        {
          name: SOURCE,
          forge: 'github',
          repository: REPOSITORY,
          url: bare,
          secretEnv: SECRET_ENV,
          build: {
            app: 'catalogdetail',
            steps: [
              [process.execPath, '-e', `console.log(${JSON.stringify(STEP_ONE_LINE)})`],
              [process.execPath, 'build.js'],
            ],
            // Not '.', the schema's default: the build flow refuses it (assertTreePath), reported.
            output: 'dist',
            timeout: '2m',
            // The leak check's marker reaches every build step too.
            env: { GATE_FILE: gateFile, ...leaks.env },
          },
        },
      ],
    },
  });
  if (!result.ok) throw new Error(`pipeline config rejected:\n${formatIssues(result.issues)}`);
  return result.value;
}

/** Starts the runtime over a new bare repository; close it with {@link PipelineRuntime.close}. */
export async function startPipelineRuntime(): Promise<PipelineRuntime> {
  const dir = await makeTemporaryDir('pipeline-dashboard');
  const bare = join(dir, 'catalogdetail.git');
  await promisify(execFile)('git', ['init', '--bare', '--quiet', bare]);
  const repo = await createTestRepository(dir);
  const leaks = new ProcessLeakCheck();
  const gateFile = join(dir, 'gate');
  let runtime: Runtime;
  try {
    runtime = await startRuntime(config(join(dir, 'state'), bare, await findFreePort(), gateFile, leaks), {
      token: PIPELINE_TOKEN,
      drainMs: 200,
      maxTickMs: 250,
      baseDir: dir,
      environment: { [SECRET_ENV]: SECRET },
    });
  } catch (error) {
    await removeTemporaryDir(dir);
    throw error;
  }
  const webhookUrl = runtime.pipelines.service?.webhookUrl;
  return {
    runtime,
    repo,
    leaks,
    openGate: (gate) => writeFile(`${gateFile}-${gate}`, ''),
    async pushTag(tag, files) {
      if (webhookUrl === undefined) throw new Error('the runtime started no webhook receiver');
      await repo.commit(tag, files);
      await repo.git('tag', '-a', tag, '-m', tag);
      await repo.git('push', '--quiet', bare, 'main', tag);
      const after = await repo.git('rev-parse', `refs/tags/${tag}`);
      const warnings: string[] = [];
      const [result] = await deliverRefUpdates([{ before: ZERO, after, ref: `refs/tags/${tag}` }], {
        url: `${webhookUrl}/hooks/github`,
        repository: REPOSITORY,
        secret: SECRET,
        cloneUrl: bare,
        peel: gitPeeler(bare),
        log: () => undefined,
        warn: (line) => warnings.push(line),
      });
      if (result?.status === undefined) throw new Error(`delivery of ${tag} failed: ${warnings.join('; ')}`);
      return result.status;
    },
    async close() {
      try {
        await runtime.close();
      } finally {
        await removeTemporaryDir(dir);
      }
    },
  };
}
