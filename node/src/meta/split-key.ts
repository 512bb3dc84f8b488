// Split key choice (stage 2, sharding). A range's leader samples its keys with their approximate sizes
// (latest record + versions) in key order; the split key is the first key at which the accumulated size
// reaches half of the total (TiKV's half/size checkers, components/raftstore/src/coprocessor/split_check/).
// Keys here are USER keys: every MVCC version of a key has the same user key, so a key's versions can
// never straddle two ranges (TiKV strips the ts suffix in SplitObserver for the same reason).
// Pure: the I/O (iterating the engine) stays with the caller.

export interface KeySample {
  key: Buffer;
  /** Bytes attributed to this key (its versions); ≥ 0. */
  bytes: number;
}

export interface SplitChoice {
  key: Buffer;
  /** Bytes left of the split key (the left half's approximate size). */
  leftBytes: number;
  totalBytes: number;
}

/**
 * The split key for samples of a range [start, end) in ascending key order, or undefined when no key
 * makes a useful split (fewer than two distinct keys, or everything on the first key). The key returned
 * is strictly above `start` (a split at the range start would leave an empty left half).
 */
export function chooseSplitKey(samples: readonly KeySample[], start: Buffer): SplitChoice | undefined {
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (!(s.bytes >= 0)) throw new RangeError(`sample ${i}: bytes must be >= 0`);
    if (i > 0 && Buffer.compare(samples[i - 1]!.key, s.key) >= 0) throw new RangeError(`samples must be in strictly ascending key order (at ${i})`);
    total += s.bytes;
  }
  if (samples.length < 2 || total === 0) return undefined;
  // The boundary (split before sample i, i ≥ 1) with the most even halves; the first one on ties.
  let best: SplitChoice | undefined;
  let bestDiff = Infinity;
  let left = samples[0]!.bytes;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    const diff = Math.abs(total - 2 * left);
    if (left > 0 && Buffer.compare(s.key, start) > 0 && diff < bestDiff) {
      best = { key: s.key, leftBytes: left, totalBytes: total };
      bestDiff = diff;
    }
    left += s.bytes;
  }
  return best;
}
