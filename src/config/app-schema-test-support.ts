/**
 * `aviary.yaml` documents the schema suites parse: the fixture's valid app with fields
 * changed, and a minimal one-app document whose analysis runs the metrics a test gives.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** A document as parsed YAML: plain objects. */
export type Doc = Record<string, unknown>;

const BASE = parseYaml(
  readFileSync(new URL('../../test/fixtures/specs/aviary.yaml', import.meta.url), 'utf8'),
) as Doc;

/** The first app of test/fixtures/specs/aviary.yaml, which the schema accepts. */
export const VALID_APP = (BASE.apps as Doc[])[0] as Doc & { canary: { analysis: Doc & { metrics: Doc[] } } };

/** A document with {@link VALID_APP} changed by `app`, and top-level fields from `top`. */
export function config(app: Doc = {}, top: Doc = {}): Doc {
  return { apiVersion: 'aviary.dev/v1alpha1', kind: 'Aviary', apps: [{ ...VALID_APP, ...app }], ...top };
}

/** {@link config} with {@link VALID_APP}'s analysis changed by `analysis`. */
export function withAnalysis(analysis: Doc): Doc {
  return config({ canary: { analysis: { ...VALID_APP.canary.analysis, ...analysis } } });
}

/**
 * A document with one app, catalogdetail (`node server.js` on `/catalogDetail`), whose
 * analysis steps by 10 % and checks `metrics`; `top` adds top-level fields such as
 * `metricTemplates`.
 */
export function appWithMetrics(metrics: readonly unknown[], top: Doc = {}): Doc {
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    ...top,
    apps: [
      {
        name: 'catalogdetail',
        path: '/catalogDetail',
        process: { command: 'node', args: ['server.js'] },
        // The judge off: these documents are about the checks they list.
        canary: { analysis: { stepWeight: 10, metrics, judge: false } },
      },
    ],
  };
}
