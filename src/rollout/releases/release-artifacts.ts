/**
 * Where a release entry runs from when its app sets `releases.artifacts: true`: the
 * directory its tag was published as by the git pipelines' artifact store
 * (docs/adr/0023-git-pipelines.md, "Where artifacts are used"). Every entry is looked up
 * before anything starts, so a tag with no artifact rejects the file as a validation error
 * naming the entry, and what runs is untouched.
 */
import { ConfigError, type ConfigIssue } from '../../config/config-error.js';
import {
  entryPath,
  parseReleaseDocument,
  type PartialRelease,
  type Release,
  type ReleaseSettings,
} from '../../config/release-schema.js';
import { locateReleaseList } from '../../config/release-list.js';
import type { Validated } from '../../config/schema-issues.js';

/**
 * Resolves (app, tag) to the read-only directory of its published artifact, or undefined
 * when none is published (or it was collected). `ArtifactStore.resolve` is one.
 */
export type ArtifactResolver = (app: string, tag: string) => Promise<string | undefined>;

/**
 * Each entry's artifact directory, by entry name; an empty map when `settings.artifacts` is
 * off. An entry with no artifact is an issue at `versions[N].tag` (or `.version`, when the
 * document spelled it so), naming the entry, the app and the tag.
 * An invalid file's passing entries (a {@link PartialRelease}) are looked up too, so a missing
 * artifact is reported beside the file's own errors.
 * @param document the release document as written, only to name the tag's field; absent
 *   when a stored release is re-applied
 */
export async function resolveEntryArtifacts(
  resolve: ArtifactResolver | undefined,
  app: string,
  release: Release | PartialRelease,
  settings: ReleaseSettings,
  document?: unknown,
): Promise<Validated<ReadonlyMap<string, string>>> {
  const dirs = new Map<string, string>();
  if (!settings.artifacts) return { ok: true, value: dirs };
  const issues: ConfigIssue[] = [];
  const list = document === undefined ? undefined : locateReleaseList(document, [])?.list;
  for (const [index, entry] of release.entries.entries()) {
    const dir = resolve === undefined ? undefined : await resolve(app, entry.tag);
    if (dir !== undefined) {
      dirs.set(entry.name, dir);
      continue;
    }
    const why =
      resolve === undefined
        ? `app ${app} runs releases from artifacts (releases.artifacts: true) but this Aviary has no artifact store; configure pipelines, or set releases.artifacts: false`
        : `no artifact published for ${app} ${entry.tag}; publish it with a tag push (aviary artifacts list shows what is published), or name a published tag`;
    const at = 'indexes' in release ? release.indexes[index]! : index;
    issues.push({
      path: entryPath(release.listKey, at, tagFieldOf(list, at)),
      message: `entry "${entry.name}": ${why}`,
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: dirs };
}

/**
 * Validates a release document and looks up its entries' artifacts. An invalid file's passing
 * entries are looked up too, so every error (the file's own and a missing artifact) is
 * reported at once.
 */
export async function parseWithArtifacts(
  resolve: ArtifactResolver | undefined,
  app: string,
  document: unknown,
  settings: ReleaseSettings,
): Promise<Validated<{ release: Release; artifacts: ReadonlyMap<string, string> }>> {
  const parsed = parseReleaseDocument(document, { app, settings });
  const checked = parsed.ok ? parsed.value : parsed.passing;
  const artifacts =
    checked === undefined
      ? undefined
      : await resolveEntryArtifacts(resolve, app, checked, settings, document);
  if (parsed.ok && artifacts?.ok === true)
    return { ok: true, value: { release: parsed.value, artifacts: artifacts.value } };
  const issues = [...(parsed.ok ? [] : parsed.issues), ...(artifacts?.ok === false ? artifacts.issues : [])];
  return { ok: false, issues };
}

/**
 * {@link resolveEntryArtifacts} for a stored release being applied again (a restart, a new
 * `aviary.yaml`): an entry whose artifact is gone throws a {@link ConfigError} naming it.
 */
export async function entryArtifactsOrThrow(
  resolve: ArtifactResolver | undefined,
  app: string,
  release: Release,
  settings: ReleaseSettings,
): Promise<ReadonlyMap<string, string>> {
  const artifacts = await resolveEntryArtifacts(resolve, app, release, settings);
  if (!artifacts.ok) throw new ConfigError(`release of app ${app}`, artifacts.issues);
  return artifacts.value;
}

/** `version` when the document's entry at `index` gave its tag as `version:`, else `tag`. */
function tagFieldOf(list: unknown, index: number): 'tag' | 'version' {
  const item: unknown = Array.isArray(list) ? list[index] : undefined;
  const given = typeof item === 'object' && item !== null ? item : {};
  return 'version' in given && !('tag' in given) ? 'version' : 'tag';
}
