/**
 * One app of `aviary.yaml` (`apps[]`): its name, how the router exposes it, its workload
 * block, its canary block and its release-file settings. The whole document's schema is
 * app-schema.ts.
 */
import { z } from 'zod';
import { canarySchema } from './app-canary.js';
import { WORKLOAD_KINDS, WORKLOAD_SCHEMAS, type WorkloadSpec } from './app-workload.js';
import { releaseSettingsSchema } from './release-settings.js';

const appName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  message:
    'expected a lower-case name of letters, digits and "-" (at most 63, starting and ending with a letter or digit)',
});

const hostPattern = z.string().regex(/^(\*|(\*\.)?[a-zA-Z0-9.-]+)$/, {
  message: 'expected a host name, "*.example.com" or "*"',
});

/** Each workload block as an optional field of an app. */
const workloadBlocks = Object.fromEntries(
  WORKLOAD_KINDS.map((kind) => [kind, WORKLOAD_SCHEMAS[kind].optional()]),
) as { [K in keyof typeof WORKLOAD_SCHEMAS]: z.ZodOptional<(typeof WORKLOAD_SCHEMAS)[K]> };

/**
 * One app: its name, where the router exposes it (`hosts` and/or a `path` prefix), what
 * runs its versions (one workload block: `process` or `endpoints`), and how to roll a new
 * version out. Without a canary block a new revision is promoted at once
 * (`skipAnalysis: true`). The output carries the workload block as `workload`.
 */
export const appSchema = z
  .strictObject({
    name: appName,
    hosts: z.array(hostPattern).min(1).optional(),
    path: z.string().startsWith('/', { message: 'expected a path prefix starting with "/"' }).optional(),
    ...workloadBlocks,
    canary: canarySchema.prefault({ skipAnalysis: true }),
    /**
     * How a release file's entries (`aviary apply`) become processes of this app; see
     * config/release-settings.ts. Only for a `process` workload.
     */
    // unwrap(): the block's own prefault would fill it in for every app, so absence could not be told.
    releases: releaseSettingsSchema.unwrap().optional(),
  })
  .superRefine((app, ctx) => {
    if (app.hosts === undefined && app.path === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected hosts and/or path: the router needs a way to reach the app',
      });
    }
    const blocks = WORKLOAD_KINDS.filter((kind) => app[kind] !== undefined);
    if (blocks.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a workload block; known workload kinds: ${WORKLOAD_KINDS.join(', ')}`,
      });
    }
    if (app.releases !== undefined && blocks.length > 0 && app.process === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['releases'],
        message: `release files run processes: a releases block needs a process workload, not ${blocks[0]}`,
      });
    }
    if (app.endpoints !== undefined && app.canary.analysis.baseline === 'fresh') {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'analysis', 'baseline'],
        message:
          'baseline: fresh starts a new copy of the primary, but an endpoints workload only probes addresses run by someone else and cannot start copies; use baseline: primary, or a workload Aviary runs (process)',
      });
    }
    for (const extra of blocks.slice(1)) {
      ctx.addIssue({
        code: 'custom',
        path: [extra],
        message: `one workload block per app: ${blocks[0]} is already set`,
      });
    }
  })
  .transform((app) => {
    const { name, hosts, path, canary, releases } = app;
    const kind = WORKLOAD_KINDS.find((k) => app[k] !== undefined) ?? 'process';
    const workload = app[kind] as WorkloadSpec;
    return {
      name,
      ...(hosts === undefined ? {} : { hosts }),
      ...(path === undefined ? {} : { path }),
      workload,
      canary,
      ...(releases === undefined ? {} : { releases }),
    };
  });
