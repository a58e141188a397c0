/**
 * The operator's release file (seed A): one list of `{name, tag or version, weight}` for one
 * app. Each entry becomes a running version and a weighted target of the app's route, as
 * each `canaryConfig` entry of the seed's Helm values became a Deployment and an App Mesh
 * weighted target. Three spellings are accepted:
 *
 * ```yaml
 * app: catalogdetail            # native; `app` may come from `--app` instead
 * versions:
 *   - {name: backend-v1, tag: v1.0.0, weight: 90}
 *   - {name: backend-v2, version: v2.0.0, weight: 10}
 * ```
 *
 * the seed's Helm values file as is (`canaryConfig: [...]`, other top-level keys ignored,
 * since the chart's templates read them), and a bare YAML list of entries. Also here: the
 * per-app `releases` settings of `aviary.yaml` (how a tag becomes a process, allowed tags).
 * See docs/adr/0007-release-file.md.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath, type ConfigIssue } from './config-error.js';
import { durationMs } from './proxy-schema.js';
import { parseWithSchema, type Validated } from './schema-issues.js';

/** App Mesh allows 1–10 weighted targets per route; a release keeps to the same limit. */
export const RELEASE_MAX_VERSIONS = 10;

/**
 * A tag that names a release: `1.2.3` or `v1.2.3`, with any suffix (`v2.0.0-rc.1`). Other tags
 * (`latest`, a short SHA) are "unknown versions" unless `releases.allowedTags` lists them.
 */
export const RELEASE_TAG_PATTERN = /^v?(\d+)\.(\d+)\.(\d+)/;

/**
 * The OCI distribution spec's tag grammar, `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests).
 * A tag outside it is a "bad tag". Security: tags reach a process's environment and
 * arguments, so this also keeps out spaces, quotes and `$`.
 */
