import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseAviaryConfig } from './app-schema.js';
import { ALERT_PROVIDER_TYPES } from './alert-providers.js';
import { ROUTER_KINDS } from './router-kinds.js';
import { CLUSTER_WORKLOAD_KINDS, WORKLOAD_KINDS } from './app-workload.js';
import { notifierRegistry } from '../notify/notifier-registry.js';
import { routerRegistry } from '../router/router-registry.js';
import { targetRegistry } from '../target/target-registry.js';

type Doc = Record<string, unknown>;
const BASE = parseYaml(
  readFileSync(new URL('../../test/fixtures/specs/aviary.yaml', import.meta.url), 'utf8'),
) as Doc;
const VALID_APP = (BASE.apps as Doc[])[0] as Doc;
const { process: _process, ...APP_WITHOUT_WORKLOAD } = VALID_APP;

function config(app: Doc = {}, top: Doc = {}): Doc {
  return { apiVersion: 'aviary.dev/v1alpha1', kind: 'Aviary', apps: [{ ...VALID_APP, ...app }], ...top };
}

/** The issues of an invalid document, as `path: message` lines. */
function issuesOf(document: Doc): string[] {
  const result = parseAviaryConfig(document);
  if (result.ok) throw new Error('expected the document to be refused');
  return result.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

const ADMIN = {
  kind: 'aviary-admin',
  instances: [
    { url: 'http://10.0.0.5:9901', tokenFile: '/etc/aviary/token' },
    { url: 'http://10.0.0.6:9901', tokenEnv: 'AVIARY_PROXY_TOKEN' },
  ],
};

describe('engine kinds named in aviary.yaml', () => {
  it('has a factory for every kind the schema accepts, and no other', () => {
    expect([...routerRegistry.kinds()].sort()).toEqual([...ROUTER_KINDS].sort());
    expect([...targetRegistry.kinds()].sort()).toEqual([...WORKLOAD_KINDS, ...CLUSTER_WORKLOAD_KINDS].sort());
    expect([...notifierRegistry.kinds()].sort()).toEqual([...ALERT_PROVIDER_TYPES].sort());
  });

  it('reads a router block without kind as the embedded proxy', () => {
    const result = parseAviaryConfig(config({}, { router: { port: 9000 } }));
    expect(result.ok && result.value.router).toEqual({
      kind: 'embedded',
      host: '127.0.0.1',
      port: 9000,
    });
  });

  it('takes an aviary-admin router with several instances', () => {
    const result = parseAviaryConfig(config({}, { router: ADMIN }));
    expect(result.ok && result.value.router).toEqual(ADMIN);
  });

  it('refuses an unknown router kind, naming the path and the known kinds', () => {
    expect(issuesOf(config({}, { router: { kind: 'istio' } }))).toEqual([
      'router.kind: expected one of "embedded", "aviary-admin", "haproxy", got "istio"',
    ]);
  });

  it('refuses an admin instance whose token is in no file or variable, and a token in clear', () => {
    const noToken = { kind: 'aviary-admin', instances: [{ url: 'http://10.0.0.5:9901' }] };
    expect(issuesOf(config({}, { router: noToken }))).toEqual([
      'router.instances[0]: expected one of tokenFile or tokenEnv: where the admin token is read from',
    ]);
    const inClear = {
      kind: 'aviary-admin',
      instances: [{ url: 'http://10.0.0.5:9901', token: 's3cr3t', tokenEnv: 'T' }],
    };
    expect(issuesOf(config({}, { router: inClear }))[0]).toMatch(
      /^router\.instances\[0\]\.token: unknown field/,
    );
  });

  it('takes the judge with a router whose data plane runs elsewhere: it reads counts over the admin API', () => {
    const judged = config(
      { canary: { analysis: { interval: '1m', stepWeight: 10, maxWeight: 50, judge: {} } } },
      { router: ADMIN },
    );
    expect(parseAviaryConfig(judged).ok).toBe(true);
  });

  it('takes the built-in proxy as its own process, and the judge with it', () => {
    const separate = { port: 9000, process: 'separate' };
    const result = parseAviaryConfig(config({}, { router: separate }));
    expect(result.ok && result.value.router).toMatchObject({ kind: 'embedded', process: 'separate' });
    const judged = config(
      { canary: { analysis: { interval: '1m', stepWeight: 10, maxWeight: 50, judge: {} } } },
      { router: separate },
    );
    expect(parseAviaryConfig(judged).ok).toBe(true);
    expect(issuesOf(config({}, { router: { process: 'elsewhere' } }))[0]).toMatch(/^router\.process: /);
  });

  it('takes an endpoints workload and hands it on as the app workload', () => {
    const app = { ...APP_WITHOUT_WORKLOAD, endpoints: { addresses: ['10.0.0.7:8080', '[::1]:8081'] } };
    const result = parseAviaryConfig({ ...config(), apps: [app] });
    expect(result.ok && result.value.apps[0]!.workload).toEqual({
      kind: 'endpoints',
      addresses: ['10.0.0.7:8080', '[::1]:8081'],
    });
  });

  it('refuses an app with no workload block, or an unknown one, listing the known kinds', () => {
    const unknown = { ...APP_WITHOUT_WORKLOAD, kubernetes: { deployment: 'catalog' } };
    expect(issuesOf({ ...config(), apps: [unknown] })).toEqual([
      'apps[0].kubernetes: unknown field (check the spelling)',
      'apps[0]: expected a workload block; known workload kinds: endpoints, process',
    ]);
  });

  it('refuses two workload blocks and bad addresses, naming each', () => {
    const both = {
      ...APP_WITHOUT_WORKLOAD,
      endpoints: { addresses: ['10.0.0.7:8080', '10.0.0.7:8080', 'nohost', '1.2.3.4:70000'] },
    };
    expect(issuesOf({ ...config(), apps: [both] })).toEqual([
      'apps[0].endpoints.addresses[2]: expected host:port, e.g. 10.0.0.7:8080 or [::1]:8080',
      'apps[0].endpoints.addresses[1]: duplicate address 10.0.0.7:8080',
      'apps[0].endpoints.addresses[3]: expected a port from 1 to 65535',
    ]);
    const twoBlocks = { ...VALID_APP, endpoints: { addresses: ['10.0.0.7:8080'] } };
    expect(issuesOf({ ...config(), apps: [twoBlocks] })).toEqual([
      'apps[0].process: one workload block per app: endpoints is already set',
    ]);
  });

  it('refuses an unknown alert provider type, listing the known ones', () => {
    const providers = [{ name: 'pager', type: 'pagerduty', address: 'https://events.example/' }];
    expect(issuesOf(config({}, { alertProviders: providers }))).toEqual([
      `alertProviders[0].type: expected one of ${ALERT_PROVIDER_TYPES.map((t) => `"${t}"`).join(', ')}, got "pagerduty"`,
    ]);
  });
});
