/**
 * Admission control of the webhook receiver, decided from the connection alone, before a
 * byte of the body is read or an HMAC computed, so refusing a flood costs next to nothing.
 * Two bounds (docs/adr/0029-webhook-admission.md):
 *
 * - a token bucket per remote address (an IPv4 address, or the /64 of an IPv6 one): past it,
 *   429 with `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3). Per address, not global, so an
 *   unauthenticated flood from one place empties its own bucket, not the forge's;
 * - deliveries in flight: past `maxInFlight` in all, or past half of it from one address,
 *   503 with `Retry-After` (RFC 9110 §15.6.4). The half keeps room for the forge while one
 *   address holds its slots with slow bodies.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ErrorCode } from '../../error-catalogue.js';
import { TokenBucket } from './token-bucket.js';

/** The bounds, as `pipelines.webhooks` sets them. */
export interface AdmissionLimits {
  /** Deliveries handled at once, from every address together; one address gets half. */
  readonly maxInFlight: number;
  /** Each address's bucket: `burst` deliveries at once, `perSecond` on average. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** Milliseconds on a monotonic scale; a seam for tests. */
  readonly clock: () => number;
  /** Addresses whose buckets are kept; the least recently seen idle one is forgotten past it. Default 10,000. */
  readonly maxTrackedAddresses?: number;
}

/** A delivery let in (call `release` once it is answered) or refused with its answer. */
export type Admission =
  | { readonly admitted: true; release(): void }
  | {
      readonly admitted: false;
      readonly status: 429 | 503;
      readonly code: ErrorCode;
      readonly retryAfterSeconds: number;
      readonly message: string;
    };

interface AddressState {
  readonly bucket: TokenBucket;
  inFlight: number;
}

/** The receiver's two bounds; one instance per listener. */
export class WebhookAdmission {
  readonly #limits: AdmissionLimits;
  readonly #maxTracked: number;
  readonly #perAddressInFlight: number;
  /** In least-recently-seen order (a Map keeps insertion order; a visit re-inserts). */
  readonly #addresses = new Map<string, AddressState>();
  #inFlight = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
    this.#maxTracked = limits.maxTrackedAddresses ?? 10_000;
    this.#perAddressInFlight = Math.max(1, Math.floor(limits.maxInFlight / 2));
  }

  /** Deliveries admitted and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Lets a delivery from `remoteAddress` in, or says how to refuse it. */
  admit(remoteAddress: string | undefined): Admission {
    const key = addressKey(remoteAddress);
    const now = this.#limits.clock();
    const state = this.#visit(key, now);
    const { perSecond, burst } = this.#limits.rateLimit;
    const waitMs = state.bucket.take(now);
    if (waitMs > 0)
      return refusal(
        429,
        'AVIARY_RATE_LIMITED',
        Math.max(1, Math.ceil(waitMs / 1000)),
        `too many deliveries from ${key}: expected at most ${burst} at once and ${perSecond} a second (pipelines.webhooks.rateLimit)`,
      );
    if (this.#inFlight >= this.#limits.maxInFlight)
      return refusal(
        503,
        'AVIARY_OVERLOADED',
        1,
        `${this.#inFlight} deliveries are in flight, the most this receiver takes (pipelines.webhooks.maxInFlight)`,
      );
    if (state.inFlight >= this.#perAddressInFlight)
      return refusal(
        503,
        'AVIARY_OVERLOADED',
        1,
        `${state.inFlight} deliveries from ${key} are in flight, the most one address may hold (half of pipelines.webhooks.maxInFlight)`,
      );
    this.#inFlight += 1;
    state.inFlight += 1;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
        state.inFlight -= 1;
      },
    };
  }

  #visit(key: string, now: number): AddressState {
    let state = this.#addresses.get(key);
    if (state === undefined) {
      if (this.#addresses.size >= this.#maxTracked) this.#forgetOne(now);
      const { perSecond, burst } = this.#limits.rateLimit;
      state = { bucket: new TokenBucket(perSecond, burst, now), inFlight: 0 };
    } else this.#addresses.delete(key);
    this.#addresses.set(key, state);
    return state;
  }

  /** Forgets the least recently seen address with nothing in flight, a full bucket first (which loses nothing). */
  #forgetOne(now: number): void {
    let idle: string | undefined;
    for (const [key, state] of this.#addresses) {
      if (state.inFlight > 0) continue;
      if (state.bucket.isFull(now)) {
        this.#addresses.delete(key);
        return;
      }
      idle ??= key;
    }
    if (idle !== undefined) this.#addresses.delete(idle);
  }
}

function refusal(status: 429 | 503, code: ErrorCode, retryAfterSeconds: number, message: string): Admission {
  return {
    admitted: false,
    status,
    code,
    retryAfterSeconds,
    message: `${message}; retry in ${retryAfterSeconds} s`,
  };
}

/**
 * The address a bucket belongs to: an IPv4 address as it is (also when IPv4-mapped), and an
 * IPv6 one by its /64, the smallest block a host is usually given (RFC 6177 §2), so one host
 * cannot draw a fresh bucket for every address of its subnet.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remoteAddress)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  const address = remoteAddress.split('%', 1)[0] ?? remoteAddress;
  if (!isIPv6(address)) return remoteAddress;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const split = (part: string): string[] =>
    part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const [head = '', tail] = address.split('::');
  const left = split(head);
  const right = tail === undefined ? [] : split(tail);
  const middle = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...middle, ...right].map((group) => parseInt(group, 16).toString(16));
}
