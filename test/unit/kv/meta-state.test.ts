// The meta range's replicated state in range 1's state machine (kv/meta-state.ts): metaUpdate and
// tsoPersist apply deterministically, survive a reopen, travel in range 1's snapshots, and are refused by
// every other range; range 1's own split records both halves in the same batch.
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { decodeCommand, decodeResult, encodeCommand, encodeResult, type Command, type CommandResult } from '../../../node/src/kv/commands.js';
import { encodeMetaRecord, type MetaRecord } from '../../../node/src/meta/meta-directory.js';
import { splitRange, type RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';
import { exportState } from '../../../node/src/kv/snapshot.js';
import { META_RANGE_ID } from '../../../node/src/kv/meta-state.js';

const b = (s: string) => Buffer.from(s);
const d1 = (): RangeDescriptor => ({
  rangeId: 1,
  start: Buffer.alloc(0),
  end: Buffer.alloc(0),
  epoch: { confVer: 3, version: 1 },
  replicas: [1, 2, 3].map((s) => ({ storeId: s, peerId: s, role: 'voter' as const })),
});
const rec = (d: RangeDescriptor, leader: number, term: number): MetaRecord => ({ descriptor: d, leaderStoreId: leader, leaderTerm: term, leaderAddress: `127.0.0.${leader}:7000` });
const metaUpdate = (...recs: MetaRecord[]): Command => ({ type: 'metaUpdate', proposedTs: 0, records: recs.map(encodeMetaRecord) });

describe('meta state (range 1)', () => {
  it('commands round-trip through the codec', () => {
    const cmds: Command[] = [metaUpdate(rec(d1(), 2, 4)), { type: 'tsoPersist', proposedTs: 0, highWaterMs: 1_765_000_000_000 }, { type: 'allocIds', proposedTs: 0, count: 3 }];
    for (const c of cmds) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
    const res: CommandResult = { type: 'ids', first: 2 ** 40, count: 3 };
    assert.deepEqual(decodeResult(encodeResult(res)), res);
  });

  it('applies records and TSO bounds, keeps them across a reopen, and ships them in snapshots', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, { groupId: META_RANGE_ID });
    await engine.write([sm.setDescriptor(d1())]);
    const { left, right } = splitRange(d1(), b('m'), { rangeId: 9, peerIds: new Map([[1, 1], [2, 2], [3, 3]]) });
    const r = await sm.applyAndWrite([metaUpdate(rec(right, 2, 7)), metaUpdate(rec(d1(), 1, 3)), { type: 'tsoPersist', proposedTs: 0, highWaterMs: 5000 }, { type: 'tsoPersist', proposedTs: 0, highWaterMs: 4000 }], { appliedIndex: 10 });
    assert.ok(r.results.every((x) => x.type === 'ok'));
    assert.deepEqual(sm.meta!.directory.all().map((x) => x.descriptor.rangeId), [9], 'the stale parent record was refused (it overlaps the newer right half)');
    assert.equal(sm.meta!.tsoHighWaterMs, 5000, 'a delayed lower bound never lowers it');
    await sm.applyAndWrite([metaUpdate(rec(left, 1, 3))], { appliedIndex: 11 });
    const reopened = await StateMachine.open(engine, { groupId: META_RANGE_ID });
    assert.deepEqual(reopened.meta!.directory.all().map((x) => [x.descriptor.rangeId, x.leaderStoreId, x.leaderTerm]), [[1, 1, 3], [9, 2, 7]]);
    assert.equal(reopened.meta!.tsoHighWaterMs, 5000);
    // Range 1's snapshot carries the directory and the bound (a new replica of the meta range has them).
    const target = new MemoryEngine();
    const batches = [];
    for await (const batch of exportState(engine, META_RANGE_ID, { userRange: {} })) batches.push(...batch);
    await target.write(batches.map(([key, value]) => ({ type: 'put' as const, key, value })));
    const copy = await StateMachine.open(target, { groupId: META_RANGE_ID });
    assert.equal(copy.meta!.directory.size, 2);
    assert.equal(copy.meta!.tsoHighWaterMs, 5000);
  });

  it('range ids: the counter starts above every id the directory knows, only moves forward, survives a reopen and travels in snapshots', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, { groupId: META_RANGE_ID });
    await engine.write([sm.setDescriptor(d1())]);
    const alloc = (count: number) => ({ type: 'allocIds' as const, proposedTs: 0, count });
    // A cluster whose earlier splits drew random ids: the first allocation starts above them.
    const { right } = splitRange(d1(), b('m'), { rangeId: 900, peerIds: new Map([[1, 1], [2, 2], [3, 3]]) });
    let r = await sm.applyAndWrite([metaUpdate(rec(right, 2, 7)), alloc(1), alloc(4), alloc(1)], { appliedIndex: 10 });
    assert.deepEqual(r.results.slice(1), [{ type: 'ids', first: 901, count: 1 }, { type: 'ids', first: 902, count: 4 }, { type: 'ids', first: 906, count: 1 }]);
    // Bad counts are refused without moving the counter.
    r = await sm.applyAndWrite([alloc(0), alloc(5000)], { appliedIndex: 11 });
    for (const x of r.results) assert.equal(x.type === 'error' && x.code, 'INVALID_ARGUMENT');
    const reopened = await StateMachine.open(engine, { groupId: META_RANGE_ID });
    assert.equal(reopened.meta!.nextRangeId, 907);
    r = await reopened.applyAndWrite([alloc(2)], { appliedIndex: 12 });
    assert.deepEqual(r.results[0], { type: 'ids', first: 907, count: 2 });
    const target = new MemoryEngine();
    const batches = [];
    for await (const batch of exportState(engine, META_RANGE_ID, { userRange: {} })) batches.push(...batch);
    await target.write(batches.map(([key, value]) => ({ type: 'put' as const, key, value })));
    assert.equal((await StateMachine.open(target, { groupId: META_RANGE_ID })).meta!.nextRangeId, 909, 'a new replica of the meta range continues the counter');
    // A fresh cluster starts at 2 (range 1 is the first range).
    const fresh = await StateMachine.open(new MemoryEngine(), { groupId: META_RANGE_ID });
    assert.deepEqual((await fresh.applyAndWrite([alloc(1)], { appliedIndex: 2 })).results[0], { type: 'ids', first: 2, count: 1 });
    // Another range refuses to hand out ids.
    const other = await StateMachine.open(new MemoryEngine(), { groupId: 5 });
    assert.equal((await other.applyAndWrite([alloc(1)], { appliedIndex: 2 })).results[0]!.type, 'error');
  });

  it('is refused by every other range (a misrouted publish changes nothing)', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, { groupId: 5 });
    assert.equal(sm.meta, undefined);
    const r = await sm.applyAndWrite([metaUpdate(rec(d1(), 1, 1)), { type: 'tsoPersist', proposedTs: 0, highWaterMs: 10 }], { appliedIndex: 3 });
    for (const x of r.results) assert.equal(x.type === 'error' && x.code, 'INVALID_ARGUMENT');
  });

  it("range 1's own split records both halves atomically (leader filled in later by the publisher)", async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, { groupId: META_RANGE_ID });
    await engine.write([sm.setDescriptor(d1())]);
    await sm.applyAndWrite([metaUpdate(rec(d1(), 2, 4))], { appliedIndex: 5 });
    const r = await sm.applyAndWrite([{ type: 'split', proposedTs: 0, splitKey: b('k'), newRangeId: 77, expectVersion: 1 }], { appliedIndex: 6 });
    assert.equal(r.results[0]!.type, 'split');
    assert.deepEqual(sm.meta!.directory.all().map((x) => [x.descriptor.rangeId, x.descriptor.epoch.version, x.leaderStoreId]), [[1, 2, 0], [77, 2, 0]]);
    // The leader's publish at the new epoch then fills in the leader.
    await sm.applyAndWrite([metaUpdate(rec(sm.descriptor as RangeDescriptor, 2, 4))], { appliedIndex: 7 });
    assert.equal(sm.meta!.directory.get(1)!.leaderStoreId, 2);
  });
});
