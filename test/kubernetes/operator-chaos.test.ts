/**
 * The chaos runner's operator scenarios (chaos/scenarios/operator-faults.ts) once each, as
 * `npm run chaos` runs them, on the real test control plane: the API server restarted, the
 * leader killed, a watch gone stale. Each run must succeed with every weight step taken once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runChaos } from '../../chaos/chaos-runner.js';
import { OPERATOR_SCENARIOS } from '../../chaos/scenarios/operator-faults.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { ensureBuilt } from '../cli/cli-support.js';

const unavailable = await controlPlaneSkipReason();

describe.skipIf(unavailable !== undefined)('npm run chaos: the operator scenarios', () => {
  beforeAll(() => ensureBuilt(), 240_000);

  for (const scenario of OPERATOR_SCENARIOS)
    it(`${scenario.name} passes once`, { timeout: scenario.runTimeoutMs + 60_000 }, async () => {
      const [result] = await runChaos({ scenarios: [scenario], seed: 16, runs: 1, quick: true });
      expect(result!.runs.flatMap((run) => run.violations)).toEqual([]);
      expect(result!.runs[0]!.figures).toMatchObject({ doubleSteps: 0, steps: 3 });
    });
});
