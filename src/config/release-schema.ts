/**
 * The operator's release file: one list of `{name, tag or version, weight}` for one app. Each
 * entry becomes a running version and a weighted target of the app's route, as each
 * `canaryConfig` entry of a Helm values file (the AWS sample aws-tekton-canary-testing-deploy)
 * became a Deployment and an App Mesh weighted target. Three spellings are accepted:
 *
 * ```yaml
 * app: catalogdetail            # native; `app` may come from `--app` instead
 * versions:
 *   - {name: backend-v1, tag: v1.0.0, weight: 90}
 *   - {name: backend-v2, version: v2.0.0, weight: 10}
 * ```
 *
 * such a Helm values file as is (`canaryConfig: [...]`, other top-level keys ignored,
 * since the chart's templates read them), and a bare YAML list of entries. This file
 * validates a whole document and resolves its app; the list and its entries are checked in
 * release-list.ts, tags in release-tag.ts, and the per-app `releases` settings of
 * `aviary.yaml` (how a tag becomes a process, allowed tags) live in release-settings.ts.
 * See docs/adr/0007-release-file.md.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';
import {
  locateReleaseList,
  parseReleaseEntries,
  RELEASE_NAME_MESSAGE,
  RELEASE_NAME_PATTERN,
  type ReleaseEntry,
  type ReleaseListKey,
} from './release-list.js';
import { DEFAULT_RELEASE_SETTINGS, type ReleaseSettings } from './release-settings.js';

export {
  entryPath,
  RELEASE_MAX_VERSIONS,
  releaseEntrySchema,
  targetAppOf,
  type ReleaseEntry,
  type ReleaseListKey,
} from './release-list.js';
export {
  DEFAULT_RELEASE_SETTINGS,
  releaseSettingsSchema,
  TEMPLATE_VARIABLES,
  type ReleaseSettings,
  type ReleaseSettingsInput,
} from './release-settings.js';
export { RELEASE_TAG_PATTERN, TAG_GRAMMAR } from './release-tag.js';

/** A validated release file. */
export interface Release {
  /**
   * The app it is for: from the context (`--app`, the API path) or the file's `app:`.
   * A file may leave it out; it is then valid but can only be applied with an app given.
   */
  readonly app?: string;
  readonly listKey: ReleaseListKey;
  readonly entries: readonly ReleaseEntry[];
}

/**
 * The entries of an invalid release file that passed their own checks, with each one's
 * position in the list as written, so that checks needing more than the file (a tag's
 * artifact) can still report on them beside the file's own errors.
 */
export interface PartialRelease extends Release {
  readonly indexes: readonly number[];
}

/** A validated release file, or its issues and the entries that passed on their own. */
export type ParsedRelease =
  | { readonly ok: true; readonly value: Release }
  | { readonly ok: false; readonly issues: ConfigIssue[]; readonly passing?: PartialRelease };

/** What validation needs beyond the document. */
export interface ReleaseContext {
  /** The app named outside the file (`--app`, the API path); it must agree with the file's `app:`. */
  readonly app?: string;
  /** The app's `releases` settings. Default {@link DEFAULT_RELEASE_SETTINGS}. */
  readonly settings?: ReleaseSettings;
}

function resolveApp(
  fileApp: unknown,
  contextApp: string | undefined,
  issues: ConfigIssue[],
): string | undefined {
  if (fileApp !== undefined && typeof fileApp !== 'string') {
    issues.push({ path: 'app', message: 'expected a string' });
    return undefined;
  }
  if (fileApp !== undefined && contextApp !== undefined && fileApp !== contextApp) {
    issues.push({
      path: 'app',
      message: `the file is for app "${fileApp}" but it is applied to app "${contextApp}"`,
    });
  }
  const app = contextApp ?? fileApp;
  if (app !== undefined && !RELEASE_NAME_PATTERN.test(app))
    issues.push({ path: 'app', message: RELEASE_NAME_MESSAGE });
  return app;
}

/**
 * Validates a parsed release document. Every problem comes back with its path and, for an
 * entry, its name: `versions[2].weight: entry "backend-v3": expected a number >= 0, got -5`.
 */
export function parseReleaseDocument(document: unknown, context: ReleaseContext = {}): ParsedRelease {
  const issues: ConfigIssue[] = [];
  const located = locateReleaseList(document, issues);
  if (located === undefined) return { ok: false, issues };
  const app = resolveApp(located.fileApp, context.app, issues);
  const indexed = parseReleaseEntries(located, app, context.settings ?? DEFAULT_RELEASE_SETTINGS, issues);
  const release = {
    ...(app === undefined ? {} : { app }),
    listKey: located.listKey,
    entries: indexed.map((e) => e.entry),
  };
  if (issues.length > 0)
    return { ok: false, issues, passing: { ...release, indexes: indexed.map((e) => e.index) } };
  return { ok: true, value: release };
}

/** Parses the YAML text of a release file; throws a {@link ConfigError} naming `source` on a syntax error. */
export function readReleaseText(text: string, source: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}

/** Validates a release document, throwing a {@link ConfigError} naming `source`. */
export function parseReleaseOrThrow(
  document: unknown,
  source: string,
  context: ReleaseContext = {},
): Release {
  const result = parseReleaseDocument(document, context);
  if (!result.ok) throw new ConfigError(source, result.issues);
  return result.value;
}
