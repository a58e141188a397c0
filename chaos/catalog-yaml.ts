/**
 * The aviary.yaml the chaos scenarios run: the demo's catalogdetail app as process replicas
 * marked with the run's marker, router and control API on loopback port 0, and a canary
 * block per strategy that completes in seconds (analysis every 500 ms).
 */
import { CATALOGDETAIL } from './aviary-up.js';
import { RUN_MARKER } from './run-scope.js';

/** The app every scenario rolls out, and its path on the router. */
export const APP = 'catalogdetail';
export const APP_PATH = '/catalogDetail';
/** The header and value that put an A/B client on the canary. */
export const AB_HEADER = { 'x-canary': 'insider' } as const;

/** Rollout strategies of issue 16's kill scenario (Flagger's names). */
export type Strategy = 'canary' | 'ab' | 'blue-green';

/** The analysis block of each strategy, as YAML flow text. */
const ANALYSIS: Record<Strategy, string> = {
  canary: '{interval: 500ms, threshold: 2, stepWeight: 10, maxWeight: 50, judge: false, metrics: [SUCCESS]}',
  ab: '{interval: 500ms, threshold: 2, iterations: 4, match: [{headers: {x-canary: {exact: insider}}}], judge: false, metrics: [SUCCESS]}',
  'blue-green':
    '{interval: 500ms, threshold: 2, iterations: 3, mirror: true, judge: false, metrics: [SUCCESS]}',
};
const SUCCESS = '{name: request-success-rate, interval: 30s, thresholdRange: {min: 99}}';

/** What a scenario varies in its aviary.yaml. */
export interface CatalogYamlOptions {
  readonly stateDir: string;
  /** The run's marker (see {@link RUN_MARKER}). */
  readonly marker: string;
  /** VERSION of the replicas. */
  readonly version: string;
  /** Omitted: no canary block (an app a release file drives). */
  readonly strategy?: Strategy;
  readonly replicas?: number;
  /** More of the process block, as YAML flow entries (`livenessProbe: {...}`). */
  readonly processExtra?: string;
  /** The router block; default `{port: 0}` (the supervised proxy process). */
  readonly router?: string;
  readonly progressDeadlineSeconds?: number;
  /** The canary's analysis block as YAML flow text, instead of the strategy's. */
  readonly analysis?: string;
  /** More top-level settings, as YAML lines (`metricsServer: http://…`). */
  readonly topLevel?: string;
}

/** The aviary.yaml text of one scenario. */
export function catalogYaml(options: CatalogYamlOptions): string {
  const canary = options.strategy
    ? `
    canary:
      progressDeadlineSeconds: ${options.progressDeadlineSeconds ?? 120}
      analysis: ${options.analysis ?? ANALYSIS[options.strategy].replace('SUCCESS', SUCCESS)}`
    : '';
  return `apiVersion: aviary.dev/v1alpha1
kind: Aviary
router: ${options.router ?? '{port: 0}'}
api: {port: 0}
stateDir: ${JSON.stringify(options.stateDir)}
minAnalysisInterval: 200ms${options.topLevel ? `\n${options.topLevel}` : ''}
apps:
  - name: ${APP}
    path: ${APP_PATH}
    process:
      command: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(CATALOGDETAIL)}]
      replicas: ${options.replicas ?? 1}
      env: {VERSION: "${options.version}", ${RUN_MARKER}: "${options.marker}"}
      readinessProbe: {httpGet: {path: /ping}, interval: 100ms}${options.processExtra ? `\n      ${options.processExtra}` : ''}${canary}
`;
}
