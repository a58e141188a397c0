/**
 * A gRPC canary rolled back by the judge: the embedded runtime runs the Echo service as a
 * process target (echo-process.js) with `service.appProtocol: grpc`, a grpc-js client
 * calls it through an HTTP/2 listener of the built-in router, and a canary answering every
 * call UNAVAILABLE (HTTP 200, the status in the trailers) is caught by the judge from the
 * router's own per-version counts. Nothing is timed.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AppSpecInput } from '../../src/config/app-schema.js';
import {
  describeRollout,
  leaks,
  startClosedAfterTest,
  tempDir,
  testConfig,
  TEST_TIMEOUT_MS,
  waitFor,
  watchSettledPhase,
} from '../rollout/support.js';
import { onCleanup } from '../rollout/test-cleanup.js';
import { callUnary, echoClient } from './grpc-support.js';

const APP = 'catalogdetail';
const ECHO_PROCESS = fileURLToPath(new URL('./echo-process.js', import.meta.url));

function echoApp(version: string, env: Record<string, string> = {}): AppSpecInput {
  return {
    name: APP,
    // gRPC calls are POSTs to /<package>.<Service>/<Method>: the service's prefix routes them.
    path: '/aviary.test.Echo/',
    process: {
      command: process.execPath,
      args: [ECHO_PROCESS],
      env: { VERSION: version, ...env, ...leaks.env },
    },
    canary: {
      service: { appProtocol: 'grpc' },
      progressDeadlineSeconds: 600,
      analysis: { interval: '1m', threshold: 5, stepWeight: 10, maxWeight: 30, judge: {} },
    },
  };
}

describe('a gRPC canary under the judge', { timeout: TEST_TIMEOUT_MS }, () => {
  it('rolls back a canary answering UNAVAILABLE, counted from grpc-status in the trailers', async () => {
    const stateDir = await tempDir();
    const runtime = await startClosedAfterTest(testConfig(stateDir, [echoApp('1')]));
    const phase = watchSettledPhase(runtime);
    const events = (reason?: string) =>
      runtime.controller.events(APP).filter((e) => reason === undefined || e.reason === reason);
    const test = { phase, events };
    const proxy = runtime.proxy!;
    // gRPC clients speak h2c: the runtime's router gets an HTTP/2 listener beside its HTTP/1.1 one.
    const added = await proxy.updateConfig((config) => ({
      ...config,
      listeners: [...config.listeners, { name: 'grpc', port: 0, protocol: 'http2' }],
    }));
    expect(added.ok).toBe(true);
    await waitFor(
      'Initialized',
      () => (phase() === 'Initialized' ? true : undefined),
      () => describeRollout(test),
    );

    const client = echoClient(`127.0.0.1:${proxy.address('grpc').port}`);
    onCleanup(() => client.close());
    const answers: { version?: string; code?: number }[] = [];
    let calling = true;
    const loop = (async () => {
      while (calling) {
        const { note, error } = await callUnary(client, 'hi');
        answers.push(note ? { version: note.version } : { code: error!.code });
      }
    })();
    onCleanup(async () => {
      calling = false;
      await loop;
    });
    await waitFor('a first answer from version 1', () =>
      answers.some((a) => a.version === '1') ? true : undefined,
    );

    runtime.update(testConfig(stateDir, [echoApp('2', { FAIL: 'unavailable' })]));
    await waitFor(
      'Progressing',
      () => (phase() === 'Progressing' ? true : undefined),
      () => describeRollout(test),
    );
    // The first step of a 1m interval would come after a minute: the operator routes 20 % now.
    runtime.controller.command(APP, { kind: 'set-weights', canaryWeight: 20 }, 'test');
    await waitFor(
      'Failed',
      () => (phase() === 'Failed' ? true : undefined),
      () => describeRollout(test),
    );

    const [detected] = events('RegressionDetected');
    expect(detected?.message).toMatch(/regression detected \(metric judge: regression/);
    // The canary really answered UNAVAILABLE to clients, and the router counted it per version.
    expect(answers.some((a) => a.code === 14)).toBe(true);
    const text = proxy.metrics.render();
    expect(text).toMatch(
      /aviary_proxy_grpc_responses_total\{[^}]*version="canary"[^}]*grpc_code="UNAVAILABLE"/,
    );
    const before = answers.length;
    await waitFor('more answers after the rollback', () =>
      answers.length >= before + 20 ? true : undefined,
    );
    expect(answers.slice(before + 5).every((a) => a.version === '1')).toBe(true);
  });
});
