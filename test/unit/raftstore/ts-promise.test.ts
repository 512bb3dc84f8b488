// Timestamp promises (Peer.promiseTs, LocalStore.promise): a snapshot read above a range's applied ts
// is made repeatable by its leader without a Raft round when the snapshot is at most the range's
// replicated ceiling. Checked: no noop for such a read; later writes — the leader's own, a forwarded
// proposal, and a new term's after a restart — get versions above the snapshot; the ceiling survives a
// restart and a split. Negative controls: a forwarded proposal with nothing promised, and a new term
// without the ceiling floor (KVS_TEST_UNSAFE_NO_TS_FLOOR), land below the snapshot.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';
import { tsFromMs } from '../../../node/src/kv/clock.js';
import { EntryType, MessageType, msg } from '../../../node/src/raft/index.js';
import { encodeProposal } from '../../../node/src/raftstore/peer.js';
import type { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { openSingleVoter } from '../../helpers/single-voter.js';

const b = (s: string): Buffer => Buffer.from(s);

interface Counts {
  raises: number;
  promises: number;
}

async function open(dir: string, counts: Counts, unsafeNoTsFloor = false, tsCeilingAheadMs = 60_000): Promise<RaftNode> {
  return openSingleVoter({
    engine: await LevelEngine.open(dir),
    store: {
      // A wide ceiling and clock allowance: the test picks snapshots seconds ahead of the clock.
      tsCeilingAheadMs,
      maxClockAheadMs: 30_000,
      ...(unsafeNoTsFloor ? { unsafeNoTsFloor: true } : {}),
      observer: { onSnapshotRaise: () => counts.raises++, onTsPromise: () => counts.promises++ },
    },
  });
}

const range1 = (node: RaftNode) => node.replicas.get(1)!;

describe('raftstore: timestamp promises (snapshot reads above the applied ts without a Raft round)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kvs-ts-promise-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A snapshot 20 s ahead of the clock, inside the ceiling the first raise set (60 s) and below its upper half (no background extension). */
  async function promised(node: RaftNode, counts: Counts): Promise<number> {
    const kv = node.kvStore;
    const v1 = (await kv.put(b('k'), b('v1'))).version;
    // First snapshot above the applied ts: no ceiling yet, so a noop raises the range (and the ceiling).
    await kv.get(b('k'), { snapshotTs: v1 + 5 });
    assert.equal(counts.raises, 1);
    assert.ok(range1(node).store.sm.tsCeiling >= v1 + tsFromMs(59_000), "the raise set the ceiling a margin above the clock");
    const t = range1(node).store.readableTs + tsFromMs(20_000); // far enough that a slow restart stays below it
    const r = await kv.get(b('k'), { snapshotTs: t });
    assert.equal(r.found && r.value?.toString(), 'v1');
    assert.equal(counts.raises, 1, 'a snapshot under the ceiling proposes no noop');
    assert.equal(counts.promises, 1);
    assert.ok(range1(node).store.readableTs < t, 'nothing was written to reach the snapshot');
    return t;
  }

  it("the leader's own later writes get versions above a promised snapshot", async () => {
    const counts = { raises: 0, promises: 0 };
    const node = await open(dir, counts);
    try {
      const t = await promised(node, counts);
      const w = await node.kvStore.put(b('k'), b('v2'));
      assert.ok(w.version > t, `version ${w.version} above the promised ${t}`);
      const again = await node.kvStore.get(b('k'), { snapshotTs: t });
      assert.equal(again.found && again.value?.toString(), 'v1', 'the promised snapshot is repeatable');
    } finally {
      await node.close();
    }
  });

  it('a proposal forwarded to the leader is appended after a noop above the promise (control: none promised, it lands below)', async () => {
    const counts = { raises: 0, promises: 0 };
    const node = await open(dir, counts);
    try {
      const peer = range1(node).peer;
      const forward = async (key: string, seq: number): Promise<number> => {
        // A follower's proposal, stamped with its own (old) clock reading.
        const data = encodeProposal(`2:${seq}`, { type: 'put', proposedTs: 1, key: b(key), value: b('f') });
        peer.step(msg({ groupId: 1, type: MessageType.Prop, from: 2, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data }] }));
        for (let i = 0; i < 200; i++) {
          const r = await node.kvStore.get(b(key));
          if (r.found) return r.version;
          await new Promise((res) => setTimeout(res, 10));
        }
        throw new Error('forwarded proposal not applied');
      };
      const before = range1(node).store.readableTs;
      const control = await forward('f0', 1);
      assert.ok(control <= before + 2, 'control: with nothing promised the forwarded put takes the next ts');
      const t = await promised(node, counts);
      const v = await forward('f1', 2);
      assert.ok(v > t, `forwarded version ${v} above the promised ${t}`);
    } finally {
      await node.close();
    }
  });

  for (const unsafe of [false, true]) {
    it(unsafe ? 'negative control (KVS_TEST_UNSAFE_NO_TS_FLOOR): a new term writes below what the old one promised' : "a new term's writes land above the ceiling, so above every promise of the old term; the ceiling survives the restart", async () => {
      const counts = { raises: 0, promises: 0 };
      let node = await open(dir, counts);
      let t: number;
      let ceiling: number;
      try {
        t = await promised(node, counts);
        ceiling = range1(node).store.sm.tsCeiling;
      } finally {
        await node.close();
      }
      node = await open(dir, counts, unsafe);
      try {
        assert.equal(range1(node).store.sm.tsCeiling, ceiling, 'the ceiling is persisted');
        const w = await node.kvStore.put(b('k'), b('v2'));
        if (unsafe) assert.ok(w.version <= t, `control: without the floor the new term wrote at ${w.version}, at or below ${t}`);
        else assert.ok(w.version > ceiling && w.version > t, `version ${w.version} above the ceiling ${ceiling}`);
      } finally {
        await node.close();
      }
    });
  }

  it('a snapshot ahead of the clock sets the ceiling at itself, not a margin above it (no compounding across leader changes)', async () => {
    const counts = { raises: 0, promises: 0 };
    const node = await open(dir, counts, false, 1_000);
    try {
      const v1 = (await node.kvStore.put(b('k'), b('v1'))).version;
      const t = v1 + tsFromMs(10_000);
      await node.kvStore.get(b('k'), { snapshotTs: t });
      assert.equal(counts.raises, 1);
      assert.equal(range1(node).store.sm.tsCeiling, t);
    } finally {
      await node.close();
    }
  });

  it("a split's right half inherits the ceiling", async () => {
    const counts = { raises: 0, promises: 0 };
    const node = await open(dir, counts);
    try {
      await promised(node, counts);
      const ceiling = range1(node).store.sm.tsCeiling;
      const { right } = await node.split(b('m'));
      const r = node.replicas.get(right.rangeId)!;
      assert.equal(r.store.sm.tsCeiling, ceiling);
    } finally {
      await node.close();
    }
  });
});
