// Raft gauges the alert rules read: voters of the configuration and this node's own voter flag.
import assert from 'node:assert/strict';
import client from 'prom-client';
import { openSingleVoter } from '../../helpers/single-voter.js';
import { registerRaftMetrics } from '../../../node/src/raftstore/metrics.js';

describe('raftstore metrics: kvs_raft_voters / kvs_raft_is_voter', function () {
  this.timeout(10_000);
  it('a single-voter group reports 1 voter, itself a voter and the leader', async () => {
    const node = await openSingleVoter();
    try {
      const registry = new client.Registry();
      registerRaftMetrics(registry, node);
      const text = await registry.metrics();
      assert.match(text, /^kvs_raft_voters\{group="1"\} 1$/m);
      assert.match(text, /^kvs_raft_is_voter\{group="1"\} 1$/m);
      assert.match(text, /^kvs_raft_is_leader\{group="1"\} 1$/m);
      assert.match(text, /^kvs_store_ranges 1$/m);
      await node.split(Buffer.from('m'));
      await node.settled();
      for (const r of node.replicas.values()) await r.peer.waitFor(() => r.peer.isLeader, 5000);
      const after = await registry.metrics();
      assert.match(after, /^kvs_store_ranges 2$/m);
      assert.match(after, /^kvs_store_range_leaders 2$/m);
    } finally {
      await node.close();
    }
  });
});
