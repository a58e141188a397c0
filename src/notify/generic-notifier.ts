/**
 * A generic JSON webhook for anything that is not a chat tool (an incident system, a
 * pipeline, a script): `{app, severity, message, fields, timestamp}` with stable field names.
 */
import type { AlertEvent } from './alert-types.js';
import { payloadNotifier } from './notifier-transport.js';

/** The body a `webhook` provider receives. */
export interface GenericAlertPayload {
  readonly app: { readonly name: string; readonly namespace: string };
  readonly severity: AlertEvent['severity'];
  readonly message: string;
  readonly fields: readonly { readonly name: string; readonly value: string }[];
  /** ISO 8601 time of the alert. */
  readonly timestamp: string;
}

/** The generic body for `alert`. */
export function genericPayload(alert: AlertEvent, timestampMs: number): GenericAlertPayload {
  return {
    app: { name: alert.app.name, namespace: alert.app.namespace },
    severity: alert.severity,
    message: alert.message,
    fields: alert.fields.map((field) => ({ name: field.name, value: field.value })),
    timestamp: new Date(timestampMs).toISOString(),
  };
}

/** A generic JSON webhook notifier. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address. */
export const createGenericNotifier = payloadNotifier('webhook', genericPayload);
