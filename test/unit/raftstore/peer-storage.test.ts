// PeerStorage: Raft log + hard state on the engine, mirrored in memory; recovery, truncation of a
// conflicting suffix, compaction, snapshot install (and a crash in the middle of one), on-demand snapshots.
import assert from 'node:assert/strict';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { PeerStorage, raftKeys } from '../../../node/src/raftstore/peer-storage.js';
import { type Entry, EntryType, SnapshotTemporarilyUnavailableError, emptyConfState } from '../../../node/src/raft/index.js';

const G = 1;
const ent = (index: number, term: number, tag = ''): Entry => ({ index, term, type: EntryType.Normal, data: Buffer.from(`e${index}${tag}`) });

async function appendAll(s: PeerStorage, es: Entry[], hs?: { term: number; vote: number; commit: number }): Promise<void> {
  await s.engine.write(s.appendOps(es, hs), { sync: true });
  s.appended(es, hs);
}

describe('raftstore: peer storage', function () {
  it('bootstraps a new member (snapshot at 1 carrying the voters) and recovers it', async function () {
    const engine = new MemoryEngine();
    const s = await PeerStorage.open(engine, G, { bootstrapVoters: [3, 1, 2], addresses: new Map([[1, 'a:1'], [2, 'b:2'], [3, 'c:3']]) });
    assert.equal(s.firstIndex(), 2);
    assert.equal(s.lastIndex(), 1);
    assert.equal(s.term(1), 1);
    assert.deepEqual(s.initialState().confState.voters, [1, 2, 3]);
    assert.deepEqual(s.initialState().hardState, { term: 1, vote: 0, commit: 1 });
    const r = await PeerStorage.open(engine, G, { bootstrapVoters: [9], addresses: new Map([[3, 'proxy:3']]) }); // existing state wins
    assert.deepEqual(r.initialState().confState.voters, [1, 2, 3]);
    assert.equal(r.addresses.get(2), 'b:2');
    assert.equal(r.addresses.get(3), 'proxy:3', 'configured peer addresses override the persisted book');
    assert.equal(r.empty, false);
  });

  it('starts empty without bootstrap voters (joining node)', async function () {
    const s = await PeerStorage.open(new MemoryEngine(), G, {});
    assert.equal(s.empty, true);
    assert.equal(s.lastIndex(), 0);
    assert.deepEqual(s.initialState().confState.voters, []);
  });

  it('persists entries and hard state; a conflicting suffix is truncated on disk too', async function () {
    const engine = new MemoryEngine();
    const s = await PeerStorage.open(engine, G, { bootstrapVoters: [1] });
    await appendAll(s, [ent(2, 1), ent(3, 1), ent(4, 1), ent(5, 1)], { term: 1, vote: 1, commit: 3 });
    await appendAll(s, [ent(4, 2, 'x')], { term: 2, vote: 1, commit: 3 });
    assert.equal(s.lastIndex(), 4);
    const r = await PeerStorage.open(engine, G, {});
    assert.equal(r.lastIndex(), 4);
    assert.equal(r.term(4), 2);
    assert.equal(Buffer.from(r.entries(4, 5, Infinity)[0]!.data).toString(), 'e4x');
    assert.deepEqual(r.initialState().hardState, { term: 2, vote: 1, commit: 3 });
    assert.equal(await engine.get(raftKeys.entry(G, 5)), undefined, 'the truncated entry is gone from the engine');
  });

  it('compaction drops entries up to the index on disk and in memory; recovery starts after it', async function () {
    const engine = new MemoryEngine();
    const s = await PeerStorage.open(engine, G, { bootstrapVoters: [1] });
    const es: Entry[] = [];
    for (let i = 2; i <= 100; i++) es.push(ent(i, 1 + Math.floor(i / 50)));
    await appendAll(s, es, { term: 3, vote: 1, commit: 100 });
    assert.equal(await s.compact(60), true);
    assert.equal(s.firstIndex(), 61);
    assert.equal(s.term(60), 2);
    assert.throws(() => s.entries(59, 61, Infinity));
    assert.equal(await s.compact(10), false, 'below the first index: no-op');
    const r = await PeerStorage.open(engine, G, {});
    assert.equal(r.firstIndex(), 61);
    assert.equal(r.lastIndex(), 100);
    assert.equal(r.term(60), 2);
    assert.equal(await engine.get(raftKeys.entry(G, 60)), undefined);
  });

  it('snapshot install replaces the log and the config; recovery after it', async function () {
    const engine = new MemoryEngine();
    const s = await PeerStorage.open(engine, G, {});
    const snap = {
      metadata: { index: 500, term: 7, confState: { ...emptyConfState(), voters: [1, 2, 3], learners: [4] } },
      data: Buffer.from(JSON.stringify({ addresses: { 1: 'a:1', 4: 'd:4' } })),
    };
    const hs = { term: 7, vote: 0, commit: 500 };
    await engine.write(s.snapshotOps(snap, hs), { sync: true });
    s.snapshotApplied(snap, hs);
    await engine.write([s.markerClearOp(), s.addressesOp()], { sync: true });
    assert.equal(s.firstIndex(), 501);
    await appendAll(s, [ent(501, 7)], { term: 7, vote: 0, commit: 501 });
    const r = await PeerStorage.open(engine, G, {});
    assert.equal(r.firstIndex(), 501);
    assert.equal(r.lastIndex(), 501);
    assert.equal(r.term(500), 7);
    assert.deepEqual(r.initialState().confState.learners, [4]);
    assert.equal(r.addresses.get(4), 'd:4');
  });

  it('a crash during a snapshot install (marker left) restarts as an empty member that kept term and vote', async function () {
    const engine = new MemoryEngine();
    const s = await PeerStorage.open(engine, G, { bootstrapVoters: [1, 2, 3] });
    await appendAll(s, [ent(2, 1), ent(3, 1)], { term: 4, vote: 2, commit: 3 });
    const snap = { metadata: { index: 900, term: 5, confState: { ...emptyConfState(), voters: [1, 2, 3] } }, data: new Uint8Array(0) };
    await engine.write(s.snapshotOps(snap, { term: 5, vote: 2, commit: 900 }), { sync: true });
    // crash here: the import never finished
    const r = await PeerStorage.open(engine, G, { bootstrapVoters: [1, 2, 3] });
    assert.equal(r.empty, true);
    assert.equal(r.lastIndex(), 0);
    assert.deepEqual(r.initialState().hardState, { term: 5, vote: 2, commit: 0 });
    assert.deepEqual(r.initialState().confState.voters, []);
    assert.equal(await engine.get(raftKeys.marker(G)), undefined);
  });

  it('snapshots are generated on demand at the applied index (raft is told to retry until then)', async function () {
    const engine = new MemoryEngine();
    const s = await PeerStorage.open(engine, G, { bootstrapVoters: [1], addresses: new Map([[1, 'a:1']]) });
    await appendAll(s, [ent(2, 1), ent(3, 2)], { term: 2, vote: 1, commit: 3 });
    assert.throws(() => s.snapshot(), SnapshotTemporarilyUnavailableError);
    assert.equal(s.snapshotRequested, true);
    const g = s.generateSnapshot(3);
    assert.equal(s.snapshotRequested, false);
    assert.deepEqual({ index: g.snapshot.metadata.index, term: g.snapshot.metadata.term }, { index: 3, term: 2 });
    assert.deepEqual(s.snapshot().metadata.confState.voters, [1]);
    assert.deepEqual(JSON.parse(Buffer.from(s.snapshot().data).toString()).addresses, { 1: 'a:1' });
    const pinned = s.acquireSnapshot(3)!;
    s.generateSnapshot(3); // replaces it; the pinned one stays usable until released
    assert.equal(pinned.stale, true);
    s.releaseSnapshot(pinned);
    assert.equal(s.acquireSnapshot(2), undefined);
    // A conf change applied after the snapshot (e.g. AddLearner) makes it stale: the new learner would
    // refuse a snapshot whose config lacks it.
    await appendAll(s, [ent(4, 2)], { term: 2, vote: 1, commit: 4 });
    s.confStateOp({ ...emptyConfState(), voters: [1], learners: [2] }, 4);
    assert.throws(() => s.snapshot(), SnapshotTemporarilyUnavailableError);
    s.generateSnapshot(4);
    assert.deepEqual(s.snapshot().metadata.confState.learners, [2]);
    s.close();
  });
});
