/**
 * What changed between two JSON documents, as the state journal writes it (ADR 0010): the
 * paths into nested objects whose value changed, each with its new value, and the paths
 * that went away. A rollout tick changes a few fields of a ~1 kB state document (weight,
 * iterations, times, the last check values), so its journal line carries those instead of
 * the whole document again.
 *
 * Values are compared as JSON sees them: a key holding `undefined` is an absent key, key
 * order does not matter, arrays are compared and replaced whole.
 */

/** A change: `[path, value]` sets the value at `path`; `[path]` deletes the key at `path`. */
export type JsonChange = readonly [path: readonly string[], value?: unknown];

/** Whether `value` is a JSON object (not an array, not null): what a delta can reach into. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `a` and `b` serialise to the same JSON, up to key order. Allocates nothing. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // JSON writes NaN as null; a NaN that stays NaN is no change.
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    // In an array JSON writes undefined as null.
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let present = 0;
  for (const key in left) {
    if (!Object.hasOwn(left, key) || left[key] === undefined) continue;
    present++;
    if (!Object.hasOwn(right, key) || !jsonEqual(left[key], right[key])) return false;
  }
  for (const key in right) if (Object.hasOwn(right, key) && right[key] !== undefined) present--;
  return present === 0;
}

/**
 * The changes that turn `from` into `to`, both plain objects; nested plain objects are
 * compared key by key, anything else is replaced whole.
 */
export function jsonDelta(from: Record<string, unknown>, to: Record<string, unknown>): JsonChange[] {
  const changes: JsonChange[] = [];
  collect(from, to, [], changes);
  return changes;
}

/** `path` is one stack shared by the whole walk; a change gets its own copy. */
function collect(
  from: Record<string, unknown>,
  to: Record<string, unknown>,
  path: string[],
  changes: JsonChange[],
): void {
  for (const key in from) {
    if (
      Object.hasOwn(from, key) &&
      from[key] !== undefined &&
      (!Object.hasOwn(to, key) || to[key] === undefined)
    )
      changes.push([[...path, key]]);
  }
  for (const key in to) {
    if (!Object.hasOwn(to, key)) continue;
    const after = to[key];
    const before = Object.hasOwn(from, key) ? from[key] : undefined;
    // The same object again is unchanged: saved documents are never edited (see StateJournal.save).
    if (after === undefined || before === after) continue;
    if (isJsonObject(before) && isJsonObject(after)) {
      path.push(key);
      collect(before, after, path, changes);
      path.pop();
    } else if (!jsonEqual(before, after)) changes.push([[...path, key], after]);
  }
}

/**
 * Applies `changes` to `target` in place (a document parsed from JSON, owned by the caller).
 * @throws Error naming the path when it leads through something that is not an object,
 * which only a journal line written against another document can do.
 */
export function applyJsonDelta(target: Record<string, unknown>, changes: readonly JsonChange[]): void {
  for (const change of changes) {
    const [path] = change;
    let node: Record<string, unknown> = target;
    for (const key of path.slice(0, -1)) {
      // Own keys only: a key such as "__proto__" (an env var name, say) is data, never a way out.
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (!isJsonObject(next)) throw new Error(`change at ${path.join('.')}: ${key} is not an object`);
      node = next;
    }
    const last = path.at(-1);
    if (last === undefined) throw new Error('change with an empty path');
    if (change.length === 1) delete node[last];
    else
      Object.defineProperty(node, last, {
        value: change[1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
}

/** Whether `value` has the shape of a list of {@link JsonChange}s. */
export function isJsonDelta(value: unknown): value is JsonChange[] {
  return (
    Array.isArray(value) &&
    value.every(
      (change) =>
        Array.isArray(change) &&
        (change.length === 1 || change.length === 2) &&
        Array.isArray(change[0]) &&
        change[0].length > 0 &&
        (change[0] as unknown[]).every((key) => typeof key === 'string'),
    )
  );
}
