/**
 * The per-app `releases` settings of `aviary.yaml`: how a release entry's tag becomes a
 * process (environment and argument templates), which other tags are allowed, and how long
 * a new entry may take to become ready. See docs/adr/0007-release-file.md.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { TAG_GRAMMAR } from './release-tag.js';

/**
 * Placeholders of `releases.env` and `releases.args` templates. `${artifact}` (the entry's
 * artifact directory) needs `releases.artifacts: true`.
 */
export const TEMPLATE_VARIABLES = ['tag', 'major', 'minor', 'patch', 'name', 'app', 'artifact'] as const;

const PLACEHOLDER = /\$\{([^}]*)\}/g;
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

/** The issues of templates that use `${artifact}` while `artifacts` is off. */
function artifactPlaceholderIssues(
  settings: {
    readonly env?: Record<string, string> | undefined;
    readonly args?: readonly string[] | undefined;
    readonly artifacts: boolean;
  },
  ctx: z.RefinementCtx,
): void {
  if (settings.artifacts) return;
  const templates: [PropertyKey[], string][] = [
    ...Object.entries(settings.env ?? {}).map(([key, value]): [PropertyKey[], string] => [
      ['env', key],
      value,
    ]),
    ...(settings.args ?? []).map((value, index): [PropertyKey[], string] => [['args', index], value]),
  ];
  for (const [path, text] of templates) {
    if (text.includes('${artifact}'))
      ctx.addIssue({
        code: 'custom',
        path,
        message:
          '${artifact} needs artifacts: true (each entry then runs from the artifact its tag was published as)',
      });
  }
}

/**
 * The optional `releases` block of an app in `aviary.yaml`. Defaults: each entry's process is
 * the app's `process` with `VERSION` set to the tag's major number (`v2.0.0` → `2`; the tag
 * itself when it has none) and `AVIARY_TAG` to the tag. `env` replaces the `VERSION` default
 * and `args` the app's arguments, with `${tag}`, `${major}`, `${minor}`, `${patch}`,
 * `${name}` (the entry), `${app}` and, with `artifacts: true`, `${artifact}` substituted.
 * Security: substitution is plain text replacement into an argument array; nothing is ever
 * run through a shell.
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
    /**
     * When true, each entry's tag must be a published artifact of the app (the git
     * pipelines' artifact store, docs/adr/0023-git-pipelines.md) and its process runs with
     * that artifact's read-only directory as its working directory; a tag with no artifact is
     * refused when the release file is validated. Default false: the process runs where the
     * app's `process.cwd` says.
     */
    artifacts: z.boolean().default(false),
  })
  .superRefine(artifactPlaceholderIssues)
  .prefault({});

/** Validated `releases` settings of an app, defaults applied (`readyTimeout` in ms). */
export type ReleaseSettings = z.output<typeof releaseSettingsSchema>;
/** `releases` settings as a user writes them. */
export type ReleaseSettingsInput = z.input<typeof releaseSettingsSchema>;

/** The settings of an app without a `releases` block. */
export const DEFAULT_RELEASE_SETTINGS: ReleaseSettings = releaseSettingsSchema.parse(undefined);
