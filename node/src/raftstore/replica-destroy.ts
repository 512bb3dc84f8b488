// Destroying a range replica that was removed from its range (a replica move), crash-safely (TiKV writes
// the peer's Tombstone state before it clears the region's data): a synced tombstone record names what
// must go — the group's Raft state, its local state (meta, sessions) and, when no other local range
// covers them, its keys — before anything is deleted, and is deleted last. A store that crashes in the
// middle finishes the destroy at its next start, before it opens any replica; without the record it
// would reopen a half-deleted group (a Raft log with holes, state without a log).
//
// Key: 0x03 | groupId (u64 BE), outside every group's own spans so the deletion never removes it early.
import type { Engine } from '../engine/engine.js';
import { txnSpan } from '../kv/txn-locks.js';
import { deleteSpan } from '../engine/engine.js';
import { dataRange, latestRange, metaSpace, sessionSpace } from '../mvcc/keyspace.js';
import { raftKeys } from './peer-storage.js';

export const TOMBSTONE_PREFIX = 0x03;
const FORMAT = 1;

export interface DestroyPlan {
  groupId: number;
  /** The user-key span whose data goes too (absent: another local range covers it, keep the keys). */
  data?: { start: Buffer; end: Buffer };
}

function tombstoneKey(g: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = TOMBSTONE_PREFIX;
  b.writeBigUInt64BE(BigInt(g), 1);
  return b;
}

function encodePlan(p: DestroyPlan): Buffer {
  if (p.data === undefined) return Buffer.from([FORMAT, 0]);
  const head = Buffer.alloc(2 + 4);
  head[0] = FORMAT;
  head[1] = 1;
  head.writeUInt32BE(p.data.start.length, 2);
  const mid = Buffer.alloc(4);
  mid.writeUInt32BE(p.data.end.length, 0);
  return Buffer.concat([head, p.data.start, mid, p.data.end]);
}

function decodePlan(groupId: number, v: Buffer): DestroyPlan {
  if (v.length < 2 || v[0] !== FORMAT) throw new Error(`unknown tombstone format for group ${groupId}`);
  if (v[1] === 0) return { groupId };
  const sl = v.readUInt32BE(2);
  const start = Buffer.from(v.subarray(6, 6 + sl));
  const el = v.readUInt32BE(6 + sl);
  const end = Buffer.from(v.subarray(10 + sl, 10 + sl + el));
  return { groupId, data: { start, end } };
}

/** The engine spans a destroy clears: Raft state first (the group is gone for groupsIn), then local state, then data. */
export function destroySpans(p: DestroyPlan): Array<{ start: Buffer; end: Buffer }> {
  const g = p.groupId;
  const spans = [raftKeys.group(g), metaSpace(g), sessionSpace(g)];
  if (p.data !== undefined) spans.push(dataRange(p.data.start, p.data.end), latestRange(p.data.start, p.data.end), txnSpan(p.data.start, p.data.end));
  return spans;
}

/**
 * Runs a destroy: tombstone (synced), every span, tombstone removed (synced). `onSpan` is a test hook
 * called after each deleted span (a crash there is what the tombstone covers).
 */
export async function destroyReplicaState(engine: Engine, p: DestroyPlan, onSpan?: (i: number) => void): Promise<void> {
  await writeTombstone(engine, p);
  const spans = destroySpans(p);
  for (let i = 0; i < spans.length; i++) {
    await deleteSpan(engine, spans[i]!.start, spans[i]!.end);
    onSpan?.(i);
  }
  await engine.write([{ type: 'del', key: tombstoneKey(p.groupId) }], { sync: true });
}

/** The first step of a destroy: the synced record of what must go. */
export async function writeTombstone(engine: Engine, p: DestroyPlan): Promise<void> {
  await engine.write([{ type: 'put', key: tombstoneKey(p.groupId), value: encodePlan(p) }], { sync: true });
}

/** Destroys interrupted by a crash (their tombstones). */
export async function pendingDestroys(engine: Engine): Promise<DestroyPlan[]> {
  const out: DestroyPlan[] = [];
  const it = engine.iterator({ gte: Buffer.from([TOMBSTONE_PREFIX]), lt: Buffer.from([TOMBSTONE_PREFIX + 1]) });
  try {
    for (;;) {
      const batch = await it.nextBatch(256);
      if (batch.length === 0) break;
      for (const [k, v] of batch) {
        const g = Number(Buffer.from(k).readBigUInt64BE(1));
        out.push(decodePlan(g, Buffer.from(v)));
      }
    }
  } finally {
    await it.close();
  }
  return out;
}

/** Finishes every interrupted destroy (at start, before any replica opens). Returns the groups finished. */
export async function finishPendingDestroys(engine: Engine): Promise<number[]> {
  const done: number[] = [];
  for (const p of await pendingDestroys(engine)) {
    await destroyReplicaState(engine, p);
    done.push(p.groupId);
  }
  return done;
}
