/**
 * The judge always holds its data as a primary/canary pair (totals, evidence blocks, latency
 * counts). A window is added to both sides by one function, so the two sides cannot drift
 * apart in how they are updated.
 */

/** One value per version. */
export interface VersionPair<T> {
  readonly primary: T;
  readonly canary: T;
}

/** `state` with each version's side combined with the window's by `add`; other fields kept. */
export function addToEachVersion<T, W, S extends VersionPair<T>>(
  state: S,
  window: VersionPair<W>,
  add: (side: T, increment: W) => T,
): S {
  return { ...state, primary: add(state.primary, window.primary), canary: add(state.canary, window.canary) };
}
