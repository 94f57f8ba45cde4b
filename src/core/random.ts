/**
 * A seeded source of uniform numbers in [0, 1): the same seed always gives the same sequence.
 * mulberry32: 32 bits of state, fast, and evenly spread — enough for simulated loss, never for secrets.
 * The seed is used modulo 2^32.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
