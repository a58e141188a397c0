/**
 * Validation errors for every configuration input. Each issue names the path of the bad
 * field (`services[0].routes[1].targets[2].weight`) and what was expected, so the user can
 * fix a file without reading the source.
 */
import { AviaryError } from '../errors.js';

/** One problem found in a configuration document. */
export interface ConfigIssue {
  /** Dotted/bracketed path of the field, e.g. `services[0].routes[1].timeout`; `` for the root. */
  readonly path: string;
  /** What was expected and what was found. */
  readonly message: string;
}

/** Thrown (or returned) when a configuration document is rejected; lists every issue found. */
export class ConfigError extends AviaryError {
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super('AVIARY_CONFIG_INVALID', `${source} is invalid:\n${formatIssues(issues)}`);
    this.issues = issues;
  }
}

/** Renders issues one per line as `path: message`. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `  ${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`).join('\n');
}

/** Joins path segments the way users write them: `a.b[0].c`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
