// Ids for transactions, Batches and DeleteRanges: `tag` + 12 random bytes in hex. A transaction's id is
// also its handle (Rollback and Commit name it), so it stays unguessable: the bytes come from the CSPRNG,
// drawn 4 KiB at a time (as crypto.randomUUID caches its entropy) — one call per id was ~1 % of a
// coordinator's CPU under cross-range transactions (docs/benchmarks.md 2026-12-07 20:40).
import { randomFillSync } from 'node:crypto';

const ID_BYTES = 12;
const pool = Buffer.alloc(ID_BYTES * 341);
let next = pool.length;

/** A new id: `tag` followed by 24 hex characters of fresh random bytes. */
export function uniqueId(tag: string): string {
  if (next + ID_BYTES > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const id = pool.toString('hex', next, next + ID_BYTES);
  next += ID_BYTES;
  return tag + id;
}
