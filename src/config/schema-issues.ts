/**
 * Turns schema-library issues into Aviary's path-named messages, e.g.
 * `services[0].routes[1].targets[2].weight: expected a number >= 0, got -5`.
 * Every config input goes through {@link parseWithSchema}, so the wording is the same everywhere.
 */
import type { z } from 'zod';
import { ConfigError, formatPath, type ConfigIssue } from './config-error.js';

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'a list',
  int: 'an integer',
};

/** Short rendering of a user value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value;
}

function expectedType(name: string): string {
  return TYPE_NAMES[name] ?? name;
}

function boundMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, small: boolean): string {
  const bound = 'minimum' in issue ? issue.minimum : issue.maximum;
  const op = small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  const got = 'input' in issue ? `, got ${describeValue(issue.input)}` : '';
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint':
      return `expected a number ${op} ${String(bound)}${got}`;
    case 'string':
      return small && Number(bound) === 1
        ? 'expected a non-empty string'
        : `expected a string of ${op} ${String(bound)} characters`;
    case 'array':
    case 'set':
      return small
        ? `expected at least ${String(bound)} item(s)`
        : `expected at most ${String(bound)} item(s)`;
    default:
      return issue.message;
  }
}

function messageFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (expected ${expectedType(issue.expected)})`;
      return `expected ${expectedType(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return boundMessage(issue, true);
    case 'too_big':
      return boundMessage(issue, false);
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`;
    case 'invalid_format':
      return issue.message;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      // A discriminated union names the discriminator's value, not the whole object.
      if ('discriminator' in issue && typeof issue.discriminator === 'string' && isRecord(issue.input))
        return `expected ${issue.message}, got ${describeValue(issue.input[issue.discriminator])}`;
      return `expected ${issue.message === 'Invalid input' ? 'a valid value' : issue.message}, got ${describeValue(issue.input)}`;
    default:
      return issue.message;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Flattens schema issues into path-named {@link ConfigIssue}s. Unknown keys become one issue per key. */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath([...path, key]), message: 'unknown field (check the spelling)' });
      }
      continue;
    }
    out.push({ path: formatPath(path), message: messageFor(issue) });
  }
  return out;
}

/** Outcome of validating a document: the typed value or every issue found. */
export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates `input` against `schema`. Never throws for bad input: every problem comes back
 * as an issue. (A throw from here is a bug in a schema, not a user error.)
 */
export function parseWithSchema<T>(schema: z.ZodType<T>, input: unknown): Validated<T> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: toConfigIssues(result.error.issues) };
}

/** Like {@link parseWithSchema} but throws a {@link ConfigError} naming `source`. */
export function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, source: string): T {
  const result = parseWithSchema(schema, input);
  if (!result.ok) throw new ConfigError(source, result.issues);
  return result.value;
}
