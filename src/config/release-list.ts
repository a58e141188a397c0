/**
 * The list of a release document: where it sits (`versions`, a Helm values file's
 * `canaryConfig`, or a bare list) and the checks on each entry (name, tag, weight) and on the
 * list as a whole (size, duplicate names, at least one weight > 0). See
 * docs/adr/0007-release-file.md.
 */
import { z } from 'zod';
import { formatPath, type ConfigIssue } from './config-error.js';
import type { ReleaseSettings } from './release-settings.js';
import { checkEntryTag } from './release-tag.js';
import { parseWithSchema } from './schema-issues.js';

/** App Mesh allows 1–10 weighted targets per route; a release keeps to the same limit. */
export const RELEASE_MAX_VERSIONS = 10;

/** Names of apps and release entries: a lower-case DNS-style label of at most 63 characters. */
export const RELEASE_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** The issue message of a name outside {@link RELEASE_NAME_PATTERN}. */
export const RELEASE_NAME_MESSAGE =
  'expected a lower-case name of letters, digits and "-" (at most 63, starting and ending with a letter or digit)';

/** One entry of a release file: a version, its tag and its weight. */
export const releaseEntrySchema = z.strictObject({
  name: z.string().regex(RELEASE_NAME_PATTERN, { message: RELEASE_NAME_MESSAGE }),
  tag: z.string().optional(),
  version: z.string().optional(),
  weight: z.number().int().min(0).max(100),
});

/** Where a release's entries sit: `versions`, a Helm values file's `canaryConfig`, or a bare list. */
export type ReleaseListKey = 'versions' | 'canaryConfig' | '';

/** One version of a release. */
export interface ReleaseEntry {
  /** Router version name; the entry runs as target app `<app>-<name>`. */
  readonly name: string;
  readonly tag: string;
  /** Relative weight 0–100, as App Mesh weighted targets (the share is weight / sum). */
  readonly weight: number;
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

/** The entry list found in a release document, not yet checked, and the file's `app:`. */
export interface ReleaseList {
  readonly listKey: ReleaseListKey;
  readonly list: unknown;
  readonly fileApp: unknown;
}

/** Finds the entry list of a release document, or pushes an issue and returns undefined. */
export function locateReleaseList(document: unknown, issues: ConfigIssue[]): ReleaseList | undefined {
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

/** An entry that passed its own checks, and its position in the list as written. */
export interface IndexedReleaseEntry {
  readonly index: number;
  readonly entry: ReleaseEntry;
}

/**
 * The entries of a located list that pass their own checks, with their positions. Every problem is pushed to
 * `issues` with its path and, when the entry has a name, that name.
 */
export function parseReleaseEntries(
  located: ReleaseList,
  app: string | undefined,
  settings: ReleaseSettings,
  issues: ConfigIssue[],
): IndexedReleaseEntry[] {
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
  const entries: IndexedReleaseEntry[] = [];
  const seen = new Map<string, number>();
  list.forEach((item: unknown, index) => {
    const rawName = isRecord(item) ? item.name : undefined;
    const label = typeof rawName === 'string' ? `entry "${rawName}": ` : '';
    const at = (field?: string): string => entryPath(listKey, index, field);
    // A name is checked for duplicates even when the entry's other fields are wrong, so a
    // file with both faults reports both at once.
    if (typeof rawName === 'string') {
      const first = seen.get(rawName);
      if (first !== undefined) {
        issues.push({
          path: at('name'),
          message: `${label}duplicate name (also ${entryPath(listKey, first)})`,
        });
      } else seen.set(rawName, index);
    }
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
    if (app !== undefined && targetAppOf(app, raw.name).length > 63) {
      issues.push({
        path: at('name'),
        message: `${label}too long: the version runs as "${targetAppOf(app, raw.name)}", which must be at most 63 characters`,
      });
    }
    const tagValue = checkEntryTag(raw, at, label, settings.allowedTags, issues);
    if (tagValue !== undefined)
      entries.push({ index, entry: { name: raw.name, tag: tagValue, weight: raw.weight } });
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
