/**
 * Shared by the ClusterAnalysis tests: MetricTemplates and AlertProviders held in memory as a
 * synced cache answers, the app a Canary `podinfo` in `shop` becomes, and the analysis over them.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { AppSpec } from '../config/app-schema.js';
import { canaryApp } from './canary-app.js';
import { ClusterAnalysis, type AnalysisObjectSource } from './cluster-analysis.js';
import type { AnalysisObject } from './cluster-objects.js';

export const NS = 'shop';
export const never: AbortSignal = new AbortController().signal;

/** Objects held in memory, as a synced cache answers. */
class ObjectsInMemory implements AnalysisObjectSource {
  constructor(readonly objects: AnalysisObject[] = []) {}
  get(name: string, namespace?: string): AnalysisObject | undefined {
    return this.objects.find((o) => o.metadata?.name === name && o.metadata.namespace === namespace);
  }
  list(namespace?: string): AnalysisObject[] {
    return this.objects.filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }
}

let version = 0;
export function object(
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): AnalysisObject {
  version += 1;
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind,
    metadata: { name, namespace, resourceVersion: String(version) },
    spec,
  };
}

/** The app the operator reads from a Canary `podinfo` in `shop` with these metrics and alerts. */
export function appOf(
  analysis: Record<string, unknown>,
  { canary = 'podinfo', service = {} }: { canary?: string; service?: Record<string, unknown> } = {},
): AppSpec {
  const target: V1Deployment = {
    metadata: { name: 'podinfo', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'podinfo' } },
      template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [] } },
    },
  };
  return canaryApp(
    {
      metadata: { name: canary, namespace: NS, uid: 'u1' },
      spec: {
        targetRef: { kind: 'Deployment', name: 'podinfo' },
        service: { port: 9898, gatewayRefs: [{ name: 'edge' }], ...service },
        analysis: {
          interval: '10s',
          threshold: 2,
          maxWeight: 50,
          stepWeight: 10,
          judge: { enabled: false },
          ...analysis,
        },
      },
    },
    target,
  ).app;
}

interface Setup {
  readonly templates?: AnalysisObject[];
  readonly providers?: AnalysisObject[];
}

export function analysisWith(setup: Setup) {
  const warnings: string[] = [];
  const analysis = new ClusterAnalysis({
    templates: new ObjectsInMemory(setup.templates),
    providers: new ObjectsInMemory(setup.providers),
    namespace: NS,
    warn: (app, reason, message) => warnings.push(`${app} ${reason} ${message}`),
    notifierOptions: { retries: 0 },
  });
  return { analysis, warnings };
}

export async function evaluate(analysis: ClusterAnalysis, app: AppSpec, index = 0) {
  return analysis.evaluate(app, app.canary.analysis.metrics[index]!, Date.now(), never);
}
