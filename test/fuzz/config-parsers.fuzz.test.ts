/**
 * Fuzzing every configuration parser (issue 16, "every config parser"): aviary.yaml, the
 * router config, the release file, a Flagger Canary, a MetricTemplate and the pipelines
 * block. Whatever the input (any value, any JSON, a valid seed from test/fuzz/corpus/ with
 * fields dropped or replaced, hostile YAML text), a parser returns a value, returns issues
 * or throws a ConfigError whose issues each have a path and a message; it never throws
 * anything else, never runs longer than a bound linear in the input's size, and never
 * touches a built-in prototype.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAviaryConfig, parseAviaryConfig } from '../../src/config/app-schema.js';
import { ConfigError, type ConfigIssue } from '../../src/config/config-error.js';
import { parseDocumentText, parseDocumentsText } from '../../src/config/document.js';
import { loadFlaggerCanary } from '../../src/config/flagger-canary.js';
import { metricTemplateSchema } from '../../src/config/metric-template.js';
import { pipelinesSchema } from '../../src/config/pipelines-schema.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { parseReleaseDocument, readReleaseText } from '../../src/config/release-schema.js';
import { parseWithSchema, type Validated } from '../../src/config/schema-issues.js';
import {
  assertPrototypesUntouched,
  corpusDocuments,
  corpusTexts,
  fuzzRuns,
  fuzzTimeoutMs,
  mutatedDocument,
  prototypeSnapshot,
  silenceYamlWarnings,
  yamlText,
} from './fuzz-support.js';

// Each target splits its budget over four kinds of input: 30 % each for any value, any JSON
// value and mutated seeds (well under 0.1 ms each), 10 % for YAML text (about 2 ms each: the
// yaml reader dominates). 100,000 in all take 20 to 30 s per target on two quiet shared
// cores, and up to 2 minutes with the rest of the suite beside them; the timeout only
// catches a hang, so it leaves room for a loaded machine.
const RUNS = fuzzRuns();
const DOCUMENT_RUNS = Math.ceil(RUNS * 0.3);
const TEXT_RUNS = Math.ceil(RUNS * 0.1);
const TIMEOUT = fuzzTimeoutMs(RUNS, 5);

let restoreWarnings: () => void = () => undefined;
beforeAll(() => {
  restoreWarnings = silenceYamlWarnings();
});
afterAll(() => restoreWarnings());

function assertIssues(issues: readonly ConfigIssue[]): void {
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(typeof issue.path).toBe('string');
    expect(typeof issue.message).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

function assertValidated(result: Validated<unknown>): void {
  if (!result.ok) assertIssues(result.issues);
}

/** Runs `parse`; a throw must be a ConfigError with issues. */
function assertOnlyConfigErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    assertIssues(err.issues);
  }
}

/** Any value, including boxed values, null-prototype objects, Maps and prototype keys. */
const anyValue = fc.anything({
  maxDepth: 4,
  key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'apps', 'name')),
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** The three input kinds for a parser of documents. */
function documentInputs(seeds: readonly unknown[]): [string, fc.Arbitrary<unknown>][] {
  return [
    ['any value', anyValue],
    ['any JSON value', fc.jsonValue({ maxDepth: 6 })],
    ['a mutated seed', mutatedDocument(seeds)],
  ];
}

/** Checks `check` on `input`, leaving every prototype as it was. */
function fuzzOne(input: unknown, check: (input: unknown) => void): void {
  const before = prototypeSnapshot();
  check(input);
  assertPrototypesUntouched(before);
}

interface DocumentTarget {
  readonly name: string;
  readonly corpus: string;
  /** Seeds taken from the corpus documents (default: the documents themselves). */
  readonly seeds?: (documents: unknown[]) => unknown[];
  readonly parse: (document: unknown) => void;
  readonly parseText: (text: string) => void;
  readonly acceptsSeeds: (document: unknown) => boolean;
}

