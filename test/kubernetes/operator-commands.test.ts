/**
 * Commands on Kubernetes (issue 13, case e, and "commands with kubectl alone and through the
 * control API and CLI pointed at the operator"): a confirm-promotion gate opened with
 * `kubectl annotate`, then promoted; the next release driven by the CLI against the
 * operator's control API (set-weight, pause, gate close) and by annotations (resume, abort),
 * each annotation removed once carried out, a malformed one answered by a Warning Event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { ensureBuilt, runCli } from '../cli/cli-support.js';
import { pollFor } from '../support/poll.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();
const TOKEN = 'operator-commands-test-token';

describe.skipIf(unavailable !== undefined)('commands to the operator, with kubectl and the CLI', () => {
  const fixture = new OperatorFixture();
  const cli = (args: string[], token = true) =>
    runCli([...args, '--api', fixture.operator.controlUrl!, ...(token ? ['--token', TOKEN] : [])]);
  const annotate = (annotation: string) =>
    fixture.run(['annotate', '--overwrite', 'canary', 'podinfo', annotation]);
  const annotations = async () =>
    (await fixture.getJson<{ metadata: { annotations?: Record<string, string> } }>(['canary', 'podinfo']))
      .metadata.annotations ?? {};
  /** Waits until the operator has removed every `aviary.dev/` command annotation. */
  const cleared = () => {
    let last: Record<string, string> = {};
    return pollFor(
      'command annotations removed',
      async () =>
        Object.keys((last = await annotations())).some((k) => k.startsWith('aviary.dev/')) ? undefined : true,
      () => `annotations ${JSON.stringify(last)}`,
      30_000,
    );
  };
  const events = async (reason: string) =>
    (
      await fixture.getJson<{ items: { message: string; type: string }[] }>([
        'events',
        '--field-selector',
        `involvedObject.name=podinfo,involvedObject.kind=Canary,reason=${reason}`,
      ])
    ).items;
  const eventFor = (reason: string) => {
    let reasons: string[] = [];
    return pollFor(
      `a ${reason} Event`,
      async () => {
        reasons = await fixture.eventReasons();
        return (await events(reason))[0];
      },
      () => `Events: ${reasons.join(' ')}`,
      30_000,
    );
  };
  const canaryWeight = (weight: number) =>
    pollFor(
      `canary weight ${weight} on the HTTPRoute`,
      async () => ((await fixture.weights())['podinfo-canary'] === weight ? true : undefined),
      undefined,
      30_000,
    );

  beforeAll(async () => {
    await ensureBuilt();
    await fixture.start(
      {
        interval: '10s',
        threshold: 2,
        maxWeight: 20,
        stepWeight: 10,
        judge: { enabled: false },
        webhooks: [{ name: 'approval', type: 'confirm-promotion', url: 'aviary:gate' }],
      },
      { controlApi: { port: 0, token: TOKEN } },
    );
    await fixture.phase('Initialized');
  }, 240_000);
  afterAll(() => fixture.stop(), 60_000);

  it('waits at the confirm-promotion gate until it is opened with kubectl annotate, then promotes', async () => {
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    await fixture.phase('WaitingPromotion', 90_000);
    expect(await fixture.weights()).toMatchObject({ 'podinfo-canary': 20 });
    expect(await fixture.eventReasons()).not.toContain('Promoting');
    await annotate('aviary.dev/open-gate=confirm-promotion');
    await fixture.phase('Succeeded', 90_000);
    await cleared();
    expect((await eventFor('GateOpened')).message).toMatch(
      /confirm-promotion gate opened by annotation aviary\.dev\/open-gate/,
    );
    const primary = await fixture.getJson<{
      spec: { template: { spec: { containers: { image: string }[] } } };
    }>(['deployment', 'podinfo-primary']);
    expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:2');
  });

  it('serves the control API and the dashboard: the CLI reads the rollout, and a command without the token is refused', async () => {
    const status = await cli(['status', 'podinfo'], false);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/podinfo/);
    expect(status.stdout).toMatch(/Succeeded/);
    const page = await fetch(fixture.operator.controlUrl!);
    expect([page.status, page.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/text\/html/),
    ]);
    const traffic = await fetch(`${fixture.operator.controlUrl!}/api/v1/rollouts/podinfo/traffic`);
    // This operator has no --prometheus: the dashboard's traffic read says what is missing.
    expect([traffic.status, await traffic.json()]).toEqual([
      400,
      {
        error: expect.objectContaining({
          code: 'AVIARY_TRAFFIC_SOURCE_MISSING',
          message: expect.stringMatching(/--prometheus/),
        }),
      },
    ]);
    const refused = await cli(['pause', 'podinfo'], false);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/token/i);
  });

  it('drives the next release with the CLI and annotations: set-weight, pause, resume, abort', async () => {
    const closed = await cli(['gate', 'close', 'podinfo', 'confirm-promotion']);
    expect(closed.code, closed.stderr).toBe(0);
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:3']);
    await fixture.phase('WaitingPromotion', 90_000);

    await annotate('aviary.dev/canary-weight=lots');
    const refusal = await eventFor('CommandRefused');
    expect(refusal).toMatchObject({ type: 'Warning' });
    expect(refusal.message).toMatch(
      /aviary\.dev\/canary-weight="lots" refused: .*whole number from 0 to 100/,
    );
    await cleared();

    const weight = await cli(['set-weight', 'podinfo', '--canary', '5']);
    expect(weight.code, weight.stderr).toBe(0);
    await canaryWeight(5);
    const pause = await cli(['pause', 'podinfo']);
    expect(pause.code, pause.stderr).toBe(0);
    await eventFor('Paused');
    await annotate('aviary.dev/resume=');
    await eventFor('Resumed');
    await annotate('aviary.dev/abort=p99 regression seen on the dashboard');
    await fixture.phase('Failed', 90_000);
    await cleared();
    expect((await eventFor('OperatorAborted')).message).toMatch(/aborted by operator \(p99 regression seen/);
    expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    expect(
      (await fixture.getJson<{ spec: { replicas: number } }>(['deployment', 'podinfo'])).spec.replicas,
    ).toBe(0);
  });
});
