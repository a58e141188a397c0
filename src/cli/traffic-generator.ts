/**
 * A built-in load generator, as Flagger's load tester provides for its demos: steady
 * keep-alive traffic at a fixed rate against URLs on loopback, until stopped. Outcomes are
 * counted so the demo can show what users saw.
 */
import { Agent, request } from 'undici';

/** Options of a {@link TrafficGenerator}. */
export interface TrafficOptions {
  /** URLs to cycle through. */
  readonly urls: readonly string[];
  /** Requests per second across all URLs. */
  readonly ratePerSecond: number;
  /** Requests allowed in flight; more are skipped (and counted) rather than queued. Default 64. */
  readonly maxInFlight?: number;
}

/** Counts of what the generated traffic saw. */
export interface TrafficCounts {
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  /** Requests sent, by URL path. */
  byPath: Record<string, number>;
  /** Answers by the `version` field of a JSON body, when present. */
  byVersion: Record<string, number>;
}

/**
 * One line on what the traffic saw, whose numbers add up: the requests by path, how many
 * answered (ok or a 5xx) and failed, and the answers that named their version.
 */
export function trafficSummary(c: TrafficCounts): string {
  const paths = Object.entries(c.byPath)
    .map(([path, n]) => `${n} to ${path}`)
    .join(', ');
  const versioned = Object.values(c.byVersion).reduce((sum, n) => sum + n, 0);
  const skipped = c.skipped > 0 ? `; ${c.skipped} not sent (too many in flight)` : '';
  return `Traffic: ${c.sent} requests (${paths}): ${c.ok} ok, ${c.failed} failed${skipped}; ${versioned} answers named their version: ${JSON.stringify(c.byVersion)}`;
}

/** Sends steady traffic until {@link TrafficGenerator.stop}. */
export class TrafficGenerator {
  readonly counts: TrafficCounts = { sent: 0, ok: 0, failed: 0, skipped: 0, byPath: {}, byVersion: {} };
  private readonly agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private next = 0;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: TrafficOptions) {}

  /** Starts sending; ticks every 50 ms with the share of requests due. */
  start(): void {
    const perTick = this.options.ratePerSecond / 20;
    let debt = 0;
    this.timer = setInterval(() => {
      debt += perTick;
      while (debt >= 1) {
        debt -= 1;
        this.fire();
      }
    }, 50);
    this.timer.unref();
  }

  private fire(): void {
    if (this.inFlight >= (this.options.maxInFlight ?? 64)) {
      this.counts.skipped++;
      return;
    }
    const url = this.options.urls[this.next++ % this.options.urls.length]!;
    this.inFlight++;
    this.counts.sent++;
    const path = new URL(url).pathname;
    this.counts.byPath[path] = (this.counts.byPath[path] ?? 0) + 1;
    request(url, { dispatcher: this.agent, headersTimeout: 10_000, bodyTimeout: 10_000 })
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode < 500) this.counts.ok++;
        else this.counts.failed++;
        const version = /"version":"([^"]+)"/.exec(text)?.[1];
        if (version !== undefined) this.counts.byVersion[version] = (this.counts.byVersion[version] ?? 0) + 1;
      })
      .catch(() => {
        this.counts.failed++;
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  /** Stops sending; resolves once the requests in flight have answered and connections are closed. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped ??= this.agent.close();
    return this.stopped;
  }
}
