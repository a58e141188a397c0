/**
 * The fields of an app's route spec an HTTPRoute cannot carry in Gateway API v1.6's standard
 * channel: retries (GEP-1731) and session persistence (GEP-1619) are experimental there, so
 * `renderHttpRoute` leaves them out and the gateway's own behaviour applies. The router reports
 * them; none changes where a request goes, so none is refused.
 */
import type { AppRouteSpec } from '../traffic-router.js';

/** A field of an app's spec the route leaves out, and why. */
export interface IgnoredField {
  readonly path: string;
  readonly reason: string;
}

/**
 * The fields of `spec` that `renderHttpRoute` cannot represent in Gateway API v1.6's
 * standard channel, so the gateway's own defaults apply instead. None of them changes where a
 * request goes, so they are reported, not refused.
 */
export function ignoredFieldsOf(spec: AppRouteSpec): IgnoredField[] {
  const ignored: IgnoredField[] = [];
  const retries = spec.retries;
  if (retries && retries.attempts > 0)
    ignored.push({
      path: 'retries.attempts',
      reason:
        'HTTPRoute retries (GEP-1731) are in the experimental channel only; the gateway retries as it is configured to',
    });
  if (retries?.retryOn && retries.retryOn.length > 0)
    ignored.push({
      path: 'retries.retryOn',
      reason: 'HTTPRoute retries are in the experimental channel only',
    });
  const perTry = retries?.perTryTimeoutMs;
  if (perTry !== undefined && spec.timeoutMs !== undefined && perTry > spec.timeoutMs)
    ignored.push({
      path: 'retries.perTryTimeoutMs',
      reason: `${perTry} ms is longer than timeoutMs (${spec.timeoutMs} ms); Gateway API requires timeouts.backendRequest <= timeouts.request`,
    });
  if (spec.sessionAffinity)
    ignored.push({
      path: 'sessionAffinity',
      reason:
        'HTTPRoute session persistence (GEP-1619) is in the experimental channel only; requests are not pinned to a version',
    });
  return ignored;
}
