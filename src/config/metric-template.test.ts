import { describe, expect, it } from 'vitest';
import { parseAviaryConfig } from './app-schema.js';
import { appWithMetrics } from './app-schema-test-support.js';
import { findTemplate, metricTemplateWarnings } from './metric-template.js';

const template = {
  name: 'error-rate',
  provider: { type: 'prometheus', address: 'http://127.0.0.1:9090' },
  query: 'sum(rate(errors{app="{{ target }}",code=~"{{ variables.codes }}"}[{{ interval }}]))',
};

function document(overrides: { templates?: unknown[]; metric?: Record<string, unknown> } = {}) {
  return appWithMetrics(
    [
      { name: 'request-success-rate', thresholdRange: { min: 99 } },
      overrides.metric ?? {
        name: 'errors',
        templateRef: { name: 'error-rate' },
        templateVariables: { codes: '5..' },
        thresholdRange: { max: 1 },
      },
    ],
    { metricTemplates: overrides.templates ?? [template] },
  );
}

function issuesOf(doc: unknown): { path: string; message: string }[] {
  const result = parseAviaryConfig(doc);
  if (result.ok) throw new Error('expected the document to be rejected');
  return result.issues;
}

describe('metricTemplates in aviary.yaml', () => {
  it('accepts Flagger-shaped templates and finds them by reference, namespace "default" by default', () => {
    const result = parseAviaryConfig(
      document({ templates: [template, { ...template, namespace: 'team-a', query: 'vector(2)' }] }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const templates = result.value.metricTemplates;
    expect(findTemplate(templates, { name: 'error-rate' })?.query).toBe(template.query);
    expect(findTemplate(templates, { name: 'error-rate', namespace: 'default' })?.query).toBe(template.query);
    expect(findTemplate(templates, { name: 'error-rate', namespace: 'team-a' })?.query).toBe('vector(2)');
    expect(findTemplate(templates, { name: 'other' })).toBeUndefined();
  });

  it('names an unknown provider type and lists the known ones from the registry', () => {
    const bad = { ...template, provider: { type: 'datadog', address: 'https://api.datadoghq.com' } };
    expect(issuesOf(document({ templates: [bad] }))).toEqual([
      {
        path: 'metricTemplates[0].provider.type',
        message: 'unknown metric provider type "datadog"; known types: prometheus',
      },
    ]);
  });

  it('rejects a query with an unsupported expression at the query path', () => {
    const bad = { ...template, query: 'up{a="{{ .Name }}"}' };
    const issues = issuesOf(document({ templates: [bad] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('metricTemplates[0].query');
    expect(issues[0]?.message).toContain('unsupported expression "{{ .Name }}"');
  });

  it('rejects a provider address that is not http(s) and unknown provider fields', () => {
    const bad = { ...template, provider: { type: 'prometheus', address: 'ftp://x', token: 'a' } };
    expect(issuesOf(document({ templates: [bad] }))).toHaveLength(2);
    expect(issuesOf(document({ templates: [bad] }))).toEqual(
      expect.arrayContaining([
        { path: 'metricTemplates[0].provider.token', message: 'unknown field (check the spelling)' },
        { path: 'metricTemplates[0].provider.address', message: 'expected an http(s) URL' },
      ]),
    );
  });

  it('names a templateRef to no template, listing the templates there are', () => {
    const metric = {
      name: 'errors',
      templateRef: { name: 'eror-rate' },
      templateVariables: { codes: '5..' },
    };
    expect(issuesOf(document({ metric }))).toEqual([
      {
        path: 'apps[0].canary.analysis.metrics[1].templateRef.name',
        message: 'unknown metric template "eror-rate"; define it under metricTemplates (known: error-rate)',
      },
    ]);
  });

  it('names the templateVariables a metric must set for its template', () => {
    const metric = { name: 'errors', templateRef: { name: 'error-rate' } };
    expect(issuesOf(document({ metric }))).toEqual([
      {
        path: 'apps[0].canary.analysis.metrics[1].templateVariables',
        message: 'metric template "error-rate" uses {{ variables.codes }}; set codes in templateVariables',
      },
    ]);
  });

  it('rejects two templates with the same name in the same namespace', () => {
    const issues = issuesOf(document({ templates: [template, { ...template, namespace: 'default' }] }));
    expect(issues).toEqual([
      {
        path: 'metricTemplates[1].name',
        message: 'duplicate metric template "default/error-rate" (also metricTemplates[0])',
      },
    ]);
  });

  it('accepts secretRef for compatibility and reports it as ignored, with its path', () => {
    const withSecret = { ...template, provider: { ...template.provider, secretRef: { name: 'prom-auth' } } };
    const result = parseAviaryConfig(document({ templates: [withSecret] }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(metricTemplateWarnings(result.value.metricTemplates)).toEqual([
      {
        path: 'metricTemplates[0].provider.secretRef',
        message:
          'not supported outside Kubernetes and ignored (secret "prom-auth" is not read); put credentials in provider.headers instead',
      },
    ]);
  });

  it('takes metricsServer as an http(s) URL', () => {
    expect(parseAviaryConfig({ ...document(), metricsServer: 'http://127.0.0.1:9090' }).ok).toBe(true);
    expect(issuesOf({ ...document(), metricsServer: 'localhost:9090' })).toEqual([
      { path: 'metricsServer', message: 'expected an http(s) URL' },
    ]);
  });
});
