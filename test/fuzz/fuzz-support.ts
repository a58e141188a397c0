/**
 * What the fuzz suites share: the run count (from AVIARY_FUZZ_RUNS, so `npm run fuzz` runs
 * ten times longer than CI), the seed corpora in test/fuzz/corpus/, structure-aware
 * mutations of a valid seed, YAML texts with anchors, aliases and tags, and the checks that
 * a run left Object.prototype alone. A hang is caught by the test's own timeout, not by timing
 * each input: a wall-clock bound per input fails on a loaded machine (CI once saw 305 ms
 * against a 300 ms bound).
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/**
 * Inputs per target: AVIARY_FUZZ_RUNS when set, else `ciDefault`. A target splits this
 * budget over its properties, so each target sees at least this many inputs in all.
 */
export function fuzzRuns(ciDefault = 100_000): number {
  const fromEnv = Number(process.env.AVIARY_FUZZ_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : ciDefault;
}

/** A vitest timeout that grows with the run count: `perRunMs` each, at least 60 s. */
export function fuzzTimeoutMs(runs: number, perRunMs: number): number {
  return Math.max(60_000, Math.ceil(runs * perRunMs) + 30_000);
}

const CORPUS = new URL('./corpus/', import.meta.url);

/** The texts of every file of test/fuzz/corpus/<target>/, sorted by name. */
export function corpusTexts(target: string): string[] {
  const dir = new URL(`${target}/`, CORPUS);
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(new URL(name, dir), 'utf8'));
}

/**
 * The corpus files of `target` parsed as YAML (JSON is YAML too), skipping those the yaml
 * library refuses (the alias bombs kept as findings): mutations start from documents.
 */
export function corpusDocuments(target: string): unknown[] {
  return corpusTexts(target).flatMap((text) => {
    try {
      return [parseYaml(text) as unknown];
    } catch {
      return [];
    }
  });
}

type Path = readonly (string | number)[];

/** Paths of `value` (objects and arrays walked, 12 levels at most), the root `[]` first. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (prefix.length >= 12 || value === null || typeof value !== 'object') return out;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [key, v] of entries) pathsOf(v, [...prefix, key], out);
  return out;
}

/** Keys that pollute a prototype when a parser assigns them naively. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** An object literal with an own `key` (JSON.parse makes `__proto__` an own property). */
function ownKeyObject(key: string, value: unknown): Record<string, unknown> {
  const out = JSON.parse('{}') as Record<string, unknown>;
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Values that break careless parsers: wrong types, extreme numbers, NaN-like strings, deep nesting. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    'NaN',
    'Infinity',
    '-Infinity',
    '1e309',
    '0x10',
    '  12  ',
    '',
    ' ',
    '10',
    '10s',
    '-5s',
    '1e400ms',
    '99999999999999999999h',
    '127.0.0.1',
    '*',
    '../../etc/passwd',
    'a\u0000b',
    '\u202e',
    '{{ name }}',
    '"} or vector(1) #',
    [],
    {},
  ),
  fc.constantFrom(...PROTOTYPE_KEYS).map((key) => ownKeyObject(key, { polluted: 'yes' })),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 300 }).map((depth) => nested(depth, 'leaf')),
  fc.double(),
  fc.bigInt().map((n) => n.toString()),
  fc.jsonValue({ maxDepth: 3 }),
);

/** One change to a document: delete, replace or add a field at a path picked by index. */
type Mutation =
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: unknown };

const fieldKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 12 }));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: nastyValue }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fieldKey, value: nastyValue }),
);

