/**
 * What a release entry runs as on Kubernetes (docs/adr/0024-releases-on-kubernetes.md): the
 * image repository (the entry's tag completes it, `<repository>:<tag>`), the container port,
 * the replicas and the Gateways the app's HTTPRoute attaches to. The operator's options give
 * the defaults; a Helm values file (`canaryConfig:`) may set them for its app with the keys
 * `helm create` scaffolds (`image.repository`, `image.pullPolicy`, `replicaCount`,
 * `service.port`, `httpRoute.parentRefs`, `httpRoute.hostnames`), which the release schema
 * leaves to the chart and this file reads. A `versions:` document is strict, so it takes
 * the operator's defaults only. Pure: every problem is an issue naming its path.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../config/config-error.js';
import { parseWithSchema, type Validated } from '../config/schema-issues.js';
import type { ParentReference } from '../router/gateway-api/http-route.js';

/** How an app's release entries run, as the operator is configured. */
export interface ReleaseTemplateDefaults {
  /**
   * The image repository, `${app}` replaced by the app's name (e.g.
   * `123456789012.dkr.ecr.eu-central-1.amazonaws.com/${app}`). No default: without it a
   * values file must name `image.repository`.
   */
  readonly imageRepository?: string;
  /** The port each version listens on and its Service serves; default 8080. */
  readonly port?: number;
  /** Replicas of each entry's Deployment; default 1. */
  readonly replicas?: number;
  /** The Gateways the app's HTTPRoute attaches to. */
  readonly parentRefs?: readonly ParentReference[];
  /** Host names of the HTTPRoute; default any. */
  readonly hostnames?: readonly string[];
}

/** One app's release template, resolved. */
export interface ReleaseTemplate {
  readonly imageRepository: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  readonly port: number;
  readonly replicas: number;
  readonly parentRefs: readonly ParentReference[];
  readonly hostnames: readonly string[];
}

const DEFAULT_PORT = 8080;
const DEFAULT_REPLICAS = 1;

/** An OCI repository reference without tag or digest: `host[:port]/path`, lower-case path. */
const REPOSITORY =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

const parentRefSchema = z.strictObject({
  group: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().min(1),
  sectionName: z.string().optional(),
  port: z.number().int().min(1).max(65_535).optional(),
});

/** The keys of a Helm values file this file reads; every other key is the chart's. */
const valuesSchema = z.object({
  image: z
    .object({
      repository: z
        .string()
        .regex(REPOSITORY, { message: 'expected an image repository without tag, e.g. ghcr.io/acme/catalog' })
        .optional(),
      pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    })
    .optional(),
  replicaCount: z.number().int().min(0).max(1000).optional(),
  service: z.object({ port: z.number().int().min(1).max(65_535).optional() }).optional(),
  httpRoute: z
    .object({
      parentRefs: z.array(parentRefSchema).min(1).max(32).optional(),
      hostnames: z.array(z.string().min(1)).optional(),
    })
    .optional(),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The template of `app` from the operator's `defaults` and, for a Helm values file
 * (`canaryConfig:` at its top), the keys it sets. Issues name the values file's path, or the
 * missing setting and where it can be given.
 */
export function releaseTemplateOf(
  app: string,
  document: unknown,
  defaults: ReleaseTemplateDefaults,
): Validated<ReleaseTemplate> {
  const values = isRecord(document) && 'canaryConfig' in document ? document : {};
  const parsed = parseWithSchema(valuesSchema, values);
  if (!parsed.ok) return parsed;
  const issues: ConfigIssue[] = [];
  const own = parsed.value;
  const imageRepository = own.image?.repository ?? defaults.imageRepository?.replaceAll('${app}', app);
  if (imageRepository === undefined)
    issues.push({
      path: 'image.repository',
      message: `no image repository for app ${app}: set image.repository in the values file (canaryConfig:), or start the operator with an image repository for releases`,
    });
  // zod leaves absent keys out, so each ref is a ParentReference as given.
  const parentRefs =
    (own.httpRoute?.parentRefs as readonly ParentReference[] | undefined) ?? defaults.parentRefs ?? [];
  if (parentRefs.length === 0)
    issues.push({
      path: 'httpRoute.parentRefs',
      message: `no Gateway for the HTTPRoute of app ${app}: set httpRoute.parentRefs in the values file (canaryConfig:), or start the operator with a Gateway for releases`,
    });
  if (issues.length > 0 || imageRepository === undefined) return { ok: false, issues };
  return {
    ok: true,
    value: {
      imageRepository,
      ...(own.image?.pullPolicy !== undefined ? { pullPolicy: own.image.pullPolicy } : {}),
      port: own.service?.port ?? defaults.port ?? DEFAULT_PORT,
      replicas: own.replicaCount ?? defaults.replicas ?? DEFAULT_REPLICAS,
      parentRefs,
      hostnames: own.httpRoute?.hostnames ?? defaults.hostnames ?? [],
    },
  };
}
