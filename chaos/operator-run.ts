/**
 * One run of an operator chaos scenario (scenarios/operator-faults.ts): the real test
 * control plane with the Canary `podinfo` initialised, the built `aviary operator` started
 * in processes of the run, and the reads and checks every operator scenario shares (the
 * weight steps from the Canary's `WeightAdvanced` Events, who made each Event).
 */
import { join } from 'node:path';
import { NS, OperatorFixture } from '../test/kubernetes/operator-fixture.js';
import { AVIARY_BIN, checkNothingLeftBehind, stopGracefully } from './aviary-up.js';
import type { ChaosProcess } from './run-scope.js';
import type { RunContext } from './scenario.js';
import { waitUntil } from './waiting.js';

/** Canary weight added per step. */
export const STEP = 10;
/** Bound of one wait on the cluster: a step is 10 s, the machine is shared. */
const LONG_WAIT_MS = 180_000;

export interface CanaryEvent {
  reason: string;
  message: string;
  reportingInstance?: string;
  /** `<canary>.<ms, hex>.<reason>`: when the operator made it, to the millisecond. */
  metadata: { name: string };
}

/** One run's cluster, its Canary and the operator processes started on it. */
export class OperatorRun {
  readonly fixture = new OperatorFixture();
  readonly steps: number[];

  constructor(
    readonly context: RunContext,
    readonly maxWeight: number,
  ) {
    this.steps = Array.from({ length: maxWeight / STEP }, (_, i) => (i + 1) * STEP);
  }

  /** Starts the plane with the Canary initialised by an in-process operator, then closes that one. */
  async start(apiServerArgs: readonly string[] = []): Promise<void> {
    this.context.scope.defer(() => this.fixture.stop());
    await this.fixture.start(
      {
        interval: '10s',
        threshold: 2,
        maxWeight: this.maxWeight,
        stepWeight: STEP,
        judge: { enabled: false },
      },
      {},
      undefined,
      { plane: { apiServerArgs } },
    );
    await this.fixture.phase('Initialized');
    // From here on only `aviary operator` processes run the Canary.
    await this.fixture.operator.close();
  }

  /** `aviary operator` as a user runs it (the built CLI), marked as a process of this run. */
  async operator(leaseArgs: readonly string[]): Promise<ChaosProcess> {
    // A directory of its own: two operators of one run must not share their state.
    const stateDir = join(await this.context.scope.tempDir('aviary-chaos-operator-'), 'state');
    return this.context.scope.spawn(process.execPath, [
      AVIARY_BIN,
      'operator',
      `--kubeconfig=${this.fixture.plane.kubeconfig}`,
      `--namespace=${NS}`,
      `--state-dir=${stateDir}`,
      '--min-interval=1s',
      '--api-port=0',
      ...leaseArgs,
    ]);
  }

  /** The first match of `pattern` in `operator`'s output, once printed. */
  line(operator: ChaosProcess, pattern: RegExp): Promise<RegExpExecArray> {
    return waitUntil(
      `operator line ${pattern}`,
      () => {
        if (operator.hasExited()) throw new Error(`aviary operator exited:\n${operator.output()}`);
        return pattern.exec(operator.output()) ?? undefined;
      },
      this.context.signal,
      operator.output,
      LONG_WAIT_MS,
    );
  }

  /** Its leader-election identity, from `leading as` or `standby as`. */
  async identity(operator: ChaosProcess): Promise<string> {
    return (await this.line(operator, /(?:leading|standby) as (\S+?):?(?: \(|$| )/m))[1]!;
  }

  /** A new image for the target: the rollout starts. Answers how many steps were taken before. */
  async release(image: string): Promise<number> {
    const before = (await this.fixture.advances()).length;
    await this.fixture.run([
      'set',
      'image',
      'deployment/podinfo',
      `podinfo=example.invalid/podinfo:${image}`,
    ]);
    return before;
  }

  /** Waits until the Canary's status holds at least `weight`. */
  statusWeightAtLeast(weight: number): Promise<true> {
    return waitUntil(
      `status weight ${weight}`,
      async () => (((await this.fixture.status()).canaryWeight ?? 0) >= weight ? true : undefined),
      this.context.signal,
      undefined,
      LONG_WAIT_MS,
    );
  }

  /** Waits for the step after the `taken`-th; answers when, by performance.now. */
  nextStepAfter(taken: number): Promise<number> {
    return waitUntil(
      `weight step ${taken + 1}`,
      async () => ((await this.fixture.advances()).length > taken ? performance.now() : undefined),
      this.context.signal,
      undefined,
      LONG_WAIT_MS,
    );
  }

  /** Waits for Succeeded, then checks every weight step since `before` was taken exactly once. */
  async checkSucceededOnce(before: number): Promise<void> {
    const succeeded = await this.fixture
      .phase('Succeeded', LONG_WAIT_MS)
      .then(() => true)
      .catch((error: Error) => error.message);
    this.context.check('the rollout succeeds', succeeded === true, String(succeeded));
    const advances = (await this.fixture.advances()).slice(before);
    this.context.figure('steps', advances.length);
    this.context.figure('doubleSteps', advances.length - new Set(advances).size);
    this.context.check(
      'every weight step taken exactly once',
      JSON.stringify(advances) === JSON.stringify(this.steps),
      `WeightAdvanced to ${advances.join(', ')}; expected ${this.steps.join(', ')}`,
    );
  }

  /** The Canary's Events, with who made them. */
  async canaryEvents(): Promise<CanaryEvent[]> {
    return (
      await this.fixture.getJson<{ items: CanaryEvent[] }>([
        'events',
        '--field-selector',
        'involvedObject.name=podinfo,involvedObject.kind=Canary',
      ])
    ).items;
  }

  /** SIGTERM to each operator (a SIGSTOPped one continued first), then nothing of the run alive. */
  async stop(operators: readonly ChaosProcess[]): Promise<void> {
    for (const operator of operators) {
      if (operator.hasExited()) continue;
      process.kill(operator.pid, 'SIGCONT');
      const code = await stopGracefully(operator);
      this.context.check('aviary operator stops on SIGTERM', code === 143 || code === 0, `exit code ${code}`);
    }
    await checkNothingLeftBehind(this.context, this.context.signal);
  }
}

/** When the operator made `event` (its `firstTimestamp` has only whole seconds). */
export const madeAt = (event: CanaryEvent): number => parseInt(event.metadata.name.split('.')[1] ?? '', 16);

/** The weight of each `WeightAdvanced` among `events`. */
export const stepsIn = (events: readonly CanaryEvent[]): number[] =>
  events.filter((e) => e.reason === 'WeightAdvanced').map((e) => Number(/weight (\d+)/.exec(e.message)?.[1]));
