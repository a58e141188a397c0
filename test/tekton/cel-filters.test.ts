/**
 * The EventListener's CEL filters, read from deploy/tekton/40-triggers.yaml, evaluated with
 * @bufbuild/cel on GitHub push payloads (test/tekton/payloads/: GitHub's push shape,
 * written for these tests, with the SHAs GitHub would send: `after` is the tag object for
 * an annotated tag, all zeros for a deletion). Also: what each trigger's TriggerBinding reads
 * exists in every payload its filter lets through.
 */
import { isCelError, run, type CelInput } from '@bufbuild/cel';
import { beforeAll, describe, expect, it } from 'vitest';
import { bindParams, loadManifests, manifest, payload, type Manifest } from './manifests.js';

const EVENT_LISTENER = 'aviary-github';
const BUILD = 'apps-build-on-tag';
const DEPLOY = 'apps-deploy-on-main';

/** What each trigger's filter must answer for each payload. */
const EXPECTED: readonly { payload: string; [BUILD]: boolean; [DEPLOY]: boolean }[] = [
  { payload: 'tag-push', [BUILD]: true, [DEPLOY]: false },
  { payload: 'annotated-tag-push', [BUILD]: true, [DEPLOY]: false },
  { payload: 'branch-push-main', [BUILD]: false, [DEPLOY]: true },
  { payload: 'branch-push-other', [BUILD]: false, [DEPLOY]: false },
  { payload: 'tag-delete', [BUILD]: false, [DEPLOY]: false },
];

/** JSON as CEL sees it in Triggers: objects are maps, numbers doubles. */
function celValue(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(celValue);
  if (value !== null && typeof value === 'object')
    return new Map(Object.entries(value).map(([k, v]) => [k, celValue(v)]));
  return value as CelInput;
}

interface Trigger {
  readonly name: string;
  readonly interceptors: {
    ref: { name: string; kind?: string };
    params?: { name: string; value: unknown }[];
  }[];
  readonly bindings: { ref: string }[];
}

function celFilter(trigger: Trigger): string {
  const cel = trigger.interceptors.filter((i) => i.ref.name === 'cel');
  const filter = cel.flatMap((i) => i.params ?? []).find((p) => p.name === 'filter')?.value;
  if (cel.length !== 1 || typeof filter !== 'string')
    throw new Error(`trigger ${trigger.name}: expected one cel interceptor with a filter`);
  return filter;
}

function evaluate(filter: string, body: Record<string, unknown>): boolean {
  const result = run(filter, { body: celValue(body) });
  if (isCelError(result)) throw new Error(`${filter}: ${result.message}`);
  if (typeof result !== 'boolean') throw new Error(`${filter}: returned a ${typeof result}, not a bool`);
  return result;
}

describe('the EventListener CEL filters on recorded GitHub pushes', () => {
  let objects: Manifest[];
  let triggers: Map<string, Trigger>;

  beforeAll(async () => {
    objects = await loadManifests();
    const listener = manifest(objects, 'EventListener', EVENT_LISTENER);
    triggers = new Map((listener.spec.triggers as Trigger[]).map((t) => [t.name, t]));
  });

  it('has exactly the two triggers, each behind the GitHub interceptor for push events only', () => {
    expect([...triggers.keys()].sort()).toEqual([BUILD, DEPLOY]);
    for (const trigger of triggers.values()) {
      const [first] = trigger.interceptors;
      expect(first?.ref).toEqual({ name: 'github', kind: 'ClusterInterceptor' });
      const params = Object.fromEntries((first?.params ?? []).map((p) => [p.name, p.value]));
      expect(params.eventTypes).toEqual(['push']);
      expect(params.secretRef).toMatchObject({
        secretName: expect.any(String),
        secretKey: expect.any(String),
      });
    }
  });

  it.each(EXPECTED)('$payload: build $apps-build-on-tag, deploy $apps-deploy-on-main', async (row) => {
    const body = await payload(row.payload);
    expect(evaluate(celFilter(triggers.get(BUILD)!), body)).toBe(row[BUILD]);
    expect(evaluate(celFilter(triggers.get(DEPLOY)!), body)).toBe(row[DEPLOY]);
  });

  it('each filter both accepts and rejects some recorded payload', () => {
    for (const name of [BUILD, DEPLOY] as const) {
      expect(EXPECTED.some((row) => row[name])).toBe(true);
      expect(EXPECTED.some((row) => !row[name])).toBe(true);
    }
  });

  it("refuses a filter that does not evaluate to a bool (the evaluator's answer is checked)", () => {
    expect(() => evaluate('body.ref', { ref: 'refs/tags/v1' })).toThrow(/not a bool/);
  });

  it.each(
    EXPECTED.flatMap((row) =>
      [BUILD, DEPLOY]
        .filter((t) => row[t as typeof BUILD])
        .map((t) => ({ trigger: t, payload: row.payload })),
    ),
  )(
    '$trigger: its TriggerBinding finds every field it reads in $payload',
    async ({ trigger, payload: name }) => {
      const bindingName = triggers.get(trigger)!.bindings[0]!.ref;
      const headers = {
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      };
      const params = bindParams(manifest(objects, 'TriggerBinding', bindingName), {
        body: await payload(name),
        headers,
      });
      for (const value of Object.values(params)) expect(value).not.toBe('');
      expect(params['delivery-id']).toBe(headers['X-GitHub-Delivery']);
    },
  );

  it('binds the peeled commit and the tag object apart for an annotated tag', async () => {
    const body = await payload('annotated-tag-push');
    const params = bindParams(manifest(objects, 'TriggerBinding', 'apps-build'), {
      body,
      headers: { 'X-GitHub-Delivery': 'd1' },
    });
    expect(params['ref-sha']).toBe(body.after);
    expect(params['commit-sha']).toBe((body.head_commit as { id: string }).id);
    expect(params['ref-sha']).not.toBe(params['commit-sha']);
  });
});
