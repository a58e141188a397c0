/**
 * The fleet the controller bench rolls out: `count` apps in one validated `aviary.yaml`,
 * each a canary with stepWeight 10 up to maxWeight 50 and one success-rate metric, on a
 * short analysis interval that `minAnalysisInterval` allows (Flagger's 10 s floor would
 * make the bench last minutes without measuring anything more).
 */
import { parseAviaryConfig, type AppSpec, type AviaryConfig } from '../../src/config/app-schema.js';
import { formatIssues } from '../../src/config/config-error.js';

/** Shape of each rollout. */
export interface FleetOptions {
  readonly count: number;
  /** Analysis interval in ms; also the top-level `minAnalysisInterval`. */
  readonly intervalMs: number;
  readonly stateDir: string;
}

/** Name of app `i`: an RFC 1123 label, as the target and state store require. */
export function appName(i: number): string {
  return `app-${String(i).padStart(4, '0')}`;
}

/** The validated configuration with every app at `version`. */
export function fleetConfig(options: FleetOptions, version: string): AviaryConfig {
  const document = {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    stateDir: options.stateDir,
    minAnalysisInterval: options.intervalMs,
    apps: Array.from({ length: options.count }, (_, i) => ({
      name: appName(i),
      path: `/${appName(i)}`,
      process: { command: 'node', args: ['server.js'], env: { VERSION: version } },
      canary: {
        // Long enough never to fire on a loaded machine: a deadline rollback is not the subject.
        progressDeadlineSeconds: 600,
        analysis: {
          interval: options.intervalMs,
          threshold: 5,
          stepWeight: 10,
          maxWeight: 50,
          metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' }],
        },
      },
    })),
  };
  const parsed = parseAviaryConfig(document);
  if (!parsed.ok) throw new Error(`bench fleet is invalid:\n${formatIssues(parsed.issues)}`);
  return parsed.value;
}

/** The apps of `fleetConfig(options, version)`. */
export function fleetApps(options: FleetOptions, version: string): readonly AppSpec[] {
  return fleetConfig(options, version).apps;
}
