/**
 * What runs an app's versions: one workload block per app, keyed by its kind. This table is
 * the one list of workload kinds; the target registry (src/target/target-registry.ts) is
 * typed by it, so adding a kind here fails to compile until a target for it exists.
 */
import type { z } from 'zod';
import type { DeploymentSpec } from './app-deployment.js';
import { endpointsSchema, type EndpointsSpec } from './app-endpoints.js';
import { processSchema, type ProcessSpec } from './app-process.js';

/** The schema of each workload kind's block, by kind. */
export const WORKLOAD_SCHEMAS = {
  process: processSchema,
  endpoints: endpointsSchema,
} as const satisfies Record<string, z.ZodType>;

/** A workload kind of aviary.yaml: the key of an app's workload block. */
export type ConfigWorkloadKind = keyof typeof WORKLOAD_SCHEMAS;

/**
 * Every workload kind: those of aviary.yaml, and `deployment`, which the Kubernetes operator
 * builds from Canary objects (src/config/app-deployment.ts).
 */
export type WorkloadKind = ConfigWorkloadKind | (typeof CLUSTER_WORKLOAD_KINDS)[number];

/** Workload kinds only the Kubernetes operator builds (from Canary objects), never aviary.yaml. */
export const CLUSTER_WORKLOAD_KINDS = ['deployment'] as const;

/** Every workload kind of aviary.yaml, sorted. */
export const WORKLOAD_KINDS = (Object.keys(WORKLOAD_SCHEMAS) as ConfigWorkloadKind[]).sort();

/** One version of an app as its target runs it: a spec of one of the workload kinds. */
export type WorkloadSpec = ProcessSpec | EndpointsSpec | DeploymentSpec;

/** The kind of a spec; a spec without `kind` is a process (see {@link ProcessSpec.kind}). */
export function workloadKindOf(spec: WorkloadSpec): WorkloadKind {
  return spec.kind ?? 'process';
}
