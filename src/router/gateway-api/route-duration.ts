/**
 * Milliseconds as a Gateway API `Duration` (GEP-2257,
 * https://gateway-api.sigs.k8s.io/geps/gep-2257/): one to four `<1-5 digits><h|m|s|ms>`
 * parts, such as `10s`, `1m30s` or `500ms`, which the CRD checks with
 * `^([0-9]{1,5}(h|m|s|ms)){1,4}$`.
 */
import { AviaryError } from '../../errors.js';

const UNITS = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

/** The shortest GEP-2257 duration for `ms` (rounded to whole milliseconds); `0s` for zero. */
export function durationOf(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0)
    throw new AviaryError(
      'AVIARY_ROUTER_CONFIG',
      `router "gateway-api": timeout ${ms} ms: expected a duration >= 0`,
    );
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let text = '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) text += `${count}${unit}`;
  }
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(text))
    throw new AviaryError(
      'AVIARY_ROUTER_CONFIG',
      `router "gateway-api": timeout ${ms} ms: longer than a Gateway API duration can say (99999h)`,
    );
  return text;
}
