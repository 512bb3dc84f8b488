// A leader's own read under its lease (Peer.readBarrier → Raft.localLeaseReadIndex): confirmed in place,
// without a ReadIndex round, and served only once the apply stage reached the commit index it was given.
import assert from 'node:assert/strict';
import { silentLogger } from '../../../node/src/common/logger.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { RaftNode } from '../../../node/src/raftstore/raft-node.js';

async function openSingle(leaseRead: boolean): Promise<RaftNode> {
  const node = await RaftNode.open({
    raftId: 1,
    peers: new Map([[1, '127.0.0.1:1']]),
    clientAddress: '127.0.0.1:2',
    raftAddress: '127.0.0.1:1',
    engine: new MemoryEngine(),
    logger: silentLogger(),
    tickMs: 10,
    leaseRead,
  });
  assert.ok(await node.peer.waitFor(() => node.peer.isLeader, 5000), 'single voter elects itself');
  return node;
}

/** Holds every StateMachine.apply until `release()`. */
function gateApplies(node: RaftNode): { release: () => void } {
  const sm = node.peer.sm;
  const orig = sm.apply.bind(sm);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  sm.apply = async (cmds, opts) => {
    await gate;
    return orig(cmds, opts);
  };
  return { release: () => open() };
}

const settled = async (p: Promise<unknown>, ms: number): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, ms));
  return done;
};

describe('raftstore: local lease reads on the leader', function () {
  this.timeout(20_000);

  it('are confirmed without a ReadIndex round and wait for the apply of what was committed', async () => {
    const node = await openSingle(true);
    try {
      await node.kvStore.put(Buffer.from('k'), Buffer.from('v0'));
      const rounds = node.peer.stats.readIndexRounds;
      const lease = node.peer.rn.raft.leaseReadCount;
      await node.peer.readBarrier();
      assert.equal(node.peer.stats.readIndexRounds, rounds, 'no ReadIndex round');
      assert.equal(node.peer.rn.raft.leaseReadCount, lease + 1, 'counted as a lease read');

      const gate = gateApplies(node);
      const put = node.kvStore.put(Buffer.from('k'), Buffer.from('v1'));
      assert.ok(await node.peer.waitFor(() => node.peer.status().commit > node.peer.appliedIndex, 5000), 'the put is committed, its apply held');
      const committed = node.peer.status().commit;
      const read = node.peer.readBarrier();
      assert.equal(await settled(read, 100), false, 'the read waits while the committed put is not applied');
      gate.release();
      await read;
      assert.ok(node.peer.appliedIndex >= committed, 'served once applied through the commit index it was given');
      await put;
      assert.equal((await node.kvStore.get(Buffer.from('k'))).value?.toString(), 'v1');
      assert.equal(node.peer.stats.readIndexRounds, rounds, 'still no round');
    } finally {
      await node.close();
    }
  });

  it('a quiesced leader holding its lease serves in place and stays asleep', async () => {
    const node = await openSingle(true);
    try {
      await node.kvStore.put(Buffer.from('k'), Buffer.from('v'));
      assert.ok(await node.peer.waitFor(() => node.peer.quiesced, 5000), 'the idle range quiesces');
      const rounds = node.peer.stats.readIndexRounds;
      const wakes = node.peer.stats.wakes;
      const lease = node.peer.rn.raft.leaseReadCount;
      for (let i = 0; i < 3; i++) assert.equal((await node.kvStore.get(Buffer.from('k'))).value?.toString(), 'v');
      assert.equal(node.peer.stats.readIndexRounds, rounds, 'no ReadIndex round');
      assert.equal(node.peer.stats.wakes, wakes, 'not woken by the reads');
      assert.ok(node.peer.quiesced, 'still quiesced');
      assert.equal(node.peer.rn.raft.leaseReadCount, lease + 3, 'three lease reads');
    } finally {
      await node.close();
    }
  });

  it('control: with --lease-read=false every read batch takes a ReadIndex round', async () => {
    const node = await openSingle(false);
    try {
      const rounds = node.peer.stats.readIndexRounds;
      await node.peer.readBarrier();
      await node.peer.readBarrier();
      assert.equal(node.peer.stats.readIndexRounds, rounds + 2);
    } finally {
      await node.close();
    }
  });
});
