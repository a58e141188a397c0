import { describe, expect, it } from 'vitest';
import { alertProviderOf, metricTemplateOf, type AnalysisObject } from './cluster-objects.js';

function template(spec: Record<string, unknown>, name = 'error-rate', namespace = 'shop'): AnalysisObject {
  return { apiVersion: 'aviary.dev/v1alpha1', kind: 'MetricTemplate', metadata: { name, namespace }, spec };
}

function provider(spec: Record<string, unknown>, name = 'on-call', namespace = 'shop'): AnalysisObject {
  return { apiVersion: 'aviary.dev/v1alpha1', kind: 'AlertProvider', metadata: { name, namespace }, spec };
}

const QUERY = 'sum(rate(errors{app="{{ target }}"}[{{ interval }}]))';
const PROMETHEUS = { type: 'prometheus', address: 'http://prometheus.monitoring:9090' };

describe('metricTemplateOf', () => {
  it('reads a valid template as the metricTemplates entry, namespace from metadata', () => {
    expect(metricTemplateOf(template({ provider: PROMETHEUS, query: QUERY }))).toEqual({
      ok: true,
      value: { name: 'error-rate', namespace: 'shop', provider: PROMETHEUS, query: QUERY },
      notes: [],
    });
  });

  it('names the object and the field of a bad address', () => {
    const read = metricTemplateOf(
      template(
        { provider: { type: 'prometheus', address: 'prometheus:9090' }, query: QUERY },
        'foo',
        'default',
      ),
    );
    expect(read).toEqual({
      ok: false,
      error: 'MetricTemplate default/foo: spec.provider.address: expected an http(s) URL',
    });
  });

  it('names an unknown provider type and a bad query with their fields', () => {
    const read = metricTemplateOf(
      template({ provider: { ...PROMETHEUS, type: 'datadog' }, query: 'up{a="{{ .Name }}"}' }),
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error).toMatch(
      /^MetricTemplate shop\/error-rate: spec\.provider\.type: unknown metric provider type "datadog"; known types: prometheus; spec\.query: /,
    );
  });

  it('keeps secretRef as aviary.yaml does, with a note naming the field and why it is not read', () => {
    const read = metricTemplateOf(
      template({ provider: { ...PROMETHEUS, secretRef: { name: 'prom-auth' } }, query: QUERY }),
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.notes).toHaveLength(1);
    expect(read.notes[0]).toMatch(
      /^MetricTemplate shop\/error-rate: spec\.provider\.secretRef: ignored \(Secret "prom-auth" is not read: the operator has no access to Secrets/,
    );
  });

  it('drops insecureSkipVerify and region, the CRD fields aviary.yaml has not, with notes', () => {
    const read = metricTemplateOf(
      template({ provider: { ...PROMETHEUS, insecureSkipVerify: true, region: 'eu-west-1' }, query: QUERY }),
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.provider).toEqual(PROMETHEUS);
    expect(read.notes.map((n) => n.split(':')[1]?.trim())).toEqual([
      'spec.provider.insecureSkipVerify',
      'spec.provider.region',
    ]);
  });

  it('names a missing spec field', () => {
    expect(metricTemplateOf(template({ provider: PROMETHEUS }))).toEqual({
      ok: false,
      error: 'MetricTemplate shop/error-rate: spec.query: is required (expected a string)',
    });
  });
});

describe('alertProviderOf', () => {
  it('reads a valid provider as the alertProviders entry', () => {
    const spec = { type: 'slack', address: 'https://hooks.slack.com/services/T/B/X', channel: 'ops' };
    expect(alertProviderOf(provider(spec))).toEqual({
      ok: true,
      value: { name: 'on-call', ...spec },
      notes: [],
    });
  });

  it('names the object and the field of a bad type or address', () => {
    const read = alertProviderOf(provider({ type: 'pagerduty', address: 'ftp://x' }, 'pager', 'default'));
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error).toMatch(
      /^AlertProvider default\/pager: spec\.type: .*; spec\.address: expected an http\(s\) URL$/,
    );
  });

  it('reports secretRef and proxy as not honoured, naming each field', () => {
    const read = alertProviderOf(
      provider({
        type: 'webhook',
        address: 'https://alerts.example.com/hook',
        secretRef: { name: 'hook-url' },
        proxy: 'http://proxy:3128',
      }),
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value).toEqual({
      name: 'on-call',
      type: 'webhook',
      address: 'https://alerts.example.com/hook',
    });
    expect(read.notes).toHaveLength(2);
    expect(read.notes[0]).toMatch(
      /^AlertProvider shop\/on-call: spec\.secretRef: ignored \(Secret "hook-url" is not read/,
    );
    expect(read.notes[1]).toMatch(/^AlertProvider shop\/on-call: spec\.proxy: ignored/);
  });
});
