/**
 * `aviary demo`: the catalogdetail story on this machine, start to finish — catalogdetail v2
 * released through an analysed canary and promoted, a faulty v3 caught and rolled back —
 * with live progress, then left running for exploration until Ctrl-C.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { ListenFailure } from '../listen-failure.js';
import type { Runtime } from '../runtime.js';
import { resolveToken } from './admin-token.js';
import { applyEachSave, cliRouterContext } from './up-command.js';
import {
  demoConfig,
  formatEvent,
  prepareDemoDir,
  storyMinimumSeconds,
  waitForPhase,
  writeDemoConfig,
  type CatalogRelease,
  type DemoSettings,
} from './demo-story.js';
import { DEFAULT_WEBHOOK_PORT } from '../config/pipelines-schema.js';
import { portOf } from './demo-ports.js';
import { EXIT } from './exit-codes.js';
import { gitopsSucceeded, runGitopsDemo } from './demo-gitops.js';
import { judgeCheckOf, judgeLines } from './render-judge.js';
import { TrafficGenerator, trafficSummary } from './traffic-generator.js';
import {
  closeRuntime,
  listenForStop,
  stopWhenOrphaned,
  whenAborted,
  type StopRequest,
} from './stop-signals.js';

interface DemoOptions {
  fast?: boolean;
  exitAfterStory?: boolean;
  routerPort: string;
  apiPort: string;
  stateDir: string;
  rate: string;
  inProcessRouter?: boolean;
  gitops?: boolean;
  webhookPort: string;
}

/** The flag of each port the demo's runtime listens on, by the setting it becomes. */
const DEMO_PORT_FLAGS: Readonly<Record<string, string>> = {
  'router.port': '--router-port',
  'api.port': '--api-port',
};

const V1 = { VERSION: '1' };
const V2 = { VERSION: '2' };
const V3 = { VERSION: '3', FAIL_RATE: '0.1', EXTRA_LATENCY_MS: '120' };

/** The apps' replicas and the router's own process, when it has one. */
function pidsOf(runtime: Runtime): Promise<number[]> {
  const router = runtime.router.pid;
  return Promise.all(
    runtime.controller
      .apps()
      .flatMap((app) => [runtime.target.status(app, 'primary'), runtime.target.status(app, 'canary')]),
  ).then((statuses) =>
    statuses
      .flatMap((s) => s?.replicas.flatMap((r) => (typeof r.pid === 'number' ? [r.pid] : [])) ?? [])
      .concat(router === undefined ? [] : [router]),
  );
}

/**
 * Runs the story; resolves with its outcome. A SIGINT, SIGTERM or SIGHUP at any moment, from
 * the clean-up of an earlier demo to the wait after the story, stops every process it
 * started, and so does the exit of its parent (`npm start` killed).
 */
export async function runDemo(options: DemoOptions): Promise<{ v2: string; v3: string }> {
  // A closed terminal hangs up; the demo is no daemon, so that stops it too.
  const stop = listenForStop(['SIGINT', 'SIGTERM', 'SIGHUP']);
  stopWhenOrphaned(stop);
  try {
    return await runDemoUntilStopped(options, stop);
  } finally {
    stop.dispose();
  }
}

