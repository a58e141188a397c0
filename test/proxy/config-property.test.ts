/**
 * Property tests of configuration validation: for any JSON-like input, and for near-valid
 * mutations of a full-featured config, `parseWithSchema` and `ProxyServer.applyConfig`
 * never throw; a rejection lists issues, each with a string path and a message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../src/config/config-error.js';
import { proxyConfigSchema, type ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { parseWithSchema } from '../../src/config/schema-issues.js';
import { useFixtures } from './support.js';

const fx = useFixtures();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** A valid config using every feature, so mutations reach every part of the schema. */
function fullConfig(): ProxyConfigInput {
  return {
    listeners: [{ name: 'default', port: 0 }],
    limits: { maxHeaderBytes: 8192, headersTimeout: '5s', drainTimeout: 1000, maxMirrorsInFlight: 10 },
    services: [
      {
        name: 'shop',
        hosts: ['shop.example.com', '*.example.com'],
        listeners: ['default'],
        versions: [
          {
            name: 'v1',
            endpoints: ['127.0.0.1:9', 'http://127.0.0.1:10'],
            balancing: 'least-request',
            outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '10s', maxEjectionPercent: 50 },
          },
          { name: 'v2', endpoints: ['127.0.0.1:11'], connectionsPerEndpoint: 4 },
        ],
        routes: [
          {
            name: 'api',
            priority: 10,
            match: {
              path: { prefix: '/api' },
              methods: ['GET', 'POST'],
              headers: [
                { name: 'x-cohort', exact: 'beta' },
                { name: 'x-n', range: { start: 1, end: 5 }, invert: true },
              ],
              cookies: [{ name: 'c', regex: '^a' }],
              query: [{ name: 'q', present: true }],
            },
            targets: [
              { version: 'v1', weight: 90 },
              { version: 'v2', weight: 10 },
            ],
            retries: { attempts: 2, perTryTimeout: '1s', retryOn: 'gateway-error,409', bufferBytes: 1024 },
            timeout: '15s',
            idleTimeout: 5000,
            rewrite: { prefix: '/' },
            requestHeaders: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] },
            responseHeaders: { remove: ['server'] },
            mirror: { version: 'v2', percent: 5 },
            sessionAffinity: { cookieName: 'aviary', maxAge: 60 },
          },
          { name: 'rest', targets: [{ version: 'v1', weight: 1 }] },
        ],
      },
    ],
  };
}

function allPaths(value: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...allPaths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...allPaths(v, [...prefix, k]));
  }
  return out;
}

type Container = Json[] | { [key: string]: Json };

function parentOf(doc: Json, path: Path): Container | undefined {
  let node: Json | undefined = doc;
  for (const segment of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, Json>)[segment];
  }
  return node !== null && typeof node === 'object' ? node : undefined;
}

/** One near-valid edit: replace a value, delete it, duplicate it, rename its key, or add an unknown key. */
interface Mutation {
  readonly pick: number;
  readonly kind: 'replace' | 'delete' | 'duplicate' | 'rename' | 'add';
  readonly value: Json;
  readonly key: string;
}

const nearMisses: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    -1,
    0,
    1,
    1.5,
    101,
    1e9,
    '',
    ' ',
    '0',
    '15s',
    '1m30s',
    'forever',
    '127.0.0.1',
    '/',
    '(',
    '*',
  ),
  fc.constantFrom<Json>(null, true, [], {}, [null], { name: 'v1' }, { version: 'v1', weight: 1 }),
  fc.jsonValue() as fc.Arbitrary<Json>,
);

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  kind: fc.constantFrom('replace', 'delete', 'duplicate', 'rename', 'add'),
  value: nearMisses,
  key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'name', 'weight', 'toString')),
});

function applyMutation(doc: Json, m: Mutation, skip: (path: Path) => boolean): Json {
  const paths = allPaths(doc).filter((p) => !skip(p));
  if (paths.length === 0) return doc;
  const path = paths[m.pick % paths.length]!;
  // A copy: generated values (constants above all) are shared between runs and shrinks, and
  // editing them in place could even make a document contain itself.
  const value = structuredClone(m.value);
  if (path.length === 0) return m.kind === 'replace' ? value : doc;
  const parent = parentOf(doc, path);
  const last = path[path.length - 1]!;
  if (!parent) return doc;
  if (Array.isArray(parent) && typeof last === 'number') {
    if (m.kind === 'replace') parent[last] = value;
    else if (m.kind === 'delete') parent.splice(last, 1);
    else if (m.kind === 'duplicate') parent.splice(last, 0, structuredClone(parent[last]!));
    else parent.push(value);
    return doc;
  }
  const record = parent as { [key: string]: Json };
  const key = String(last);
  if (m.kind === 'replace') record[key] = value;
  else if (m.kind === 'delete') delete record[key];
  else if (m.kind === 'rename') {
    const moved = record[key]!;
    delete record[key];
    Object.defineProperty(record, m.key, {
      value: moved,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else
    Object.defineProperty(record, m.key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return doc;
}

const mutatedConfig = (skip: (path: Path) => boolean = () => false): fc.Arbitrary<Json> =>
  fc
    .array(mutation, { minLength: 1, maxLength: 3 })
    .map((mutations) => mutations.reduce((doc, m) => applyMutation(doc, m, skip), fullConfig() as Json));

function expectWellFormedIssues(issues: readonly ConfigIssue[]): void {
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(typeof issue.path).toBe('string');
    expect(typeof issue.message).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

describe('config validation never throws', () => {
  it('the unmutated config is valid', () => {
    expect(parseWithSchema(proxyConfigSchema, fullConfig()).ok).toBe(true);
  });

  it('parseWithSchema on arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const result = parseWithSchema(proxyConfigSchema, input);
        if (!result.ok) expectWellFormedIssues(result.issues);
      }),
      { numRuns: 500 },
    );
  });

  it('parseWithSchema on near-valid mutations of a full config', () => {
    let rejected = 0;
    fc.assert(
      fc.property(mutatedConfig(), (input) => {
        const result = parseWithSchema(proxyConfigSchema, input);
        if (!result.ok) {
          rejected++;
          expectWellFormedIssues(result.issues);
        }
      }),
      { numRuns: 1000 },
    );
    // Most edits break something (a generator that never did would test nothing), and some
    // leave a valid config (so the accepting path is exercised too).
    expect(rejected).toBeGreaterThan(500);
    expect(rejected).toBeLessThan(1000);
  });

  it('applyConfig on arbitrary values and near-valid mutations, keeping the generation honest', async () => {
    const { proxy } = await fx.proxy(fullConfig());
    // Listener edits are left out: they would bind real sockets to arbitrary hosts.
    const input = fc.oneof(
      fc.anything(),
      mutatedConfig((path) => path[0] === 'listeners'),
    );
    await fc.assert(
      fc.asyncProperty(input, async (doc) => {
        const before = proxy.generation;
        const result = await proxy.applyConfig(doc);
        if (result.ok) expect(result.generation).toBe(before + 1);
        else {
          expectWellFormedIssues(result.issues);
          expect(proxy.generation).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });
});
