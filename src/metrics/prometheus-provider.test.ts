import { afterEach, describe, expect, it } from 'vitest';
import {
  answerJson as json,
  startFakePrometheus,
  vectorAnswer as vector,
  type FakeAnswer,
  type FakeApiRequest,
  type FakePrometheus,
} from '../../test/fakes/prometheus-fake-api.js';
import { PrometheusProvider } from './prometheus-provider.js';
import { MetricQueryError } from './metric-provider.js';

let fake: FakePrometheus | undefined;
let seen: FakeApiRequest[] = [];

async function fakePrometheus(answer: FakeAnswer): Promise<string> {
  fake = await startFakePrometheus(answer);
  seen = fake.requests;
  return fake.address;
}

/** Stops the fake so its address refuses connections. */
async function stopFake(): Promise<void> {
  await fake?.close();
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function queryError(provider: PrometheusProvider, query = 'q'): Promise<MetricQueryError> {
  try {
    await provider.runQuery(query, new AbortController().signal);
  } catch (err) {
    expect(err).toBeInstanceOf(MetricQueryError);
    return err as MetricQueryError;
  }
  throw new Error('expected the query to fail');
}

const never = new AbortController().signal;

describe('PrometheusProvider.runQuery', () => {
  it('GETs /api/v1/query with the query and the configured headers, under the address path', async () => {
    const address = await fakePrometheus((_req, res) => json(res, 200, vector('99.5')));
    const provider = new PrometheusProvider({
      address: `${address}/prom/`,
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(await provider.runQuery('sum(rate(x{a="b"}[1m]))', never)).toBe(99.5);
    expect(seen[0]).toMatchObject({ path: '/prom/api/v1/query', query: 'sum(rate(x{a="b"}[1m]))' });
    expect(seen[0]?.headers.authorization).toBe('Bearer s3cret');
  });

  it('reads scalars and the special values +Inf and -Inf', async () => {
    const answers = [
      { status: 'success', data: { resultType: 'scalar', result: [1, '3.25'] } },
      vector('+Inf'),
      vector('-Inf'),
    ];
    const address = await fakePrometheus((_req, res) => json(res, 200, answers.shift()));
    const provider = new PrometheusProvider({ address });
    expect(await provider.runQuery('scalar(x)', never)).toBe(3.25);
    expect(await provider.runQuery('x', never)).toBe(Infinity);
    expect(await provider.runQuery('x', never)).toBe(-Infinity);
  });

  it('no values: an empty vector is AVIARY_METRIC_NO_VALUES, whose policy is no-data', async () => {
    const address = await fakePrometheus((_req, res) => json(res, 200, vector()));
    const err = await queryError(new PrometheusProvider({ address }), 'up{job="none"}');
    expect(err.code).toBe('AVIARY_METRIC_NO_VALUES');
    expect(err.policy).toBe('no-data');
    expect(err.message).toBe('no values found for up{job="none"}');
  });

  it('NaN (0/0 without traffic) is AVIARY_METRIC_NAN, also no-data', async () => {
    const address = await fakePrometheus((_req, res) => json(res, 200, vector('NaN')));
    const err = await queryError(new PrometheusProvider({ address }));
    expect(err.code).toBe('AVIARY_METRIC_NAN');
    expect(err.policy).toBe('no-data');
    expect(err.message).toContain('value is NaN');
  });

  it('several series is a failed check naming the count and how to fix the query', async () => {
    const address = await fakePrometheus((_req, res) => json(res, 200, vector('1', '2', '3')));
    const err = await queryError(new PrometheusProvider({ address }), 'rate(x[1m])');
    expect(err.code).toBe('AVIARY_METRIC_MULTIPLE_SERIES');
    expect(err.policy).toBe('failed-check');
    expect(err.message).toBe(
      'query returned 3 series, expected 1; aggregate it (e.g. sum(...)) so it yields one number: rate(x[1m])',
    );
  });

  it("bad query: HTTP 400 is a failed check carrying Prometheus's own error text", async () => {
    const address = await fakePrometheus((_req, res) =>
      json(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error: '1:5: parse error: unexpected end of input',
      }),
    );
    const err = await queryError(new PrometheusProvider({ address }), 'sum(');
    expect(err.code).toBe('AVIARY_METRIC_QUERY_INVALID');
    expect(err.policy).toBe('failed-check');
    expect(err.message).toBe(
      `prometheus ${address}/ rejected the query (bad_data): 1:5: parse error: unexpected end of input`,
    );
  });

  it('execution errors and foreign answers are AVIARY_PROVIDER_ERROR with what came back', async () => {
    const answers: [number, string][] = [
      [422, JSON.stringify({ status: 'error', errorType: 'execution', error: 'many-to-many matching' })],
      [502, '<html>bad gateway</html>'],
      [200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })],
    ];
    const address = await fakePrometheus((_req, res) => {
      const [status, body] = answers.shift()!;
      res.writeHead(status).end(body);
    });
    const provider = new PrometheusProvider({ address });
    const execution = await queryError(provider);
    expect(execution.code).toBe('AVIARY_PROVIDER_ERROR');
    expect(execution.message).toContain('answered 422 (execution): many-to-many matching');
    expect((await queryError(provider)).message).toContain('answered 502: <html>bad gateway</html>');
    expect((await queryError(provider)).message).toContain('answered a matrix');
  });

  it('unreachable: a refused connection is a failed check saying "provider unreachable", without headers', async () => {
    const address = await fakePrometheus(() => undefined);
    await stopFake();
    const provider = new PrometheusProvider({ address, headers: { authorization: 'Bearer s3cret' } });
    const err = await queryError(provider);
    expect(err.code).toBe('AVIARY_PROVIDER_UNREACHABLE');
    expect(err.policy).toBe('failed-check');
    expect(err.message).toMatch(
      /^provider unreachable: prometheus http:\/\/127\.0\.0\.1:\d+\/ .*ECONNREFUSED/,
    );
    expect(err.message).not.toContain('s3cret');
  });

  it('a server that never answers is unreachable after the timeout', async () => {
    const address = await fakePrometheus(() => undefined);
    const err = await queryError(new PrometheusProvider({ address, timeoutMs: 100 }));
    expect(err.code).toBe('AVIARY_PROVIDER_UNREACHABLE');
    expect(err.message).toContain('timed out after 100 ms');
  });

  it('rejects with the signal reason when cancelled, never with a query error', async () => {
    const address = await fakePrometheus(() => undefined);
    const controller = new AbortController();
    const pending = new PrometheusProvider({ address }).runQuery('x', controller.signal);
    await expect.poll(() => seen.length).toBe(1);
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });
});

describe('PrometheusProvider.isOnline', () => {
  it('is true when /-/ready answers 200 and false when it answers 503', async () => {
    let ready = 503;
    const address = await fakePrometheus((_req, res) => res.writeHead(ready).end());
    const provider = new PrometheusProvider({ address });
    expect(await provider.isOnline(never)).toBe(false);
    ready = 200;
    expect(await provider.isOnline(never)).toBe(true);
    expect(seen.map((r) => r.path)).toEqual(['/-/ready', '/-/ready']);
  });

  it('falls back to vector(1) where /-/ready does not exist (a query-only proxy)', async () => {
    const address = await fakePrometheus((req, res) =>
      req.path === '/-/ready' ? res.writeHead(404).end() : json(res, 200, vector('1')),
    );
    expect(await new PrometheusProvider({ address }).isOnline(never)).toBe(true);
    expect(seen.map((r) => r.query)).toEqual([null, 'vector(1)']);
  });

  it('is false when nothing listens', async () => {
    const address = await fakePrometheus(() => undefined);
    await stopFake();
    expect(await new PrometheusProvider({ address }).isOnline(never)).toBe(false);
  });
});
