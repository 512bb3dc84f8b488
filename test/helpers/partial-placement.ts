// Shared set-up of the partial-placement tests (a store without a replica of some range): three ranges
// [start, g), [g, p), [p, end) and one store giving up its replica of the middle one.
import type { AdminClient } from '../../node/src/client/index.js';
import { removeReplica } from '../../node/src/client/range-moves.js';
import { until } from './cluster-process.js';

/** Splits at 'g' and 'p'; returns the middle range's id. */
export async function splitThree(admin: AdminClient): Promise<number> {
  let middle = 0;
  for (const k of ['g', 'p']) {
    const out = await until(`split at ${k}`, async () => admin.splitRange(Buffer.from(k)).catch(() => undefined));
    if (k === 'g') middle = Number(out.right.rangeId);
  }
  return middle;
}

/** Removes store `storeId`'s replica of `rangeId` and waits until that store (at `address`) no longer lists it. */
export async function dropReplica(admin: AdminClient, rangeId: number, storeId: number, address: string): Promise<void> {
  await removeReplica(admin, rangeId, storeId, { timeoutMs: 60_000 });
  await until(
    `store ${storeId} no longer holds range ${rangeId}`,
    async () => ((await admin.ranges(address)).ranges.every((x) => Number(x.rangeId) !== rangeId) ? true : undefined),
    60_000,
  );
}
