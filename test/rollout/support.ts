/**
 * Shared fixtures of the rollout integration suites, and the one module they import: the
 * embedded runtime started on port 0 with a temporary state directory and catalogdetail as
 * the app under rollout, with shortcuts into its rollout. The rest lives beside it and is
 * re-exported here: the deployed config (catalog-config), cleanup and the process leak
 * check (test-cleanup), waits with generous deadlines (deadline-waits), the traffic
 * generator (traffic-loop) and webhook/alert receivers (loopback-receiver).
 */
import type { AviaryConfig, AviaryConfigInput } from '../../src/config/app-schema.js';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import type { RolloutView } from '../../src/rollout/controller/controller.js';
import type { RolloutPhase } from '../../src/rollout/step/rollout-status.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import type { VersionRole } from '../../src/target/target.js';
import { APP, catalogApp, TOKEN, testConfig, type CanaryInput, type ProcessInput } from './catalog-config.js';
import { waitFor } from './deadline-waits.js';
import { onCleanup, tempDir } from './test-cleanup.js';

export * from './catalog-config.js';
export * from './deadline-waits.js';
export * from './loopback-receiver.js';
export * from './test-cleanup.js';
export * from './traffic-loop.js';

/** A runtime under test and shortcuts into its rollout of {@link APP}. */
export interface TestRuntime {
  readonly runtime: Runtime;
  readonly stateDir: string;
  /** Applies `process` (and optionally a new canary block) as a new configuration. */
  deploy(process: ProcessInput, canary?: CanaryInput): void;
  /** Phase at the end of the last completed tick. */
  phase(): RolloutPhase | undefined;
  events(reason?: string): RolloutEventRecord[];
  /** Polls until the rollout is in `phase`; fails with the last events when it never gets there. */
  waitForPhase(phase: RolloutPhase): Promise<void>;
  /** Pids of a role's replicas as the target reports them now. */
  pids(role: VersionRole): Promise<number[]>;
}

/** Starts the embedded runtime for catalogdetail running `version` with `canary`; closed after the test. */
export async function startTestRuntime(
  version: ProcessInput,
  canary: CanaryInput,
  extra: Partial<AviaryConfigInput> = {},
): Promise<TestRuntime> {
  const stateDir = await tempDir();
  let config = testConfig(stateDir, [catalogApp(version, canary)], extra);
  const runtime = await startClosedAfterTest(config);
  const settledPhase = watchSettledPhase(runtime);
  let lastCanary = canary;
  const test: TestRuntime = {
    runtime,
    stateDir,
    deploy(next, nextCanary = lastCanary) {
      lastCanary = nextCanary;
      config = testConfig(stateDir, [catalogApp(next, nextCanary)], extra);
      runtime.update(config);
    },
    phase: settledPhase,
    events: (reason) =>
      runtime.controller.events(APP).filter((e) => reason === undefined || e.reason === reason),
    async waitForPhase(phase) {
      await waitFor(
        `rollout in phase ${phase}`,
        () => (test.phase() === phase ? true : undefined),
        () => describeRollout(test),
      );
    },
    async pids(role) {
      const status = await runtime.target.status(APP, role);
      return (status?.replicas ?? []).flatMap((replica) =>
        typeof replica.pid === 'number' ? [replica.pid] : [],
      );
    },
  };
  return test;
}

/**
 * Starts the embedded runtime on `config` with the suites' token, a 200 ms drain and at most
 * 250 ms between ticks; closed after the test.
 */
export async function startClosedAfterTest(config: AviaryConfig): Promise<Runtime> {
  const runtime = await startRuntime(config, { token: TOKEN, drainMs: 200, maxTickMs: 250 });
  onCleanup(() => runtime.close());
  return runtime;
}

/**
 * The phase of {@link APP} as of the end of the last tick, when its actions have run and its
 * events are recorded (controller.view() shows a tick's new phase while its actions still run).
 */
export function watchSettledPhase(runtime: Runtime): () => RolloutPhase | undefined {
  let settled: RolloutView | undefined;
  runtime.controller.on('status', (view: RolloutView) => {
    if (view.app === APP) settled = view;
  });
  return () => settled?.status?.phase;
}

/** Phase, weight and the last events, for failure messages. */
export function describeRollout(test: Pick<TestRuntime, 'phase' | 'events'>): string {
  const recent = test
    .events()
    .slice(-8)
    .map((e) => `  ${e.reason} [${e.phase} ${e.canaryWeight}%]: ${e.message}`);
  return `phase ${String(test.phase())}; last events:\n${recent.join('\n')}`;
}
