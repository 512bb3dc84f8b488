// The Ready loop's pipelined apply stage (peer.ts): committed entries are applied by a FIFO worker while
// the loop persists the next Ready. What must hold: apply order = log order (also around conf changes,
// which apply synchronously before advance, and snapshots, which drain the stage first), every proposal
// resolved exactly once with its own result, readiness of the group, and a crash after the log write
// but before the (unsynced) apply write recovers by re-applying.
import assert from 'node:assert/strict';
import { silentLogger } from '../../../node/src/common/logger.js';
import type { Engine } from '../../../node/src/engine/engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { exportState, importState } from '../../../node/src/kv/snapshot.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { tsFromMs } from '../../../node/src/kv/clock.js';
import { ConfChangeType, decodeHardState, encodeHardState } from '../../../node/src/raft/index.js';
import { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { raftKeys, type PeerStorage } from '../../../node/src/raftstore/peer-storage.js';

async function openSingle(engine: Engine, raftId = 1): Promise<RaftNode> {
  const node = await RaftNode.open({
    raftId,
    peers: new Map([[raftId, '127.0.0.1:1']]),
    clientAddress: '127.0.0.1:2',
    raftAddress: '127.0.0.1:1',
    engine,
    logger: silentLogger(),
    tickMs: 10,
  });
  assert.ok(await node.peer.waitFor(() => node.peer.isLeader, 5000), 'single voter elects itself');
  return node;
}

/** Records the applied index of every StateMachine.apply call (the order the apply stage runs in). */
function recordApplies(node: RaftNode): number[] {
  const seen: number[] = [];
  const sm = node.peer.sm;
  const orig = sm.apply.bind(sm);
  sm.apply = (cmds, opts = {}) => {
    if (opts.appliedIndex !== undefined) seen.push(opts.appliedIndex);
    return orig(cmds, opts);
  };
  return seen;
}

const key = (i: number) => Buffer.from(`k${String(i).padStart(4, '0')}`);

describe('raftstore: pipelined apply stage', function () {
  this.timeout(20_000);

  it('proposals resolve exactly once with their own results, in log order, while later Readies persist', async function () {
    const node = await openSingle(new MemoryEngine());
    try {
      const seen = recordApplies(node);
      const store = node.kvStore;
      // Many concurrent proposals: several Readies, applies overlapping the next persists.
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => store.put(key(i % 50), Buffer.from(`v${i}`))));
      const versions = results.map((r) => r.version);
      assert.equal(new Set(versions).size, 300, 'every put has its own version (resolved with its own result)');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `applied indexes strictly increase (${seen[i - 1]} then ${seen[i]})`);
      // The last put per key wins, and the value matches the highest version.
      for (let k = 0; k < 50; k++) {
        const mine = results.map((r, i) => ({ v: r.version, i })).filter((x) => x.i % 50 === k);
        const last = mine.reduce((a, b) => (b.v > a.v ? b : a));
        const got = await store.get(key(k));
        assert.equal(got.value?.toString(), `v${last.i}`);
      }
      assert.equal(node.peer.appliedIndex, node.peer.status().commit, 'everything committed is applied once idle');
      // A compare-and-set chain: each result depends on the previous apply.
      await store.put(Buffer.from('ctr'), Buffer.from('0'));
      for (let i = 0; i < 20; i++) {
        const r = await store.put(Buffer.from('ctr'), Buffer.from(String(i + 1)), { expectedValue: Buffer.from(String(i)) });
        assert.equal(r.succeeded, true, `cas ${i} succeeded`);
      }
      assert.equal((await store.get(Buffer.from('ctr'))).value?.toString(), '20');
    } finally {
      await node.close();
    }
  });

  it('a conf change among in-flight writes applies in order, before the next Ready (raft sees the new config first)', async function () {
    const node = await openSingle(new MemoryEngine());
    try {
      const seen = recordApplies(node);
      const store = node.kvStore;
      const first = Promise.all(Array.from({ length: 100 }, (_, i) => store.put(key(i), Buffer.from('a'))));
      await new Promise((r) => setImmediate(r));
      node.peer.proposeConfChange({ transition: 0, changes: [{ type: ConfChangeType.AddLearner, nodeId: 2 }], context: Buffer.from('{"address":"127.0.0.1:9"}') });
      const second = Promise.all(Array.from({ length: 100 }, (_, i) => store.put(key(i), Buffer.from('b'))));
      await Promise.all([first, second]);
      assert.ok(await node.peer.waitFor(() => node.peer.status().config.learners.includes(2), 5000), 'the learner is in the configuration');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `applied indexes strictly increase (${seen[i - 1]} then ${seen[i]})`);
      const st = node.peer.status();
      assert.equal(st.applied, st.commit);
      assert.equal(node.peer.appliedIndex, st.commit);
      for (let i = 0; i < 100; i++) assert.equal((await store.get(key(i))).value?.toString(), 'b');
    } finally {
      await node.close();
    }
  });

  it('a snapshot generated while applies are in flight holds exactly the state at its index', async function () {
    const node = await openSingle(new MemoryEngine());
    try {
      const store = node.kvStore;
      const writes = Promise.all(Array.from({ length: 200 }, (_, i) => store.put(key(i), Buffer.from('x'))));
      await new Promise((r) => setImmediate(r));
      const index = await node.peer.snapshotNow();
      await writes;
      const storage = (node.peer as unknown as { storage: PeerStorage }).storage;
      const g = storage.acquireSnapshot(index);
      assert.ok(g !== undefined, 'the generated snapshot is available');
      try {
        const pinned = Object.create(node.engine) as Engine;
        const realIterator = node.engine.iterator.bind(node.engine);
        pinned.iterator = (opts) => realIterator({ ...opts, snapshot: g.engineSnapshot });
        const copy = new MemoryEngine();
        await importState(copy, 1, exportState(pinned, 1, { batchSize: 256 }));
        const sm = await StateMachine.open(copy, { groupId: 1 });
        assert.equal(sm.appliedIndex, index, 'the state machine inside the snapshot is at the snapshot index');
      } finally {
        storage.releaseSnapshot(g);
      }
    } finally {
      await node.close();
    }
  });

  it('a crash after the synced log write but before the unsynced apply write recovers every acknowledged write', async function () {
    const engine = new MemoryEngine();
    const node = await openSingle(engine);
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => node.kvStore.put(key(i), Buffer.from(`v${i}`))));
    const last = await node.kvStore.put(Buffer.from('last'), Buffer.from('1'));
    assert.ok(results.length === 120 && last.version > 0);
    // Power loss: only synced writes survive. The last apply batch (and the lazily written commit
    // index) were unsynced: the restart must re-apply from the log, with the commit raised to the
    // applied index where the applied index got ahead of the stored commit.
    const crashed = engine.crash();
    await node.close().catch(() => undefined);
    const again = await openSingle(crashed);
    try {
      for (let i = 0; i < 120; i++) assert.equal((await again.kvStore.get(key(i))).value?.toString(), `v${i}`);
      assert.equal((await again.kvStore.get(Buffer.from('last'))).value?.toString(), '1');
      const st = again.peer.status();
      assert.ok(st.applied <= st.commit && again.peer.appliedIndex === st.applied);
    } finally {
      await again.close();
    }
  });

  it('restart with the stored commit behind the applied index (a lazily written commit lost, the apply batch kept) raises the commit', async function () {
    const engine = new MemoryEngine();
    const node = await openSingle(engine);
    for (let i = 0; i < 30; i++) await node.kvStore.put(key(i), Buffer.from(`v${i}`));
    const applied = node.peer.appliedIndex;
    await node.close();
    // What an OS crash can leave: the apply batch (applied index = `applied`) reached the disk, the
    // later log write carrying the newer commit did not.
    const reopened = engine.reopen();
    const hs = decodeHardState((await reopened.get(raftKeys.hardState(1)))!);
    assert.ok(hs.commit >= applied, 'a clean close writes the pending commit');
    await reopened.write([{ type: 'put', key: raftKeys.hardState(1), value: Buffer.from(encodeHardState({ ...hs, commit: 2 })) }], { sync: true });
    const again = await openSingle(reopened);
    try {
      assert.ok(again.peer.status().commit >= applied, 'commit raised to the applied index (raft would panic: applied > committed)');
      for (let i = 0; i < 30; i++) assert.equal((await again.kvStore.get(key(i))).value?.toString(), `v${i}`);
    } finally {
      await again.close();
    }
  });

  it('a read does not wait behind a Ready whose fsync is stalled (read states are served mid-Ready)', async function () {
    const engine = new MemoryEngine();
    let release: (() => void) | undefined;
    let stalled = 0;
    const realWrite = engine.write.bind(engine);
    engine.write = async (ops, opts) => {
      if (opts?.sync && release === undefined && stalled === 0 && gateOn) {
        stalled++;
        await new Promise<void>((r) => (release = r));
      }
      return realWrite(ops, opts);
    };
    let gateOn = false;
    const node = await openSingle(engine);
    try {
      await node.kvStore.put(key(1), Buffer.from('before'));
      gateOn = true;
      const put = node.kvStore.put(key(2), Buffer.from('stuck'));
      for (let i = 0; i < 100 && stalled === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(stalled, 1, 'the put Ready is stuck in its synced write');
      const t0 = performance.now();
      const got = await node.kvStore.get(key(1));
      assert.equal(got.value?.toString(), 'before');
      assert.ok(performance.now() - t0 < 1000, 'served while the write is stalled');
      release!();
      assert.equal((await put).succeeded, true);
      assert.equal((await node.kvStore.get(key(2))).value?.toString(), 'stuck');
    } finally {
      release?.();
      await node.close();
    }
  });

  it('readiness: a leader is ready; a joining node is not a member; a closed group is not ready', async function () {
    const node = await openSingle(new MemoryEngine());
    assert.equal(node.peer.readiness(), true);
    const joining = await RaftNode.open({
      raftId: 5,
      peers: new Map([[1, '127.0.0.1:1']]),
      join: true,
      clientAddress: '127.0.0.1:3',
      raftAddress: '127.0.0.1:4',
      engine: new MemoryEngine(),
      logger: silentLogger(),
      tickMs: 10,
    });
    try {
      const r = joining.peer.readiness();
      assert.ok(r !== true && r.code === 'RAFT_NOT_MEMBER', JSON.stringify(r));
    } finally {
      await joining.close();
    }
    await node.close();
    const r = node.peer.readiness();
    assert.ok(r !== true && r.code === 'RAFT_CLOSED', JSON.stringify(r));
  });
  it('a read at a snapshot ts just returned by a write sees that write, although proposals resolve before the apply write lands', async function () {
    const engine = new MemoryEngine();
    const node = await openSingle(engine);
    try {
      const store = node.kvStore;
      // Unsynced writes (the apply stage's) land 30 ms late: the put resolves before its data is in the engine.
      const write = engine.write.bind(engine);
      engine.write = async (ops, opts) => {
        if (!opts?.sync) await new Promise((r) => setTimeout(r, 30));
        return write(ops, opts);
      };
      for (let i = 0; i < 5; i++) {
        const k = Buffer.from(`snap-read-${i}`);
        const { version } = await store.put(k, Buffer.from(`v${i}`));
        // A snapshot read at (or above) the version just acknowledged must see it, and stay repeatable.
        const a = await store.get(k, { snapshotTs: version });
        assert.equal(a.value?.toString(), `v${i}`, `snapshot read at ${version} sees the acknowledged put`);
        const b = await store.get(k, { snapshotTs: version + 1 });
        assert.equal(b.value?.toString(), `v${i}`);
      }
      // A put and a snapshot read slightly ahead of the clock in the same turn: one apply batch, the put's
      // version below the snapshot. The read must already see the put (repeatable: the second read at
      // the same ts, long after, agrees).
      for (let i = 0; i < 5; i++) {
        const k = Buffer.from(`same-batch-${i}`);
        const ts = tsFromMs(Date.now() + 200);
        const put = store.put(k, Buffer.from(`w${i}`));
        const first = await store.get(k, { snapshotTs: ts });
        const { version } = await put;
        assert.ok(version < ts, `the put's version ${version} is below the snapshot ts ${ts}`);
        await new Promise((r) => setTimeout(r, 60));
        const again = await store.get(k, { snapshotTs: ts });
        assert.equal(again.value?.toString(), `w${i}`);
        assert.equal(first.value?.toString(), again.value?.toString(), 'the snapshot read is repeatable');
      }
    } finally {
      await node.close();
    }
  });
});
