/**
 * How a release entry becomes a running version: the app's `process` in `aviary.yaml` is the
 * template, and the entry's tag reaches the process through its environment (and, when the
 * app's `releases.args` says so, its arguments). This is where a Helm release's "image
 * tagged v2.0.0" turns into "the same program told it is v2.0.0".
 */
import { RELEASE_TAG_PATTERN, type ReleaseEntry, type ReleaseSettings } from '../../config/release-schema.js';
import type { ProcessSpec } from '../../target/process/version-spec.js';

/** Variables a template may use, for one entry. */
export type TemplateVariables = Readonly<
  Record<'tag' | 'major' | 'minor' | 'patch' | 'name' | 'app', string>
>;

/**
 * The variables of an entry: the tag, its numbers (`v2.1.0` → major 2, minor 1, patch 0;
 * empty for an allow-listed tag without numbers), the entry name and the app.
 */
export function templateVariables(app: string, entry: ReleaseEntry): TemplateVariables {
  const numbers = RELEASE_TAG_PATTERN.exec(entry.tag);
  return {
    tag: entry.tag,
    major: numbers?.[1] ?? '',
    minor: numbers?.[2] ?? '',
    patch: numbers?.[3] ?? '',
    name: entry.name,
    app,
  };
}

/**
 * Replaces `${variable}` in `text`. Placeholders were checked when the settings were
 * validated; an unknown one is left as written. Plain text replacement: the result is one
 * argument or one environment value, never shell syntax.
 */
export function substitute(text: string, variables: TemplateVariables): string {
  return text.replace(/\$\{([a-z]+)\}/g, (whole, name: string) =>
    Object.hasOwn(variables, name) ? variables[name as keyof TemplateVariables] : whole,
  );
}

/**
 * The process of one entry. Environment: the template's, then `VERSION` (the tag's major
 * number, or the tag when it has none) unless `releases.env` is set, in which case its
 * substituted values instead, then always `AVIARY_TAG` and `AVIARY_RELEASE` (the entry
 * name). Arguments: `releases.args` substituted, else the template's.
 */
export function releaseVersionSpec(
  template: ProcessSpec,
  app: string,
  entry: ReleaseEntry,
  settings: ReleaseSettings,
): ProcessSpec {
  const variables = templateVariables(app, entry);
  const releaseEnv: Record<string, string> = {};
  if (settings.env === undefined) releaseEnv.VERSION = variables.major || entry.tag;
  else
    for (const [key, value] of Object.entries(settings.env)) releaseEnv[key] = substitute(value, variables);
  return {
    ...template,
    args:
      settings.args === undefined ? template.args : settings.args.map((arg) => substitute(arg, variables)),
    env: { ...template.env, ...releaseEnv, AVIARY_TAG: entry.tag, AVIARY_RELEASE: entry.name },
  };
}