async function runDemoUntilStopped(
  options: DemoOptions,
  stop: StopRequest,
): Promise<{ v2: string; v3: string }> {
  const settings: DemoSettings = {
    stateDir: options.stateDir,
    routerPort: await portOf(options.routerPort),
    apiPort: await portOf(options.apiPort),
    fast: options.fast === true,
  };
  let outcome = { v2: 'not reached', v3: 'not reached' };
  const file = await prepareDemoDir(settings, V1);
  if (stop.signal.aborted) return outcome;
  const { token } = await resolveToken(join(settings.stateDir, 'token'));
  const { startRuntime } = await import('../runtime.js');
  // A signal during the start is acted on below, once there is a runtime to close.
  const config = demoConfig(settings, V1);
  const runtime = await startRuntime(config, {
    token,
    drainMs: settings.fast ? 200 : 1000,
    // The router runs as its own process, as under `aviary up`, unless --in-process-router.
    routerContext: cliRouterContext(config.router, options.inProcessRouter),
  }).catch((err: unknown) => {
    // The demo's ports come from its flags, not from a file the user wrote.
    throw err instanceof ListenFailure ? err.named(DEMO_PORT_FLAGS[err.setting] ?? err.setting) : err;
  });
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  runtime.controller.on('event', (event: RolloutEventRecord) => {
    console.log(formatEvent(event, color));
    // The judge's rollback is printed with its evidence: counts, each test and its bounds.
    const judge = event.reason === 'RegressionDetected' ? judgeCheckOf(event.evidence) : undefined;
    if (judge !== undefined) for (const line of judgeLines(judge)) console.log(line);
  });
  const router = runtime.routerUrl;
  const traffic = new TrafficGenerator({
    urls: [`${router}/catalogDetail/`, `${router}/catalogDetail/`, `${router}/catalogDetail/`, `${router}/`],
    ratePerSecond: Number(options.rate),
  });
  const allPids = new Set<number>();
  const notePids = async (): Promise<void> => (await pidsOf(runtime)).forEach((p) => allPids.add(p));
  try {
    console.log(`\nAviary demo — the catalogdetail story (${settings.fast ? 'fast' : 'normal'} mode)`);
    console.log(
      `  It takes at least ${storyMinimumSeconds(settings)} s (one analysis interval per step), plus the time the judge needs to gather evidence.`,
    );
    console.log(`  frontend:   ${router}/`);
    console.log(`  dashboard:  ${runtime.controlUrl}/`);
    console.log(`  config:     ${file}`);
    console.log(`  token:      ${join(settings.stateDir, 'token')}\n`);
    const timeout = settings.fast ? 90_000 : 150_000;
    await Promise.all([
      waitForPhase(runtime, 'catalogdetail', ['Initialized'], timeout, stop.signal),
      waitForPhase(runtime, 'frontend', ['Initialized'], timeout, stop.signal),
    ]);
    traffic.start();
    const storyStart = Date.now();
    await notePids();
    /** Deploys `release` and resolves with the phase its rollout ends in. */
    const rollOut = async (release: CatalogRelease): Promise<string> => {
      stop.signal.throwIfAborted();
      runtime.update(demoConfig(settings, release));
      await writeDemoConfig(file, settings, release);
      await sleep(300, undefined, { signal: stop.signal });
      await notePids();
      return waitForPhase(runtime, 'catalogdetail', ['Succeeded', 'Failed'], timeout, stop.signal);
    };
    console.log('\n── Releasing catalogdetail v2 (one more vendor) through an analysed canary ──');
    outcome = { ...outcome, v2: await rollOut(V2) };
    await notePids();
    console.log(`\n── catalogdetail v2: ${outcome.v2 === 'Succeeded' ? 'promoted' : 'rolled back'} ──`);
    console.log('\n── Releasing catalogdetail v3 (10% errors, slower) ──');
    outcome = { ...outcome, v3: await rollOut(V3) };
    await notePids();
    console.log(
      `\n── catalogdetail v3: ${outcome.v3 === 'Failed' ? 'caught and rolled back' : 'promoted (unexpected)'} ──`,
    );
    console.log(`\nStory told in ${Math.round((Date.now() - storyStart) / 1000)} s.`);
    // Counted once every request sent has answered, so the numbers add up.
    await traffic.stop();
    console.log(`\n${trafficSummary(traffic.counts)}`);
    if (!options.exitAfterStory) {
      // Saves of the demo's file are applied from now on, as `aviary up` applies them.
      const watching = applyEachSave(file, runtime, stop.signal);
      console.log(
        `\nThe demo keeps running. Open ${router}/ and ${runtime.controlUrl}/, edit ${file} (each save is applied), or try:`,
      );
      console.log(`  node bin/aviary.js status --api ${runtime.controlUrl}`);
      console.log('Press Ctrl-C to stop everything.');
      await whenAborted(stop.signal);
      await watching;
    }
  } catch (error) {
    // Stopped mid-story: the story's waits end early; the clean-up below is the answer.
    if (!stop.signal.aborted) throw error;
  } finally {
    await traffic.stop();
    await notePids().catch(() => undefined);
    await closeRuntime(runtime, stop);
    if (options.exitAfterStory) console.log(JSON.stringify({ demo: outcome, pids: [...allPids] }));
  }
  return outcome;
}

/** Registers `aviary demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the demo story: release v2 through an analysed canary, catch a faulty v3')
    .option('--fast', 'short intervals (the story takes well under a minute)')
    .option('--exit-after-story', 'stop everything when the story ends (for CI)')
    .option('--router-port <port>', 'port of the built-in proxy (where the demo takes traffic)', '8080')
    .option('--api-port <port>', 'control API and dashboard port', '8081')
    .option('--state-dir <dir>', 'where state, logs and the demo config go (wiped at start)', '.aviary/demo')
    .option('--rate <rps>', 'generated requests per second', '40')
    .option('--in-process-router', 'run the router inside the demo process instead of its own supervised one')
    .option(
      '--gitops',
      "the seeds' git story instead: tag → build → publish, deploy-repository pushes → release",
    )
    .option(
      '--webhook-port <port>',
      'with --gitops: port of the webhook receiver',
      String(DEFAULT_WEBHOOK_PORT),
    )
    .addHelpText(
      'after',
      `
Examples:
  aviary demo                 # about a minute, then stays up until Ctrl-C
  aviary demo --fast --exit-after-story --router-port 0 --api-port 0
  aviary demo --gitops        # the git pipelines on local bare repositories (npm run demo:gitops)`,
    )
    .action(async (options: DemoOptions, command: Command) => {
      if (options.gitops === true) {
        // Its own default directory: the two demos' state must not mix.
        const defaulted = command.getOptionValueSource('stateDir') === 'default';
        const stateDir = defaulted ? '.aviary/demo-gitops' : options.stateDir;
        const story = await runGitopsDemo({ ...options, stateDir });
        if (options.exitAfterStory && !gitopsSucceeded(story)) process.exitCode = EXIT.failure;
        return;
      }
      const outcome = await runDemo(options);
      if (options.exitAfterStory && (outcome.v2 !== 'Succeeded' || outcome.v3 !== 'Failed'))
        process.exitCode = EXIT.failure;
    });
}
