// mulberry32: a tiny, fast, seeded PRNG (uniform in [0, 1)). Pure — the Raft core uses it for election
// jitter when no rand is injected; tests, the nemesis schedule and the benchmark use it so a seed
// replays a run exactly.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