export const TAG_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Placeholders of `releases.env` and `releases.args` templates. */
export const TEMPLATE_VARIABLES = ['tag', 'major', 'minor', 'patch', 'name', 'app'] as const;

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_MESSAGE =
  'expected a lower-case name of letters, digits and "-" (at most 63, starting and ending with a letter or digit)';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const template = z.string().superRefine((text, ctx) => {
  for (const match of text.matchAll(PLACEHOLDER)) {
    const variable = match[1] ?? '';
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(variable)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder \${${variable}}; expected one of ${TEMPLATE_VARIABLES.map((v) => `\${${v}}`).join(', ')}`,
      });
    }
  }
});

const tag = z.string().regex(TAG_GRAMMAR, {
  message: 'expected a tag of letters, digits, "_", "." and "-" (at most 128, not starting with "." or "-")',
});

/**
 * The optional `releases` block of an app in `aviary.yaml`. Defaults: each entry's process is
 * the app's `process` with `VERSION` set to the tag's major number (`v2.0.0` → `2`; the tag
 * itself when it has none) and `AVIARY_TAG` to the tag. `env` replaces the `VERSION` default
 * and `args` the app's arguments, with `${tag}`, `${major}`, `${minor}`, `${patch}`,
 * `${name}` (the entry) and `${app}` substituted. Security: substitution is plain text
 * replacement into an argument array; nothing is ever run through a shell.
 */
export const releaseSettingsSchema = z
  .strictObject({
    env: z
      .record(z.string(), template)
      .superRefine((record, ctx) => {
        for (const key of Object.keys(record)) {
          if (key === 'PORT' || !ENV_NAME.test(key)) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message:
                key === 'PORT'
                  ? 'PORT is reserved: Aviary sets it to the port each process must listen on'
                  : 'expected an environment variable name (letters, digits and "_", not starting with a digit)',
            });
          }
        }
      })
      .optional(),
    args: z.array(template).optional(),
    /** Tags accepted besides `v1.2.3`-style ones, e.g. `[stable, canary]`. Default none. */
    allowedTags: z.array(tag).default([]),
    /** How long a new or changed entry may take to become ready before the edit is undone. Default 30 s. */
    readyTimeout: durationMs.default(30_000),
  })
  .prefault({});

/** Validated `releases` settings of an app, defaults applied (`readyTimeout` in ms). */
export type ReleaseSettings = z.output<typeof releaseSettingsSchema>;
/** `releases` settings as a user writes them. */
export type ReleaseSettingsInput = z.input<typeof releaseSettingsSchema>;

/** The settings of an app without a `releases` block. */
export const DEFAULT_RELEASE_SETTINGS: ReleaseSettings = releaseSettingsSchema.parse(undefined);

/** One entry of a release file: a version, its tag and its weight. */
export const releaseEntrySchema = z.strictObject({
  name: z.string().regex(LABEL, { message: LABEL_MESSAGE }),
  tag: z.string().optional(),
  version: z.string().optional(),
  weight: z.number().int().min(0).max(100),
});

/** Where a release's entries sit in its document: `versions`, the seed's `canaryConfig`, or a bare list. */
export type ReleaseListKey = 'versions' | 'canaryConfig' | '';

/** One version of a release. */
export interface ReleaseEntry {
  /** Router version name; the entry runs as target app `<app>-<name>`. */
  readonly name: string;
  readonly tag: string;
  /** Relative weight 0–100, as App Mesh weighted targets (the share is weight / sum). */
  readonly weight: number;
}

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

/** What validation needs beyond the document. */
export interface ReleaseContext {
  /** The app named outside the file (`--app`, the API path); it must agree with the file's `app:`. */
  readonly app?: string;
  /** The app's `releases` settings. Default {@link DEFAULT_RELEASE_SETTINGS}. */
  readonly settings?: ReleaseSettings;
}

/** Path of an entry field, e.g. `versions[2].weight` (`[2].weight` for a bare list). */
export function entryPath(listKey: ReleaseListKey, index: number, field?: string): string {
  const segments: PropertyKey[] = listKey === '' ? [] : [listKey];
  return formatPath([...segments, index, ...(field === undefined ? [] : [field])]);
}

/** Name of the target app that runs an entry. */
export function targetAppOf(app: string, entry: string): string {
  return `${app}-${entry}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Located {
  readonly listKey: ReleaseListKey;
  readonly list: unknown;
  readonly fileApp: unknown;
}

function locateList(document: unknown, issues: ConfigIssue[]): Located | undefined {
  if (Array.isArray(document)) return { listKey: '', list: document, fileApp: undefined };
  if (!isRecord(document)) {
    issues.push({
      path: '',
      message: "expected a release: a `versions` list, or the seed's `canaryConfig` list",
    });
    return undefined;
  }
  if ('versions' in document && 'canaryConfig' in document) {
    issues.push({ path: 'canaryConfig', message: 'set versions or canaryConfig, not both' });
    return undefined;
  }
  if ('canaryConfig' in document)
    return { listKey: 'canaryConfig', list: document.canaryConfig, fileApp: document.app };
  if (!('versions' in document)) {
    issues.push({ path: 'versions', message: "is required (or the seed's canaryConfig list)" });
    return undefined;
  }
  for (const key of Object.keys(document)) {
    if (key !== 'app' && key !== 'versions')
      issues.push({ path: key, message: 'unknown field (check the spelling)' });
  }
  return { listKey: 'versions', list: document.versions, fileApp: document.app };
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
  if (app !== undefined && !LABEL.test(app)) issues.push({ path: 'app', message: LABEL_MESSAGE });
  return app;
}

function checkTag(
  raw: z.output<typeof releaseEntrySchema>,
  at: (field?: string) => string,
  label: string,
  settings: ReleaseSettings,
  issues: ConfigIssue[],
): string | undefined {
  if (raw.tag !== undefined && raw.version !== undefined) {
    issues.push({ path: at('version'), message: `${label}set tag or version, not both` });
    return undefined;
  }
  const field = raw.tag !== undefined ? 'tag' : 'version';
  const value = raw.tag ?? raw.version;
  if (value === undefined) {
    issues.push({ path: at('tag'), message: `${label}is required (set tag or version, e.g. v2.0.0)` });
    return undefined;
  }
  if (!TAG_GRAMMAR.test(value)) {
    issues.push({
      path: at(field),
      message: `${label}bad tag ${JSON.stringify(value)}: expected letters, digits, "_", "." and "-" (at most 128, not starting with "." or "-")`,
    });
    return undefined;
  }
  if (!RELEASE_TAG_PATTERN.test(value) && !settings.allowedTags.includes(value)) {
    const allowed = settings.allowedTags.length > 0 ? settings.allowedTags.join(', ') : 'none';
    issues.push({
      path: at(field),
      message: `${label}unknown version ${JSON.stringify(value)}: expected a release tag such as v2.0.0 or one of releases.allowedTags (${allowed})`,
    });
    return undefined;
  }
  return value;
}

function parseEntries(
  located: Located,
  app: string | undefined,
  settings: ReleaseSettings,
  issues: ConfigIssue[],
): ReleaseEntry[] {
  const { listKey, list } = located;
  const listPath = listKey;
  if (!Array.isArray(list)) {
    issues.push({ path: listPath, message: 'expected a list of {name, tag, weight}' });
    return [];
  }
  if (list.length === 0) issues.push({ path: listPath, message: 'expected at least one version' });
  if (list.length > RELEASE_MAX_VERSIONS) {
    issues.push({
      path: listPath,
      message: `expected at most ${RELEASE_MAX_VERSIONS} versions (App Mesh's limit of weighted targets per route), got ${list.length}`,
    });
  }
  const entries: ReleaseEntry[] = [];
  const seen = new Map<string, number>();
  list.forEach((item: unknown, index) => {
    const rawName = isRecord(item) ? item.name : undefined;
    const label = typeof rawName === 'string' ? `entry "${rawName}": ` : '';
    const at = (field?: string): string => entryPath(listKey, index, field);
    const parsed = parseWithSchema(releaseEntrySchema, item);
    if (!parsed.ok) {
      for (const issue of parsed.issues) {
        const path =
          issue.path === '' ? at() : `${at()}${issue.path.startsWith('[') ? '' : '.'}${issue.path}`;
        issues.push({ path, message: `${label}${issue.message}` });
      }
      return;
    }
    const raw = parsed.value;
    const first = seen.get(raw.name);
    if (first !== undefined) {
      issues.push({
        path: at('name'),
        message: `${label}duplicate name (also ${entryPath(listKey, first)})`,
      });
    } else seen.set(raw.name, index);
    if (app !== undefined && targetAppOf(app, raw.name).length > 63) {
      issues.push({
        path: at('name'),
        message: `${label}too long: the version runs as "${targetAppOf(app, raw.name)}", which must be at most 63 characters`,
      });
    }
    const tagValue = checkTag(raw, at, label, settings, issues);
    if (tagValue !== undefined) entries.push({ name: raw.name, tag: tagValue, weight: raw.weight });
  });
  const weights = list.map((item: unknown) => (isRecord(item) ? item.weight : undefined));
  if (list.length > 0 && weights.every((w) => typeof w === 'number' && w === 0)) {
    issues.push({
      path: listPath,
      message:
        'all weights are 0: at least one version must receive traffic (remove an entry to take it out)',
    });
  }
  return entries;
}

/**
 * Validates a parsed release document. Every problem comes back with its path and, for an
 * entry, its name: `versions[2].weight: entry "backend-v3": expected a number >= 0, got -5`.
 */
export function parseReleaseDocument(document: unknown, context: ReleaseContext = {}): Validated<Release> {
  const issues: ConfigIssue[] = [];
  const located = locateList(document, issues);
  if (located === undefined) return { ok: false, issues };
  const app = resolveApp(located.fileApp, context.app, issues);
  const entries = parseEntries(located, app, context.settings ?? DEFAULT_RELEASE_SETTINGS, issues);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { ...(app === undefined ? {} : { app }), listKey: located.listKey, entries } };
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
