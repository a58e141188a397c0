/**
 * The soak's steady load on the router, on loopback: a fixed rate of keep-alive GETs, three
 * of four to catalogdetail and one to the frontend (which calls catalogdetail through the
 * router again), as the demo sends them. Open loop: a request falls due whether or not the
 * earlier ones have answered; past `maxInFlight` it is counted as not sent, never queued.
 * No retries: every failure the router gives is counted, and attributed by request-outcome.ts.
 */
import { Agent, request } from 'undici';
import { catalogOutcome, frontendOutcome, type Answer, type Outcome } from './request-outcome.js';

/** Options of a {@link LoadGenerator}. */
export interface LoadOptions {
  /** The router's URL, e.g. `http://127.0.0.1:8080`. */
  readonly routerUrl: string;
  readonly ratePerSecond: number;
  /** Whether catalogdetail `VERSION` was released faulty. */
  readonly isFaulty: (version: string) => boolean;
  /** Default 256. */
  readonly maxInFlight?: number;
  /** Longest wait for a whole answer; default 30 s (twice the demo route's timeout). */
  readonly timeoutMs?: number;
}

/** Counts of what the load saw; sent = ok + app + aviary once every answer is in. */
export interface LoadCounts {
  sent: number;
  ok: number;
  /** Failures a faulty release made. */
  app: number;
  /** Failures Aviary made, or that the soak cannot explain. */
  aviary: number;
  /** Not sent: `maxInFlight` requests were already waiting. */
  skipped: number;
  /** Aviary's failures by reason. */
  aviaryReasons: Record<string, number>;
  /** The first few of Aviary's failures, for a report to show. */
  aviaryExamples: { at: string; path: string; reason: string }[];
}

const EXAMPLES_KEPT = 10;

/** Sends the soak's load until {@link LoadGenerator.stop}. */
export class LoadGenerator {
  readonly counts: LoadCounts = {
    sent: 0,
    ok: 0,
    app: 0,
    aviary: 0,
    skipped: 0,
    aviaryReasons: {},
    aviaryExamples: [],
  };
  readonly #agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #next = 0;

  constructor(private readonly options: LoadOptions) {}

  /** Starts sending: every 20 ms, the requests that fell due. */
  start(): void {
    const perTick = this.options.ratePerSecond / 50;
    let due = 0;
    this.#timer = setInterval(() => {
      due += perTick;
      for (; due >= 1; due -= 1) this.#send();
    }, 20);
  }

  /** Stops sending and resolves once every request sent has its outcome. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#inFlight);
    await this.#agent.close();
  }

  #send(): void {
    if (this.#inFlight.size >= (this.options.maxInFlight ?? 256)) {
      this.counts.skipped++;
      return;
    }
    const frontend = this.#next++ % 4 === 3;
    const path = frontend ? '/' : '/catalogDetail/';
    this.counts.sent++;
    const done = this.#answer(path).then((answer) => {
      this.#count(path, frontend ? frontendOutcome(answer) : catalogOutcome(answer, this.options.isFaulty));
    });
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  async #answer(path: string): Promise<Answer> {
    const timeout = this.options.timeoutMs ?? 30_000;
    try {
      const res = await request(`${this.options.routerUrl}${path}`, {
        dispatcher: this.#agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const contentType = String(res.headers['content-type'] ?? '');
      return { status: res.statusCode, contentType, body: await res.body.text() };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { error: typeof code === 'string' ? code : String(error) };
    }
  }

  #count(path: string, outcome: Outcome): void {
    const c = this.counts;
    if (outcome.kind !== 'aviary') {
      c[outcome.kind]++;
      return;
    }
    c.aviary++;
    c.aviaryReasons[outcome.reason] = (c.aviaryReasons[outcome.reason] ?? 0) + 1;
    if (c.aviaryExamples.length < EXAMPLES_KEPT)
      c.aviaryExamples.push({ at: new Date().toISOString(), path, reason: outcome.reason });
  }
}