function applyMutation(root: unknown, change: Mutation): unknown {
  const paths = pathsOf(root);
  const path = paths[change.at % paths.length] ?? [];
  if (path.length === 0) {
    if (change.op === 'replace') return change.value;
    if (change.op === 'delete') return undefined;
  }
  const parent = path
    .slice(0, -1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
  const last = path[path.length - 1];
  const target = change.op === 'add' ? getAt(root, path) : parent;
  if (target === null || typeof target !== 'object') return root;
  // No reader gives an array own keys such as `constructor`; add keys to objects only.
  if (change.op === 'add' && Array.isArray(target)) return root;
  const record = target as Record<string | number, unknown>;
  if (change.op === 'add') {
    Object.defineProperty(record, change.key, {
      value: change.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else if (last !== undefined) {
    if (change.op === 'delete') {
      if (Array.isArray(record) && typeof last === 'number') record.splice(last, 1);
      else delete record[last];
    } else record[last] = change.value;
  }
  return root;
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
}

/** `seeds` (valid documents) each changed by 1 to 6 {@link Mutation}s, on a fresh copy. */
export function mutatedDocument(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }))
    .map(([index, changes]) =>
      changes.reduce<unknown>((doc, change) => applyMutation(doc, change), structuredClone(seeds[index])),
    );
}

/** A document as YAML text, or text that no serialiser would write. */
export function yamlTextOf(document: unknown): string {
  try {
    return stringifyYaml(document, { aliasDuplicateObjects: false });
  } catch {
    return String(document);
  }
}

const YAML_TAGS = [
  '!!str',
  '!!int',
  '!!float',
  '!!bool',
  '!!null',
  '!!map',
  '!!seq',
  '!!set',
  '!!omap',
  '!!pairs',
  '!!binary',
  '!!timestamp',
  '!!js/function',
  '!!python/object:os.system',
  '!custom',
  '!<tag:yaml.org,2002:str>',
];

/**
 * YAML texts that stress the reader: alias bombs (each level `fanOut` aliases of the one
 * before, bounded so the expanded size is at most ~10^7), merge keys, tags, `__proto__`
 * keys, duplicate keys, odd indentation and plain garbage.
 */
export const hostileYamlText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 7 })).map(([fanOut, levels]) => {
    const lines = [`l0: &l0 [${Array.from({ length: fanOut }, () => 'lol').join(', ')}]`];
    for (let i = 1; i <= levels; i++) {
      lines.push(`l${i}: &l${i} [${Array.from({ length: fanOut }, () => `*l${i - 1}`).join(', ')}]`);
    }
    return lines.join('\n');
  }),
  fc
    .tuple(fc.constantFrom(...YAML_TAGS), fc.string({ maxLength: 20 }))
    .map(([tag, value]) => `apps: ${tag} ${JSON.stringify(value)}\nkind: ${tag} x\n`),
  fc
    .constantFrom(...PROTOTYPE_KEYS)
    .map((key) => `${key}:\n  polluted: yes\napps:\n  - ${key}: {polluted: yes}\n`),
  fc.constant(
    'base: &b {polluted: yes}\n__proto__: *b\nx:\n  <<: *b\n  <<: {constructor: {prototype: {polluted: yes}}}\n',
  ),
  fc.constant('a: 1\na: 2\n'),
  fc.constant('? [a, b]\n: c\n? {x: 1}\n: d\n'),
  fc.constant('--- a\n--- b\n'),
  fc.constant('&a [*a]\n'),
  fc.integer({ min: 1, max: 1000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1, max: 1000 }).map((n) => '{a: '.repeat(n) + '1' + '}'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...':-[]{}&*!|>\'"%@`#, ?\n\t a0'.split('')), maxLength: 200 }),
);

/** Any text a parser may be handed: hostile YAML, mutated seeds as YAML, or mutated seed text. */
export function yamlText(
  seedTexts: readonly string[],
  seedDocuments: readonly unknown[],
): fc.Arbitrary<string> {
  return fc.oneof(
    hostileYamlText,
    mutatedDocument(seedDocuments).map(yamlTextOf),
    fc
      .tuple(fc.constantFrom(...seedTexts), fc.nat(), fc.nat(), fc.string({ maxLength: 30 }))
      .map(([text, from, length, insert]) => {
        const start = from % (text.length + 1);
        return text.slice(0, start) + insert + text.slice(start + (length % 40));
      }),
  );
}

/** Object.prototype's own keys now; compare with {@link assertPrototypesUntouched}. */
export function prototypeSnapshot(): string[] {
  return [Object.prototype, Array.prototype, Function.prototype].map((proto) =>
    Reflect.ownKeys(proto).map(String).sort().join(','),
  );
}

/** Throws when a run added keys to a built-in prototype or `({}).polluted` became visible. */
export function assertPrototypesUntouched(before: readonly string[]): void {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.constructor !== Object) {
    throw new Error('prototype pollution: ({}).polluted or ({}).constructor changed');
  }
  const after = prototypeSnapshot();
  if (after.some((keys, i) => keys !== before[i])) {
    throw new Error(`prototype pollution: built-in prototype keys changed: ${after.join(' | ')}`);
  }
}

/**
 * Drops the yaml library's warnings (unresolved tags, ambiguous anchors) for the rest of the
 * file: it reports them through process.emitWarning, and the fuzzer provokes thousands.
 * Returns the function that restores the original.
 */
export function silenceYamlWarnings(): () => void {
  const original = process.emitWarning.bind(process);
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    const name = typeof warning === 'string' ? '' : warning.name;
    const text = typeof warning === 'string' ? warning : warning.message;
    if (name === 'YAMLWarning' || text.startsWith('Keys with collection values')) return;
    (original as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  };
  return () => {
    process.emitWarning = original;
  };
}
