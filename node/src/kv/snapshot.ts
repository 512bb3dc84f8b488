// State transfer helpers for replication (Raft snapshots): the replicated state of a group is its data
// versions (optionally limited to the group's user-key range), its session table and its meta record.
// Export reads one consistent engine snapshot; import replaces the group's state. After an import the
// host must reopen the group's StateMachine (StateMachine.open) to reload meta and sessions.
//
// Import is not atomic across batches: a host must record "snapshot being applied" in its own durable
// state and redo the import after a crash before serving.
import { deleteSpan, type Engine, type EngineEntry, type EngineOp } from '../engine/engine.js';
import { dataRange, latestRange, metaKey, sessionSpace } from '../mvcc/keyspace.js';
import { metaStateSpans } from './meta-state.js';
import { txnSpan } from './txn-locks.js';

export interface KeySpan {
  start: Buffer;
  end: Buffer;
}

/** Engine key spans holding the replicated state of a group. */
export function stateSpans(groupId: number, userRange: { start?: Buffer; end?: Buffer } = {}): KeySpan[] {
  const data = dataRange(userRange.start, userRange.end);
  const one = (k: Buffer): KeySpan => ({ start: k, end: Buffer.concat([k, Buffer.from([0])]) });
  return [data, latestRange(userRange.start, userRange.end), sessionSpace(groupId), one(metaKey(groupId, 'applied')), one(metaKey(groupId, 'settings')), one(metaKey(groupId, 'descriptor')), ...metaStateSpans(groupId), txnSpan(userRange.start, userRange.end), one(metaKey(groupId, 'rangelocks'))];
}

/** Streams the group's state in batches, from one consistent engine snapshot. */
export async function* exportState(engine: Engine, groupId: number, opts: { userRange?: { start?: Buffer; end?: Buffer }; batchSize?: number } = {}): AsyncGenerator<EngineEntry[]> {
  const snapshot = engine.snapshot();
  try {
    for (const span of stateSpans(groupId, opts.userRange)) {
      const it = engine.iterator({ gte: span.start, lt: span.end, snapshot });
      try {
        for (;;) {
          const batch = await it.nextBatch(opts.batchSize ?? 1024);
          if (batch.length === 0) break;
          yield batch;
        }
      } finally {
        await it.close();
      }
    }
  } finally {
    await snapshot.release();
  }
}

/** Deletes the group's state, then writes the given entries (which must lie in the group's spans). */
export async function importState(engine: Engine, groupId: number, batches: AsyncIterable<EngineEntry[]> | Iterable<EngineEntry[]>, opts: { userRange?: { start?: Buffer; end?: Buffer }; sync?: boolean } = {}): Promise<number> {
  const spans = stateSpans(groupId, opts.userRange);
  for (const span of spans) await deleteSpan(engine, span.start, span.end);
  const inSpans = (k: Buffer): boolean => spans.some((s) => Buffer.compare(k, s.start) >= 0 && Buffer.compare(k, s.end) < 0);
  let n = 0;
  for await (const batch of batches) {
    const ops: EngineOp[] = [];
    for (const [key, value] of batch) {
      if (!inSpans(key)) throw new Error('snapshot entry outside the group state');
      ops.push({ type: 'put', key, value });
    }
    await engine.write(ops);
    n += ops.length;
  }
  // A synced no-op delete flushes the write-ahead log (and with it every write above).
  if (opts.sync !== false) await engine.write([{ type: 'del', key: spans[3]!.end }], { sync: true });
  return n;
}
