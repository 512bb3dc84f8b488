// Raft gauges the alert rules read: voters of the configuration and this node's own voter flag.
import assert from 'node:assert/strict';
import client from 'prom-client';
import { silentLogger } from '../../../node/src/common/logger.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { registerRaftMetrics } from '../../../node/src/raftstore/metrics.js';

describe('raftstore metrics: kvs_raft_voters / kvs_raft_is_voter', function () {
  this.timeout(10_000);
  it('a single-voter group reports 1 voter, itself a voter and the leader', async () => {
    const node = await RaftNode.open({
      raftId: 1,
      peers: new Map([[1, '127.0.0.1:1']]),
      clientAddress: '127.0.0.1:2',
      raftAddress: '127.0.0.1:1',
      engine: new MemoryEngine(),
      logger: silentLogger(),
      tickMs: 20,
      store: { nodeId: 'metrics-test', logger: silentLogger() },
    });
    try {
      await node.peer.waitFor(() => node.peer.isLeader, 5000);
      const registry = new client.Registry();
      registerRaftMetrics(registry, node);
      const text = await registry.metrics();
      assert.match(text, /^kvs_raft_voters\{group="1"\} 1$/m);
      assert.match(text, /^kvs_raft_is_voter\{group="1"\} 1$/m);
      assert.match(text, /^kvs_raft_is_leader\{group="1"\} 1$/m);
    } finally {
      await node.close();
    }
  });
});
