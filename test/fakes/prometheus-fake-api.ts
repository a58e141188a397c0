/**
 * For tests: a loopback HTTP server that answers like Prometheus's query API
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview), so each
 * failure class of the provider can be produced on demand. A fake of a seam Aviary owns; the
 * real Prometheus is exercised by test/prometheus/.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. */
export interface FakeApiRequest {
  readonly path: string;
  /** The `query` parameter, or null. */
  readonly query: string | null;
  readonly headers: IncomingHttpHeaders;
}

/** A running fake; close it after each test. */
export interface FakePrometheus {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly address: string;
  /** Requests received, oldest first. */
  readonly requests: FakeApiRequest[];
  /** Stops listening now (also drops requests left unanswered). */
  close(): Promise<void>;
}

/** Decides the answer to one request; may leave `res` unanswered to simulate a hung server. */
export type FakeAnswer = (request: FakeApiRequest, res: ServerResponse) => void;

/** Starts a fake on 127.0.0.1 and an ephemeral port. */
export async function startFakePrometheus(answer: FakeAnswer): Promise<FakePrometheus> {
  const requests: FakeApiRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const request = { path: url.pathname, query: url.searchParams.get('query'), headers: req.headers };
    requests.push(request);
    answer(request, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  return {
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** Writes a JSON answer. */
export function answerJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A successful instant-vector answer with one series per value (values as the API writes them). */
export function vectorAnswer(...values: string[]): unknown {
  return {
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((value, i) => ({
        metric: { series: String(i) },
        value: [1_700_000_000.123, value],
      })),
    },
  };
}
