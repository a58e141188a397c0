/**
 * Checks a release file (the operator's list of versions and weights) for `aviary validate`
 * with `parseReleaseDocument` of `src/config/release-schema.ts`. The module is loaded lazily
 * and only when a release document turns up: a build without it reports release documents
 * as unchecked (a warning) instead of failing to start.
 */
import type { ConfigIssue } from '../config/config-error.js';

/** Issues and warnings for one release document. */
export interface ReleaseCheck {
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

type ReleaseParser = (document: unknown) => { ok: boolean; issues?: readonly ConfigIssue[] };

// A variable specifier: the type checker does not require the module to exist.
const RELEASE_SCHEMA_MODULE = '../config/release-schema.js';

let parser: Promise<ReleaseParser | string> | undefined;

async function loadParser(): Promise<ReleaseParser | string> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(RELEASE_SCHEMA_MODULE)) as Record<string, unknown>;
  } catch (err) {
    const missing =
      (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes('release-schema');
    if (missing) return 'release files are not checked by this build (no src/config/release-schema.ts)';
    throw err;
  }
  const parse = exports.parseReleaseDocument;
  if (typeof parse !== 'function')
    return 'release files are not checked: release-schema.ts does not export parseReleaseDocument';
  return (document) => (parse as ReleaseParser)(document);
}

/**
 * Validates a release document on its own: without `--app` or the app's `releases` settings,
 * so tags are checked against the default settings.
 */
export async function checkReleaseDocument(document: unknown): Promise<ReleaseCheck> {
  parser ??= loadParser();
  const found = await parser;
  if (typeof found === 'string') return { issues: [], warnings: [{ path: '', message: found }] };
  const result = found(document);
  return { issues: result.ok ? [] : (result.issues ?? []), warnings: [] };
}
