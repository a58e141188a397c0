/**
 * Every chaos scenario, in the order of issue 16's priorities; `--only` picks by name.
 */
import type { Scenario } from '../scenario.js';
import { clockJumpScenario } from './clock-jump.js';
import { controllerKillScenario } from './controller-kill.js';
import { metricsBackendScenario } from './metrics-backend.js';
import { OPERATOR_SCENARIOS } from './operator-faults.js';
import { releaseFileKillScenario } from './release-file-kill.js';
import { replicaFaultScenario } from './replica-faults.js';
import { stateDiskScenario } from './state-disk.js';
import { tornJournalScenario } from './torn-journal.js';
import { weightSwapsScenario } from './weight-swaps.js';
import { webhookFloodScenario } from './webhook-flood.js';

/** Every scenario the runner knows. */
export const ALL_SCENARIOS: readonly Scenario[] = [
  controllerKillScenario('canary'),
  controllerKillScenario('ab'),
  controllerKillScenario('blue-green'),
  releaseFileKillScenario,
  tornJournalScenario,
  stateDiskScenario('full'),
  stateDiskScenario('read-only'),
  replicaFaultScenario('kill'),
  replicaFaultScenario('stop'),
  metricsBackendScenario('down'),
  metricsBackendScenario('flapping'),
  weightSwapsScenario,
  webhookFloodScenario,
  clockJumpScenario('forward'),
  clockJumpScenario('back'),
  ...OPERATOR_SCENARIOS,
];

/** The scenarios named in `names` (all when empty); an unknown name is an error listing the known ones. */
export function scenariosNamed(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...ALL_SCENARIOS];
  return names.map((name) => {
    const found = ALL_SCENARIOS.find((s) => s.name === name);
    if (!found)
      throw new Error(
        `--only: unknown scenario ${JSON.stringify(name)}; known: ${ALL_SCENARIOS.map((s) => s.name).join(', ')}`,
      );
    return found;
  });
}
