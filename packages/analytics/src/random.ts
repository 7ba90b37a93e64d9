// Seeded randomness for simulated data (demo accounts, tests, benchmarks): the same seed, the same data.

/** A small, fast, seeded generator (mulberry32), so simulated data is the same every time. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator with the uniform, standard-normal and coin-flip draws simulated data needs. */
export function prng(seed: number) {
  const uniform = seededRandom(seed);
  /** Normal by Box–Muller. */
  const normal = (mean = 0, sd = 1) =>
    mean + sd * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal, chance: (p: number) => uniform() < p };
}
