/**
 * The per-app `releases` settings of `aviary.yaml`: how a release entry's tag becomes a
 * process (environment and argument templates), which other tags are allowed, and how long
 * a new entry may take to become ready. See docs/adr/0007-release-file.md.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { TAG_GRAMMAR } from './release-tag.js';

/** Placeholders of `releases.env` and `releases.args` templates. */
export const TEMPLATE_VARIABLES = ['tag', 'major', 'minor', 'patch', 'name', 'app'] as const;

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
