// Key choosers in the style of YCSB: uniform, and scrambled zipfian (theta 0.99, hot keys spread
// over the key space by an FNV hash), driven by a seeded PRNG so runs are repeatable.

/** mulberry32: small, fast, seeded. */
export { mulberry32 as prng } from '../../node/src/common/prng.js';

export interface KeyChooser {
  /** Index in [0, n). */
  next(): number;
}

export function uniform(n: number, rand: () => number): KeyChooser {
  return { next: () => Math.floor(rand() * n) };
}

/** YCSB ZipfianGenerator (Gray et al., "Quickly generating billion-record synthetic databases"). */
export function zipfian(n: number, rand: () => number, theta = 0.99): KeyChooser {
  let zetan = 0;
  for (let i = 1; i <= n; i++) zetan += 1 / Math.pow(i, theta);
  const zeta2 = 1 + 1 / Math.pow(2, theta);
  const alpha = 1 / (1 - theta);
  const eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
  return {
    next: () => {
      const u = rand();
      const uz = u * zetan;
      if (uz < 1) return 0;
      if (uz < 1 + Math.pow(0.5, theta)) return 1;
      return Math.min(n - 1, Math.floor(n * Math.pow(eta * u - eta + 1, alpha)));
    },
  };
}

/** FNV-1a 64 reduced to a double-safe index; spreads zipfian's hot items over the key space. */
function fnv(i: number): number {
  let h = 0xcbf29ce484222325n;
  let x = BigInt(i);
  for (let b = 0; b < 8; b++) {
    h ^= x & 0xffn;
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    x >>= 8n;
  }
  return Number(h % 9007199254740881n);
}

export function scrambledZipfian(n: number, rand: () => number): KeyChooser {
  const z = zipfian(n, rand);
  return { next: () => fnv(z.next()) % n };
}

export function keyName(i: number): string {
  return `user${String(i).padStart(10, '0')}`;
}

export function chooser(dist: 'zipfian' | 'uniform', n: number, rand: () => number): KeyChooser {
  return dist === 'zipfian' ? scrambledZipfian(n, rand) : uniform(n, rand);
}

/** A value of `size` printable bytes (cheap to generate, not compressible to nothing). */
export function makeValue(size: number, rand: () => number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 33 + Math.floor(rand() * 94);
  return b;
}
