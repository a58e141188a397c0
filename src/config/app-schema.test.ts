import { DEFAULT_JUDGE_CONFIG } from './app-judge.js';
import { describe, expect, it } from 'vitest';
import { config, withAnalysis } from './app-schema-test-support.js';
import { ConfigError } from './config-error.js';
import { loadAviaryConfig, parseAviaryConfig } from './app-schema.js';
import type { ProcessSpec } from './app-process.js';
import { ProcessTarget } from '../target/process/process-target.js';
import { revisionOf } from '../target/process/version-spec.js';

describe('aviary.yaml schema: valid documents', () => {
  it('applies the documented defaults', () => {
    const result = parseAviaryConfig(config());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const { router, api, stateDir, minAnalysisInterval, apps } = result.value;
    expect({ router, api, stateDir, minAnalysisInterval }).toEqual({
      router: { kind: 'embedded', host: '127.0.0.1', port: 8080 },
      api: { host: '127.0.0.1', port: 8081 },
      stateDir: '.aviary',
      minAnalysisInterval: 10_000,
    });
    const app = apps[0]!;
    expect((app.workload as ProcessSpec).replicas).toBe(1);
    expect(app.canary).toMatchObject({ progressDeadlineSeconds: 600, skipAnalysis: false, suspend: false });
    expect(app.canary.analysis).toMatchObject({
      interval: 60_000,
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
      primaryReadyThreshold: 100,
      canaryReadyThreshold: 100,
      mirror: false,
      mirrorWeight: 100,
    });
    expect(app.canary.analysis.metrics[0]).toMatchObject({
      interval: 60_000,
      minRequests: 10,
      failOnNoData: false,
    });
    expect(app.canary.analysis.metrics[1]!.interval).toBe(30_000);
    expect(app.canary.analysis.webhooks[0]).toMatchObject({
      type: 'rollout',
      timeout: 10_000,
      retries: 0,
      muteAlert: false,
    });
    // The judge is on by default for a weighted canary: its settings, and its check after the metrics.
    expect(app.canary.analysis.judge).toEqual(DEFAULT_JUDGE_CONFIG);
    expect(app.canary.analysis.metrics.at(-1)).toMatchObject({ name: 'judge', minRequests: 100 });
  });

  it('leaves the judge off when told, and by default where the canary takes no weighted share', () => {
    const judgeOf = (analysis: Record<string, unknown>) => {
      const result = parseAviaryConfig(withAnalysis(analysis));
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      const parsed = result.value.apps[0]!.canary.analysis;
      return [parsed.judge !== undefined, parsed.metrics.some((m) => m.name === 'judge')];
    };
    expect(judgeOf({ judge: false })).toEqual([false, false]);
    // Blue/green: iterations on the primary's traffic.
    expect(judgeOf({ stepWeight: undefined, maxWeight: undefined, iterations: 5 })).toEqual([false, false]);
    // Sticky sessions group requests by user, which the count test does not model.
    expect(judgeOf({ sessionAffinity: { cookieName: 'user' } })).toEqual([false, false]);
    expect(judgeOf({})).toEqual([true, true]);
  });

  it('takes maxWeight from the last stepWeights entry, and 100 otherwise', () => {
    const fromSteps = parseAviaryConfig(
      withAnalysis({ stepWeight: undefined, maxWeight: undefined, stepWeights: [1, 5, 25, 60] }),
    );
    const plain = parseAviaryConfig(withAnalysis({ maxWeight: undefined }));
    expect(fromSteps.ok && fromSteps.value.apps[0]!.canary.analysis.maxWeight).toBe(60);
    expect(plain.ok && plain.value.apps[0]!.canary.analysis.maxWeight).toBe(100);
  });

  it('accepts built-in gate URLs on gated hook types', () => {
    const gated = withAnalysis({
      webhooks: [
        { name: 'approve-start', type: 'confirm-rollout', url: 'aviary:gate' },
        { name: 'hold', type: 'confirm-promotion', url: 'aviary:gate/halt' },
        { name: 'operator-rollback', type: 'rollback', url: 'aviary:gate' },
      ],
    });
    expect(parseAviaryConfig(gated).ok).toBe(true);
  });

  it('promotes without analysis when an app has no canary block', () => {
    const result = parseAviaryConfig(config({ canary: undefined }));
    expect(result.ok && result.value.apps[0]!.canary.skipAnalysis).toBe(true);
  });

  it('accepts Kubernetes probe names and Aviary durations alike', () => {
    const result = parseAviaryConfig(
      config({
        process: {
          command: 'node',
          readinessProbe: { httpGet: { path: '/ping' }, periodSeconds: 2, timeout: '500ms' },
          livenessProbe: {
            httpGet: { path: '/ping' },
            interval: '5s',
            initialDelaySeconds: 1,
            failureThreshold: 5,
          },
        },
      }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const { readinessProbe, livenessProbe } = result.value.apps[0]!.workload as ProcessSpec;
    expect(readinessProbe).toEqual({
      path: '/ping',
      intervalMs: 2000,
      timeoutMs: 500,
      initialDelayMs: 0,
      failureThreshold: 3,
      successThreshold: 1,
    });
    expect(livenessProbe).toMatchObject({
      intervalMs: 5000,
      timeoutMs: 1000,
      initialDelayMs: 1000,
      failureThreshold: 5,
    });
  });

  it('allows short analysis intervals only below an explicit minAnalysisInterval', () => {
    expect(parseAviaryConfig(withAnalysis({ interval: '1s' })).ok).toBe(false);
    const demo = parseAviaryConfig({ ...withAnalysis({ interval: '1s' }), minAnalysisInterval: '500ms' });
    expect(demo.ok && demo.value.apps[0]!.canary.analysis.interval).toBe(1000);
  });

  it('reads YAML text and names the source on a syntax error', () => {
    const text = [
      'apiVersion: aviary.dev/v1alpha1',
      'kind: Aviary',
      'apps:',
      '  - name: web',
      '    path: /',
      '    process: {command: node}',
    ].join('\n');
    expect(loadAviaryConfig(text, 'aviary.yaml').apps[0]!.name).toBe('web');
    expect(() => loadAviaryConfig('apps: [', 'aviary.yaml')).toThrow(
      /aviary\.yaml is invalid:\n {2}\(root\): not valid YAML/,
    );
    try {
      loadAviaryConfig('apiVersion: nope', 'aviary.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('AVIARY_CONFIG_INVALID');
    }
  });
});

describe('revisionOf', () => {
  const base = { command: 'node', args: ['server.js'], env: { A: '1', B: '2' } };

  it('is 12 hex digits, stable whatever the order of env keys', () => {
    expect(revisionOf(base)).toMatch(/^[0-9a-f]{12}$/);
    expect(revisionOf({ ...base, env: { B: '2', A: '1' } })).toBe(revisionOf(base));
  });

  it('is what the process target identifies a configured workload as', () => {
    const result = parseAviaryConfig(config({ process: { ...base, replicas: 3 } }));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const process = result.value.apps[0]!.workload as ProcessSpec;
    const target = new ProcessTarget({ stateDir: '/nonexistent' });
    expect(target.identify(process)).toEqual({ revision: revisionOf(base), replicas: 3 });
  });

  it('changes with command, args, cwd and env', () => {
    const variants = [
      { ...base, command: 'deno' },
      { ...base, args: ['server.js', '--v2'] },
      { ...base, cwd: '/srv/app' },
      { ...base, env: { A: '1', B: '3' } },
    ];
    const revisions = new Set([revisionOf(base), ...variants.map(revisionOf)]);
    expect(revisions.size).toBe(variants.length + 1);
  });
});
