/**
 * Which alerts an `alerts[]` entry receives, by Flagger's rule (pkg/controller/events.go):
 * `info` receives everything, `warn` receives warn and error, `error` receives error only.
 */
import { ALERT_SEVERITIES, type AlertSeverity } from './alert-types.js';

/** True when an alert subscribed at `subscribed` should receive an alert of `severity`. */
export function receivesSeverity(subscribed: AlertSeverity, severity: AlertSeverity): boolean {
  return ALERT_SEVERITIES.indexOf(severity) >= ALERT_SEVERITIES.indexOf(subscribed);
}
