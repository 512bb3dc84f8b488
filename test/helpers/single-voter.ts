// A single-voter RaftNode over a memory engine (or the given one), leader once returned: the in-process
// replicated store that unit tests of the raftstore, ranges and metrics share.
import { silentLogger } from '../../node/src/common/logger.js';
import type { Engine } from '../../node/src/engine/engine.js';
import { MemoryEngine } from '../../node/src/engine/memory-engine.js';
import { RaftNode, type RaftNodeOptions } from '../../node/src/raftstore/raft-node.js';

export async function openSingleVoter(opts: Partial<Omit<RaftNodeOptions, 'store'>> & { engine?: Engine; store?: RaftNodeOptions['store']; awaitLeaders?: boolean } = {}): Promise<RaftNode> {
  const { awaitLeaders = true, ...rest } = opts;
  const node = await RaftNode.open({
    raftId: 1,
    peers: new Map([[1, '127.0.0.1:1']]),
    clientAddress: '127.0.0.1:2',
    raftAddress: '127.0.0.1:1',
    logger: silentLogger(),
    tickMs: 20,
    ...rest,
    engine: opts.engine ?? new MemoryEngine(),
    store: { nodeId: 'single-voter', logger: silentLogger(), gcIntervalMs: 0, ...opts.store },
  });
  if (awaitLeaders) for (const r of node.replicas.values()) await r.peer.waitFor(() => r.peer.isLeader, 5000);
  return node;
}
