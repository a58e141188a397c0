/**
 * How a release entry becomes a running version: the app's `process` in `aviary.yaml` is the
 * template, and the entry's tag reaches the process through its environment (and, when the
 * app's `releases.args` says so, its arguments). This is where a Helm release's "image
 * tagged v2.0.0" turns into "the same program told it is v2.0.0".
 */
import {
  RELEASE_TAG_PATTERN,
  type ReleaseEntry,
  type ReleaseSettings,
  type TEMPLATE_VARIABLES,
} from '../../config/release-schema.js';
import type { ProcessSpec } from '../../target/process/version-spec.js';

/** Variables a template may use, for one entry. */
export type TemplateVariables = Readonly<Record<(typeof TEMPLATE_VARIABLES)[number], string>>;

/**
 * The variables of an entry: the tag, its numbers (`v2.1.0` → major 2, minor 1, patch 0;
 * empty for an allow-listed tag without numbers), the entry name, the app and the entry's
 * artifact directory (empty when the app does not run releases from artifacts).
 */
export function templateVariables(app: string, entry: ReleaseEntry, artifactDir = ''): TemplateVariables {
  const numbers = RELEASE_TAG_PATTERN.exec(entry.tag);
  return {
    tag: entry.tag,
    major: numbers?.[1] ?? '',
    minor: numbers?.[2] ?? '',
    patch: numbers?.[3] ?? '',
    name: entry.name,
    app,
    artifact: artifactDir,
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
 * name). Arguments: `releases.args` substituted, else the template's. Working directory:
 * `artifactDir` when given (the entry's published artifact), else the template's.
 */
export function releaseVersionSpec(
  template: ProcessSpec,
  app: string,
  entry: ReleaseEntry,
  settings: ReleaseSettings,
  artifactDir?: string,
): ProcessSpec {
  const variables = templateVariables(app, entry, artifactDir);
  const releaseEnv: Record<string, string> = {};
  if (settings.env === undefined) releaseEnv.VERSION = variables.major || entry.tag;
  else
    for (const [key, value] of Object.entries(settings.env)) releaseEnv[key] = substitute(value, variables);
  return {
    ...template,
    ...(artifactDir === undefined ? {} : { cwd: artifactDir }),
    args:
      settings.args === undefined ? template.args : settings.args.map((arg) => substitute(arg, variables)),
    env: { ...template.env, ...releaseEnv, AVIARY_TAG: entry.tag, AVIARY_RELEASE: entry.name },
  };
}