const TARGETS: readonly DocumentTarget[] = [
  {
    name: 'aviary.yaml',
    corpus: 'aviary-yaml',
    parse: (doc) => assertValidated(parseAviaryConfig(doc)),
    parseText: (text) => assertOnlyConfigErrors(() => loadAviaryConfig(text, 'aviary.yaml')),
    acceptsSeeds: (doc) => parseAviaryConfig(doc).ok,
  },
  {
    name: 'the router config',
    corpus: 'router-yaml',
    parse: (doc) => assertValidated(parseWithSchema(proxyConfigSchema, doc)),
    parseText: (text) =>
      assertOnlyConfigErrors(() =>
        parseWithSchema(proxyConfigSchema, parseDocumentText(text, 'router.yaml')),
      ),
    acceptsSeeds: (doc) => parseWithSchema(proxyConfigSchema, doc).ok,
  },
  {
    name: 'the release file',
    corpus: 'release',
    parse: (doc) => assertValidated(parseReleaseDocument(doc)),
    parseText: (text) =>
      assertOnlyConfigErrors(() => parseReleaseDocument(readReleaseText(text, 'release.yaml'))),
    acceptsSeeds: (doc) => parseReleaseDocument(doc).ok,
  },
  {
    name: 'a Flagger Canary',
    corpus: 'flagger-canary',
    parse: (doc) => assertOnlyConfigErrors(() => loadFlaggerCanary(doc)),
    parseText: (text) =>
      assertOnlyConfigErrors(() => {
        for (const doc of parseDocumentsText(text, 'canary.yaml')) loadFlaggerCanary(doc);
      }),
    acceptsSeeds: (doc) => {
      loadFlaggerCanary(doc);
      return true;
    },
  },
  {
    name: 'a MetricTemplate',
    corpus: 'metric-template',
    parse: (doc) => assertValidated(parseWithSchema(metricTemplateSchema, doc)),
    parseText: (text) =>
      assertOnlyConfigErrors(() =>
        parseWithSchema(metricTemplateSchema, parseDocumentText(text, 'template.yaml')),
      ),
    acceptsSeeds: (doc) => parseWithSchema(metricTemplateSchema, doc).ok,
  },
  {
    name: 'the pipelines block',
    corpus: 'aviary-yaml',
    seeds: (docs) =>
      docs.flatMap((doc) => {
        const pipelines = (doc as { pipelines?: unknown }).pipelines;
        return pipelines === undefined ? [] : [pipelines];
      }),
    parse: (doc) => assertValidated(parseWithSchema(pipelinesSchema, doc)),
    parseText: (text) =>
      assertOnlyConfigErrors(() =>
        parseWithSchema(pipelinesSchema, parseDocumentText(text, 'pipelines.yaml')),
      ),
    acceptsSeeds: (doc) => parseWithSchema(pipelinesSchema, doc).ok,
  },
];

for (const target of TARGETS) {
  const documents = corpusDocuments(target.corpus);
  const seeds = target.seeds ? target.seeds(documents) : documents;
  const texts = corpusTexts(target.corpus);

  describe(`fuzz: ${target.name} (corpus test/fuzz/corpus/${target.corpus})`, () => {
    it('accepts every seed, so mutations start from valid documents', () => {
      expect(seeds.length).toBeGreaterThan(0);
      for (const seed of seeds) expect(target.acceptsSeeds(seed)).toBe(true);
    });

    for (const [kind, input] of documentInputs(seeds)) {
      it(
        `${kind}: only validation errors with paths, no prototype pollution`,
        () => {
          fc.assert(
            fc.property(input, (doc) => fuzzOne(doc, target.parse)),
            { numRuns: DOCUMENT_RUNS },
          );
        },
        TIMEOUT,
      );
    }

    it(
      'YAML text (alias bombs, tags, prototype keys, mutated seeds): only ConfigErrors',
      () => {
        fc.assert(
          fc.property(yamlText(texts, seeds), (text) => fuzzOne(text, (t) => target.parseText(t as string))),
          { numRuns: TEXT_RUNS },
        );
      },
      TIMEOUT,
    );
  });
}

describe('fuzz findings kept as regression cases', () => {
  it('an empty aviary.yaml (null) is a ConfigError, not a TypeError from the cross-field checks', () => {
    for (const text of ['', '# only a comment\n', '~\n']) {
      expect(() => loadAviaryConfig(text, 'aviary.yaml')).toThrow(ConfigError);
    }
    const result = parseAviaryConfig(undefined);
    expect(result.ok).toBe(false);
  });

  it('an alias bomb read by parseDocumentText is a ConfigError, not a ReferenceError', () => {
    const [bomb = ''] = corpusTexts('router-yaml').filter((t) => t.includes('Billion laughs'));
    const err = (() => {
      try {
        parseDocumentText(bomb, 'router.yaml');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]?.message).toContain('alias');
  });
});
