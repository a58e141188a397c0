/** Quoting of values written into haproxy.cfg (HAProxy 2.6 configuration manual, 2.2 "Quoting and escaping"). */

/** HAProxy's quoting: one double-quoted word, backslash escapes; a control character is refused (RangeError). */
export function quote(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\0-\x1f\x7f]/.test(value))
    throw new RangeError(`control character in HAProxy value ${JSON.stringify(value)}`);
  return `"${value.replace(/["\\$]/g, (c) => `\\${c}`)}"`;
}
