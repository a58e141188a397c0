/**
 * Times as the CLI shows them: event times in local time (the operator's clock, like `kubectl
 * get events`), and ages such as `12s ago` for the last event of an app.
 */

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2025-11-25 13:41:02` in local time. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${formatClock(ms)}`;
}

/** `13:41:02` in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `5s`, `3m`, `2h`, `4d` between `thenMs` and `nowMs` (never negative). */
export function formatAge(thenMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
