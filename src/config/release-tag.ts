/**
 * What the tag of a release entry may be: any tag the OCI distribution spec allows, and
 * either a `v1.2.3`-style release tag or one the app's `releases.allowedTags` lists.
 * See docs/adr/0007-release-file.md.
 */
import type { ConfigIssue } from './config-error.js';

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

/**
 * The tag of one entry, given as `tag` or `version` (not both), or undefined after pushing
 * an issue at `at(field)` prefixed with `label` (`entry "backend-v2": `).
 */
export function checkEntryTag(
  raw: { readonly tag?: string | undefined; readonly version?: string | undefined },
  at: (field?: string) => string,
  label: string,
  allowedTags: readonly string[],
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
  if (!RELEASE_TAG_PATTERN.test(value) && !allowedTags.includes(value)) {
    const allowed = allowedTags.length > 0 ? allowedTags.join(', ') : 'none';
    issues.push({
      path: at(field),
      message: `${label}unknown version ${JSON.stringify(value)}: expected a release tag such as v2.0.0 or one of releases.allowedTags (${allowed})`,
    });
    return undefined;
  }
  return value;
}
