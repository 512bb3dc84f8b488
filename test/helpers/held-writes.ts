// Raft store unit tests that hold a node's synced engine writes: node 1 of a 3-voter group over a
// MemoryEngine whose peers 2 and 3 are addresses only (the test steps their messages in by hand).
import { silentLogger } from '../../node/src/common/logger.js';
import type { EngineOp, WriteOptions } from '../../node/src/engine/engine.js';
import type { MemoryEngine } from '../../node/src/engine/memory-engine.js';
import { RaftNode, type RaftNodeOptions } from '../../node/src/raftstore/raft-node.js';

/** Node 1 of {1, 2, 3} on `engine`; it never campaigns by itself (60 s ticks) and has no start-up vote hold. */
export function openNodeOfThree(engine: MemoryEngine, extra: Partial<RaftNodeOptions> = {}): Promise<RaftNode> {
  return RaftNode.open({
    raftId: 1,
    peers: new Map([
      [1, '127.0.0.1:1'],
      [2, '127.0.0.1:2'],
      [3, '127.0.0.1:3'],
    ]),
    clientAddress: '127.0.0.1:4',
    raftAddress: '127.0.0.1:1',
    engine,
    logger: silentLogger(),
    tickMs: 60_000,
    leaseRead: false,
    ...extra,
  });
}

/**
 * Wraps `engine.write`: while held, a synced write waits before it lands; `landed` sees every write
 * once it is in the engine, in that order.
 */
export function holdSyncedWrites(engine: MemoryEngine, landed: (ops: readonly EngineOp[], opts: WriteOptions | undefined) => void): { hold: () => void; release: () => void } {
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const realWrite = engine.write.bind(engine);
  engine.write = async (ops, opts) => {
    if (opts?.sync === true && gate !== undefined) await gate;
    await realWrite(ops, opts);
    landed(ops, opts);
  };
  return {
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
}
