/**
 * Seeded randomness and binomial tail figures for the analysis tests' simulations. Not used
 * by the judge itself; kept beside the tests that need it so every simulation is reproducible.
 */

/** mulberry32: a small seeded generator of uniforms on [0, 1). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson draw by inversion (exact; fine for the means these tests use, up to a few hundred). */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random();
  while (u > cumulative && k < 10 * mean + 100) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

/** Binomial draw as a sum of Bernoulli trials. */
export function binomialDraw(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

/** Standard normal draw (Box–Muller). */
export function normalDraw(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Smallest k with P(Binomial(n, p) ≤ k) ≥ q: the tolerance for a count of false alarms. */
export function binomialQuantile(n: number, p: number, q: number): number {
  let term = Math.pow(1 - p, n);
  let cumulative = term;
  let k = 0;
  while (cumulative < q && k < n) {
    k++;
    term *= ((n - k + 1) / k) * (p / (1 - p));
    cumulative += term;
  }
  return k;
}
