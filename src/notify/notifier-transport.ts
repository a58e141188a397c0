/**
 * How every notifier sends: one JSON POST with a timeout, a retry or two and cancellation,
 * any 2xx is success. The provider address is a secret, so messages show only its origin.
 */
import { displayUrl, postJson } from '../http/post-json.js';
import type {
  AlertEvent,
  AlertProviderConfig,
  Notifier,
  NotifierOptions,
  NotifyResult,
} from './alert-types.js';
import { AviaryError } from '../errors.js';

/** Per-attempt timeout of a notification: 10 s. */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
/** Retries of a notification after a transient failure: 2. */
export const DEFAULT_NOTIFY_RETRIES = 2;

/**
 * Checks a provider's address is an http(s) URL. The message never repeats the address.
 * @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID`.
 */
export function checkAddress(kind: string, provider: AlertProviderConfig): void {
  if (!/^https?:\/\/[^/]/i.test(provider.address) || !URL.canParse(provider.address)) {
    throw new AviaryError(
      'AVIARY_ALERT_PROVIDER_INVALID',
      `alert provider ${kind}: address must be an http(s) URL (value not shown: it is a secret)`,
    );
  }
}

/** Sentences for the config fields Aviary accepts but does not act on. */
export function ignoredFieldWarnings(provider: AlertProviderConfig): string[] {
  const warnings: string[] = [];
  if (provider.proxy !== undefined) warnings.push('proxy is not supported and is ignored');
  if (provider.secretRef !== undefined) {
    warnings.push(`secretRef ${provider.secretRef.name} is not resolved; the address field is used`);
  }
  return warnings;
}

/** POSTs a provider payload with the notifier defaults. */
export function sendNotification(
  kind: string,
  address: string,
  payload: unknown,
  options: NotifierOptions,
  signal: AbortSignal | undefined,
): Promise<NotifyResult> {
  return postJson(address, payload, {
    timeoutMs: options.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_NOTIFY_RETRIES,
    label: `${kind} notifier POST ${displayUrl(address, true)}`,
    isSuccess: (status) => status >= 200 && status < 300,
    signal,
    backoffMs: options.backoffMs,
  });
}

/** Turns an alert into a provider's JSON body; `timestampMs` is the alert's time. */
export type PayloadBuilder = (alert: AlertEvent, timestampMs: number) => unknown;

/**
 * A {@link Notifier} that differs from the others only in its JSON body. Every provider file
 * makes its factory with {@link payloadNotifier} and its own body builder.
 */
export class PayloadNotifier implements Notifier {
  readonly kind: string;
  readonly warnings: readonly string[];
  readonly #address: string;
  readonly #options: NotifierOptions;
  readonly #build: PayloadBuilder;

  /** @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` when the address is not an http(s) URL. */
  constructor(kind: string, provider: AlertProviderConfig, options: NotifierOptions, build: PayloadBuilder) {
    checkAddress(kind, provider);
    this.kind = kind;
    this.warnings = ignoredFieldWarnings(provider);
    this.#address = provider.address;
    this.#options = options;
    this.#build = build;
  }

  post(alert: AlertEvent, signal?: AbortSignal): Promise<NotifyResult> {
    const timestamp = alert.timestamp ?? (this.#options.now ?? Date.now)();
    return sendNotification(this.kind, this.#address, this.#build(alert, timestamp), this.#options, signal);
  }
}

/** A {@link PayloadBuilder} that also reads the provider's settings (`channel`, `username`). */
export type ProviderPayloadBuilder = (
  alert: AlertEvent,
  timestampMs: number,
  provider: AlertProviderConfig,
) => unknown;

/**
 * The factory of a provider type whose notifier differs from the others only in its body:
 * what the notifier registry maps the type to. The notifier it makes throws AviaryError
 * `AVIARY_ALERT_PROVIDER_INVALID` for a bad address.
 */
export function payloadNotifier(
  kind: string,
  build: ProviderPayloadBuilder,
): (provider: AlertProviderConfig, options?: NotifierOptions) => PayloadNotifier {
  return (provider, options = {}) =>
    new PayloadNotifier(kind, provider, options, (alert, timestampMs) => build(alert, timestampMs, provider));
}
