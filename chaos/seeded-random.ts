/**
 * The chaos runner's only source of randomness: a small seeded generator (mulberry32), so a
 * run is reproduced by its seed. Each scenario run gets its own generator derived from the
 * runner's seed, the scenario's name and the run's index, so `--only` replays the same runs.
 */

/** A seeded pseudo-random generator. Not for anything secret. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The generator of one run: seeded from the runner's seed, the scenario and the run index. */
  static forRun(seed: number, scenario: string, run: number): SeededRandom {
    return new SeededRandom(hash32(`${seed}/${scenario}/${run}`));
  }

  /** A float in [0, 1). */
  next(): number {
    // mulberry32 (Tommy Ettinger, public domain): 32-bit state, full period, good enough for scheduling faults.
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** FNV-1a of `text`, 32 bits. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
