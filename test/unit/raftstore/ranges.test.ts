// Multi-range store (docs/sharding.md): splits of a single-voter RaftNode, routing of every request
// kind over the local ranges, routing refusals, exactly-once across a split, restart with many ranges.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../node/src/common/logger.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';
import { entryBytes, type Engine } from '../../../node/src/engine/engine.js';
import { EpochNotMatchError, InvalidArgumentError, KeyNotInRangeError, KvError } from '../../../node/src/kv/errors.js';
import { RangeKvStore } from '../../../node/src/raftstore/range-kv-store.js';
import { storedDeleteRange } from '../../../node/src/kv/txn-steps.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { encodeDescriptor } from '../../../node/src/meta/range-descriptor.js';
import { metaKey } from '../../../node/src/mvcc/keyspace.js';
import { rpcSuite } from '../server/rpc-suite.js';
import { openSingleVoter } from '../../helpers/single-voter.js';

const b = (s: string): Buffer => Buffer.from(s);

const openNode = (engine: Engine): Promise<RaftNode> => openSingleVoter({ engine });

async function leadersReady(node: RaftNode): Promise<void> {
  await node.settled();
  for (const r of node.replicas.values()) assert.ok(await r.peer.waitFor(() => r.peer.isLeader, 5000), `range ${r.rangeId} elects a leader`);
}

// The whole Kv RPC suite against a store split into three ranges (one of them holding no test key):
// unbounded scans, DeleteRange and status run across ranges; everything else is routed by key.
rpcSuite('Raft node split into 3 ranges', async (metrics) => {
  const node = await openSingleVoter({ store: { nodeId: 'ranges-suite', logger: silentLogger(), observer: metrics.storeObserver() } });
  await node.split(Buffer.from([0x80]));
  await node.split(Buffer.from([0xff, 0x00]));
  await leadersReady(node);
  assert.equal(node.replicas.size, 3);
  return node.kvStore;
});

/** Keys d00..d29 written, then split at d10 and d20: three ranges holding ten each, leaders elected. */
async function thirtyKeysOverThreeRanges(node: RaftNode): Promise<string[]> {
  const keys = Array.from({ length: 30 }, (_, i) => `d${String(i).padStart(2, '0')}`);
  await node.kvStore.batch(keys.map((k) => ({ op: 'put' as const, key: b(k), value: b(k) })));
  await node.split(b('d10'));
  await node.split(b('d20'));
  await leadersReady(node);
  return keys;
}

describe('ranges: splits and routing on one store', function () {
  this.timeout(20_000);
  let node: RaftNode;
  beforeEach(async () => {
    node = await openNode(new MemoryEngine());
  });
  afterEach(async () => {
    await node.close();
  });

  it('a split makes two ranges with new epochs; data written before stays readable on both halves', async () => {
    const kv = node.kvStore;
    for (const k of ['a', 'f', 'm', 'q', 'z']) await kv.put(b(k), b(`v-${k}`));
    const { left, right } = await node.split(b('m'));
    assert.equal(left.rangeId, 1);
    assert.deepEqual([left.start, left.end], [b(''), b('m')]);
    assert.deepEqual([right.start, right.end], [b('m'), b('')]);
    assert.equal(left.epoch.version, 1);
    assert.equal(right.epoch.version, 1);
    assert.deepEqual(right.replicas, [{ storeId: 1, peerId: 1, role: 'voter' }]);
    await leadersReady(node);
    assert.equal(node.replicas.size, 2);
    for (const k of ['a', 'f', 'm', 'q', 'z']) assert.equal((await kv.get(b(k))).value?.toString(), `v-${k}`);
    // Each half serves its own keys.
    assert.equal((kv as unknown as { replicaFor(k: Buffer): { rangeId: number } }).replicaFor(b('l')).rangeId, 1);
    assert.equal((kv as unknown as { replicaFor(k: Buffer): { rangeId: number } }).replicaFor(b('m')).rangeId, right.rangeId);
    await kv.put(b('n'), b('new'));
    await kv.delete(b('a'));
    assert.equal((await kv.get(b('n'))).value?.toString(), 'new');
    assert.equal((await kv.get(b('a'))).found, false);
  });

  it('scans cross ranges in key order, forward and reverse, with limits and `more`', async () => {
    const kv = node.kvStore;
    const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    for (const k of keys) await kv.put(b(k), b(k));
    await node.split(b('k10'));
    await node.split(b('k20'));
    await node.split(b('k30'));
    await leadersReady(node);
    assert.equal(node.replicas.size, 4);
    const all = await kv.scan({ limit: 1000 });
    assert.deepEqual(all.kvs.map((x) => x.key.toString()), keys);
    assert.equal(all.more, false);
    const rev = await kv.scan({ limit: 1000, reverse: true });
    assert.deepEqual(rev.kvs.map((x) => x.key.toString()), [...keys].reverse());
    const page = await kv.scan({ start: b('k05'), limit: 12 });
    assert.deepEqual(page.kvs.map((x) => x.key.toString()), keys.slice(5, 17));
    assert.equal(page.more, true);
    const revPage = await kv.scan({ end: b('k25'), limit: 7, reverse: true });
    assert.deepEqual(revPage.kvs.map((x) => x.key.toString()), keys.slice(18, 25).reverse());
    assert.equal(revPage.more, true);
    const exact = await kv.scan({ start: b('k30'), limit: 10 });
    assert.equal(exact.kvs.length, 10);
    assert.equal(exact.more, false, 'the last range ended exactly at the limit');
    const pre = await kv.scan({ prefix: b('k1'), limit: 100 });
    assert.deepEqual(pre.kvs.map((x) => x.key.toString()), keys.slice(10, 20));
    const del = await kv.deleteRange({ start: b('k08'), end: b('k33') });
    assert.equal(del.deleted, 25);
    assert.deepEqual((await kv.scan({ limit: 100 })).kvs.map((x) => x.key.toString()), [...keys.slice(0, 8), ...keys.slice(33)]);
  });

  it("paging a scan at the first page's readTs sees the later ranges' writes made before the first page", async () => {
    const kv = node.kvStore;
    for (const k of ['a0', 'a1', 'a2']) await kv.put(b(k), b(k));
    await node.split(b('g'));
    await leadersReady(node);
    // Written after the split, on the right range: versions above the left range's applied ts.
    for (const k of ['h0', 'h1', 'h2']) await kv.put(b(k), b(k));
    const p1 = await kv.scan({ limit: 2 });
    assert.deepEqual(p1.kvs.map((x) => x.key.toString()), ['a0', 'a1']);
    const p2 = await kv.scan({ start: b('a1\0'), snapshotTs: p1.readTs, limit: 100 });
    assert.deepEqual(p2.kvs.map((x) => x.key.toString()), ['a2', 'h0', 'h1', 'h2'], 'the iteration must not lose the keys of later ranges');
  });

  it('a store missing a range in the middle (moved away) never answers a scan without it: a typed, retryable refusal', async () => {
    const kv = node.kvStore;
    for (const k of ['a1', 'k1', 'k2', 'z1']) await kv.put(b(k), b(k));
    await node.split(b('k'));
    await node.split(b('m'));
    await leadersReady(node);
    // The store's view without the middle range [k, m) (a replica moved to another store).
    const partial = new RangeKvStore({ sorted: () => node.sorted().filter((r) => r.rangeId !== node.kv.replicaFor(b('k')).rangeId), get: (id) => node.get(id), settled: () => node.settled() });
    try {
      for (const opts of [{}, { reverse: true }, { start: b('b'), end: b('y') }, { prefix: b('k') }]) {
        await assert.rejects(partial.scan({ limit: 100, ...opts }), (e: unknown) => e instanceof KeyNotInRangeError && e.retryable, `scan ${JSON.stringify(opts)} must not skip the missing range`);
      }
      // Pieces the store does hold still scan.
      assert.deepEqual((await partial.scan({ end: b('k'), limit: 10 })).kvs.map((x) => x.key.toString()), ['a1']);
      assert.deepEqual((await partial.scan({ start: b('m'), limit: 10 })).kvs.map((x) => x.key.toString()), ['z1']);
    } finally {
      await partial.close().catch(() => undefined);
    }
  });

  it('a batch or transaction across ranges commits atomically (two-phase); within one range it stays one command', async () => {
    const kv = node.kvStore;
    await node.split(b('m'));
    await leadersReady(node);
    const v = await kv.batch([{ op: 'put', key: b('a'), value: b('1') }, { op: 'put', key: b('x'), value: b('2') }]);
    const a = await kv.get(b('a'));
    const x = await kv.get(b('x'));
    assert.equal(a.value?.toString(), '1');
    assert.equal(x.value?.toString(), '2');
    assert.equal(a.version, v.version, 'both halves of the batch carry its one commit ts');
    assert.equal(x.version, v.version);
    await kv.batch([{ op: 'put', key: b('n'), value: b('1') }, { op: 'put', key: b('x'), value: b('3') }]);
    assert.equal((await kv.get(b('x'))).value?.toString(), '3');

    const t = await kv.begin();
    await kv.put(b('p'), b('tx'), { txnId: t.txnId });
    assert.equal((await kv.get(b('c'), { txnId: t.txnId })).found, false);
    await kv.put(b('c'), b('tx'), { txnId: t.txnId });
    const sc = await kv.scan({ start: b('a'), end: b('z'), txnId: t.txnId });
    assert.deepEqual(sc.kvs.map((kv1) => kv1.key.toString()), ['a', 'c', 'n', 'p', 'x'], 'a scan across ranges sees the transaction\'s own writes on both');
    const c = await kv.commit(t.txnId);
    assert.equal((await kv.get(b('p'))).version, c.commitTs);
    assert.equal((await kv.get(b('c'))).version, c.commitTs);
    for (const r of node.sorted()) assert.equal(r.store.sm.locks.lockCount, 0, `range ${r.rangeId} keeps no lock`);

    const t2 = await kv.begin();
    assert.equal((await kv.get(b('c'), { txnId: t2.txnId })).value?.toString(), 'tx');
    await kv.put(b('d'), b('left'), { txnId: t2.txnId });
    const s = await kv.scan({ start: b('a'), end: b('m'), txnId: t2.txnId });
    assert.deepEqual(s.kvs.map((x1) => x1.key.toString()), ['a', 'c', 'd']);
    await kv.commit(t2.txnId);
    assert.equal((await kv.get(b('d'))).value?.toString(), 'left');
  });

  it('a get reads through the lock of a committed transaction the store knows decided: its own queued commit, or the record in its replica of the primary\'s range — the lock is left alone', async () => {
    await node.close();
    let throughs = 0;
    // Secondary commits held for a minute: their locks stay until something settles them.
    node = await openSingleVoter({ txnParallelCommit: true, txnSecondaryHoldMs: 60_000, store: { observer: { onLockReadThrough: () => throughs++ } } });
    await node.split(b('m'));
    await leadersReady(node);
    const kv = node.kvStore;
    const locks = (): number[] => node.sorted().map((r) => r.store.sm.locks.lockCount);
    // 1. This store coordinated it: the secondary's commit is queued (held) here.
    // (Snapshot reads at the commit ts: a current read below a commit ts taken from the other range settles the lock first.)
    const v = await kv.batch([{ op: 'put', key: b('a'), value: b('A') }, { op: 'put', key: b('x'), value: b('X') }]);
    assert.equal(locks().reduce((n, c) => n + c, 0), 1, 'one part\'s commit is held: its lock is still there');
    assert.equal((await kv.get(b('a'), { snapshotTs: v.version })).value?.toString(), 'A');
    assert.equal((await kv.get(b('x'), { snapshotTs: v.version })).value?.toString(), 'X');
    assert.equal(throughs, 1, 'read through the held part\'s lock');
    assert.equal(locks().reduce((n, c) => n + c, 0), 1, 'the lock was not settled (no hurried commit, no resolver round)');
    // 2. A transaction no commit queue here knows: prepared on both ranges through the steps, its
    //    primary's record committed — the replica of the primary's range decides it.
    const [left, right] = node.sorted();
    const startTs = (await kv.get(b('b'))).readTs;
    const req = { txnId: 'tR', startTs, primary: b('b'), ttlTs: 10_000_000, readKeys: [], readRanges: [] };
    const p1 = await left!.store.steps.prepareTxn({ ...req, writes: [{ op: 'put', key: b('b'), value: b('B') }] });
    const p2 = await right!.store.steps.prepareTxn({ ...req, writes: [{ op: 'put', key: b('y'), value: b('Y') }] });
    const commitTs = Math.max(p1, p2);
    await left!.store.steps.commitTxnLocks('tR', commitTs, { primary: b('b') });
    assert.equal(left!.store.sm.locks.record('tR')?.state, 'committed');
    const y = await kv.get(b('y'), { snapshotTs: commitTs });
    assert.equal(y.value?.toString(), 'Y');
    assert.equal(y.version, commitTs);
    assert.equal(throughs, 2);
    assert.equal(right!.store.sm.locks.locksOf('tR').length, 1, 'its lock stays for the commit or a resolver');
    assert.equal(node.kvStore instanceof RangeKvStore && node.kvStore.knownTxnOutcome('tR', b('y')), undefined, 'only the primary\'s range decides');
  });

  it('direct reads: a part only written joins at the snapshot without making it repeatable; a read through it does so first (control: without direct reads the part begins repeatable)', async () => {
    const kv = node.kvStore;
    await node.split(b('m'));
    await leadersReady(node);
    const right = node.sorted().find((r) => r.store.descriptor.start.equals(b('m')))!.store;
    const calls: string[] = [];
    for (const m of ['beginAt', 'joinAt', 'makeRepeatable'] as const) {
      const orig = right[m].bind(right) as (...a: unknown[]) => Promise<unknown>;
      (right as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        calls.push(m);
        return orig(...a);
      };
    }
    for (const direct of [true, false]) {
      calls.length = 0;
      const y = direct ? 'y1' : 'y2';
      await kv.put(b('x'), b('old'));
      await kv.put(b('a'), b('newer')); // the left range's applied ts passes every write on the right
      const t = await kv.begin({ directReads: direct });
      assert.equal(t.directReads === true, direct);
      if (!direct) await kv.get(b('a'), { txnId: t.txnId }); // the snapshot comes from the left range
      await kv.put(b(y), b('tx'), { txnId: t.txnId });
      assert.deepEqual(calls, direct ? ['joinAt'] : ['beginAt'], direct ? 'the write joined the part' : 'control: the part began at the snapshot');
      const sc = await kv.scan({ start: b('m'), txnId: t.txnId });
      assert.deepEqual(calls, direct ? ['joinAt', 'makeRepeatable'] : ['beginAt'], 'a read through a joined part makes it repeatable first');
      assert.deepEqual(sc.kvs.map((e) => e.key.toString()), direct ? ['x', 'y1'] : ['x', 'y1', 'y2']);
      await kv.commit(t.txnId, direct ? { readKeys: [b('a')] } : {});
      assert.equal((await kv.get(b(y))).value?.toString(), 'tx');
    }
  });

  it('a DeleteRange across ranges is atomic: one version on every range, all or nothing; above the atomic limit it runs piecewise', async () => {
    const kv = node.kvStore;
    const keys = await thirtyKeysOverThreeRanges(node);
    const del = await kv.deleteRange({ start: b('d05'), end: b('d25') });
    assert.equal(del.deleted, 20);
    // Atomic: just below its version every key is still there, at it every one is gone (piecewise, each
    // range would delete at a version of its own and a snapshot between them would see a half-done delete).
    const before = await kv.scan({ start: b('d'), end: b('e'), snapshotTs: del.version - 1, limit: 100 });
    assert.equal(before.kvs.length, 30, 'a snapshot just below the delete sees every key');
    const after = await kv.scan({ start: b('d'), end: b('e'), snapshotTs: del.version, limit: 100 });
    assert.deepEqual(after.kvs.map((x) => x.key.toString()), [...keys.slice(0, 5), ...keys.slice(25)]);
    for (const r of node.sorted()) assert.equal(r.store.sm.locks.lockCount, 0, `range ${r.rangeId} keeps no lock`);
    // Nothing in the span: nothing deleted, no error.
    assert.equal((await kv.deleteRange({ start: b('d05'), end: b('d25') })).deleted, 0);

    // More keys than one atomic delete takes (1 000): range by range, chunk by chunk — still all deleted.
    const many = Array.from({ length: 1200 }, (_, i) => `m${String(i).padStart(4, '0')}`);
    for (let i = 0; i < many.length; i += 200) await kv.batch(many.slice(i, i + 200).map((k) => ({ op: 'put' as const, key: b(k), value: b('v') })));
    await node.split(b('m0600'));
    await leadersReady(node);
    const big = await kv.deleteRange({ prefix: b('m') });
    assert.equal(big.deleted, 1200);
    assert.equal((await kv.scan({ prefix: b('m'), limit: 10 })).kvs.length, 0);
  });

  it('a DeleteRange across ranges retried with its session is answered with the first attempt (version, count), also after writes into its span, and after its one range split', async () => {
    const kv = node.kvStore;
    await thirtyKeysOverThreeRanges(node);
    const session = { clientId: 'c-dr', seq: 1, firstUnacked: 1 };
    const span = { start: b('d05'), end: b('d25') };
    const first = await kv.deleteRange(span, { session });
    assert.equal(first.deleted, 20);
    // Written after it, in the middle range only: a retry committing anywhere but the range of the
    // span's start (the old rule: the first range it writes) deleted them again.
    await kv.put(b('d12'), b('later'));
    await kv.put(b('d15'), b('later'));
    assert.deepEqual(await kv.deleteRange(span, { session }), first, 'answered with the first attempt');
    assert.equal((await kv.get(b('d12'))).found, true, 'the retry deleted nothing');
    assert.equal((await kv.get(b('d15'))).found, true, 'the retry deleted nothing');
    // The commit point also deleted the span's start key, which did not exist: nothing more counted.
    const fresh = await kv.deleteRange({ start: b('d055'), end: b('d16') }, { session: { clientId: 'c-dr', seq: 2, firstUnacked: 2 } });
    assert.equal(fresh.deleted, 2);
    assert.equal((await kv.get(b('d055'))).found, false);

    // One range when it applied (a one-range command, its count stored); split since: the retry runs
    // across ranges now, and its commit point meets the stored one-range result.
    const eKeys = Array.from({ length: 10 }, (_, i) => `e${i}`);
    await kv.batch(eKeys.map((k) => ({ op: 'put' as const, key: b(k), value: b('v') })));
    const s3 = { clientId: 'c-dr', seq: 3, firstUnacked: 3 };
    const one = await kv.deleteRange({ start: b('e'), end: b('f') }, { session: s3 });
    assert.equal(one.deleted, 10);
    await node.split(b('e5'));
    await leadersReady(node);
    await kv.put(b('e7'), b('later'));
    assert.deepEqual(await kv.deleteRange({ start: b('e'), end: b('f') }, { session: s3 }), one);
    assert.equal((await kv.get(b('e7'))).found, true, 'the retry deleted nothing');
    // The first attempt's commits behind its reply may still be held (--txn-secondary-hold): let them go.
    await node.kv.secondaries.idle();
    for (const r of node.sorted()) assert.equal(r.store.sm.locks.lockCount, 0, `range ${r.rangeId} keeps no lock`);
  });

  it('a stored one-range DeleteRange cut short between chunks is not taken as the answer of a commit across ranges: refused retryably', () => {
    assert.deepEqual(storedDeleteRange({ type: 'deleteRange', deleted: 3, version: 7 }), { deleted: 3, version: 7 });
    assert.throws(() => storedDeleteRange({ type: 'deleteRange', deleted: 3, version: 7, resume: b('k') }, 4), (e: unknown) => e instanceof KeyNotInRangeError && e.rangeId === 4);
  });

  it('a causality token (minStartTs) lifts a transaction\'s snapshot to what the client saw on another range (negative control without it)', async () => {
    const kv = node.kvStore;
    await node.split(b('m'));
    await leadersReady(node);
    await kv.put(b('a'), b('1'));
    const x = await kv.put(b('x'), b('1')); // range 2's clock is now ahead of range 1's applied ts
    await new Promise((r) => setTimeout(r, 5));
    await kv.put(b('x'), b('2'));
    const seen = (await kv.get(b('x'))).version;
    // Without the token the snapshot comes from range 1 (first key): an acknowledged write on range 2 can be above it.
    const plain = await kv.begin();
    await kv.get(b('a'), { txnId: plain.txnId });
    const stale = await kv.get(b('x'), { txnId: plain.txnId });
    assert.ok(stale.readTs < seen, `the first range's snapshot ${stale.readTs} is below the acknowledged ${seen} (x first written at ${x.version})`);
    assert.notEqual(stale.value?.toString(), '2', 'negative control: the token-less snapshot misses the acknowledged x=2');
    await kv.rollback(plain.txnId);
    const t = await kv.begin({ minStartTs: seen });
    await kv.get(b('a'), { txnId: t.txnId });
    assert.equal((await kv.get(b('x'), { txnId: t.txnId })).value?.toString(), '2', 'with the token the snapshot includes it');
    await kv.rollback(t.txnId);
  });

  it('cross-range write skew is refused: of two transactions reading both keys and writing one each, one conflicts', async () => {
    const kv = node.kvStore;
    await node.split(b('m'));
    await leadersReady(node);
    await kv.batch([{ op: 'put', key: b('alice'), value: b('on') }, { op: 'put', key: b('zoe'), value: b('on') }]);
    const t1 = await kv.begin();
    const t2 = await kv.begin();
    for (const t of [t1, t2]) {
      assert.equal((await kv.get(b('alice'), { txnId: t.txnId })).value?.toString(), 'on');
      assert.equal((await kv.get(b('zoe'), { txnId: t.txnId })).value?.toString(), 'on');
    }
    await kv.put(b('alice'), b('off'), { txnId: t1.txnId });
    await kv.put(b('zoe'), b('off'), { txnId: t2.txnId });
    const outcomes = await Promise.allSettled([kv.commit(t1.txnId), kv.commit(t2.txnId)]);
    const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
    assert.ok(ok <= 1, 'at most one of the two commits');
    for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as KvError).code, 'TXN_CONFLICT');
    const on = [(await kv.get(b('alice'))).value?.toString(), (await kv.get(b('zoe'))).value?.toString()].filter((x1) => x1 === 'on').length;
    assert.ok(on >= 1, 'someone stays on call');
    for (const r of node.sorted()) assert.equal(r.store.sm.locks.lockCount, 0, `range ${r.rangeId} keeps no lock`);
  });

  it('a transaction whose range splits under it fails retryably (EPOCH_NOT_MATCH) and writes nothing', async () => {
    const kv = node.kvStore;
    const t = await kv.begin();
    await kv.put(b('b'), b('1'), { txnId: t.txnId });
    await node.split(b('m'));
    await leadersReady(node);
    const err = await kv.put(b('x'), b('2'), { txnId: t.txnId }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof EpochNotMatchError, `got ${String(err)}`);
    assert.equal(err.retryable, true);
    // The same transaction, committed after the split with only left keys, still commits.
    await kv.commit(t.txnId);
    assert.equal((await kv.get(b('b'))).value?.toString(), '1');
    assert.equal((await kv.get(b('x'))).found, false);
  });

  it('exactly-once across a split: a retry routed to the new range is answered from its copied session table', async () => {
    const kv = node.kvStore;
    const session = { clientId: 'c1', seq: 1, firstUnacked: 1 };
    const first = await kv.put(b('x'), b('v1'), { session });
    await node.split(b('m'));
    await leadersReady(node);
    const retry = await kv.put(b('x'), b('v1'), { session });
    assert.equal(retry.version, first.version, 'the retry returns the stored result, it does not apply again');
    const hist = await kv.get(b('x'));
    assert.equal(hist.version, first.version);
    // A new seq applies normally on the new range.
    const next = await kv.put(b('x'), b('v2'), { session: { clientId: 'c1', seq: 2, firstUnacked: 2 } });
    assert.ok(next.version > first.version);
  });

  it('split refusals: key at the range start, stale epoch, not inside', async () => {
    await node.split(b('m'));
    await leadersReady(node);
    await assert.rejects(node.split(b('m')), InvalidArgumentError);
    const r = node.get(1)!;
    await assert.rejects(r.store.split(b('c'), 99, 0), (e: unknown) => e instanceof KvError && e.code === 'EPOCH_NOT_MATCH');
    assert.equal(r.store.descriptor.end.toString(), 'm', 'nothing changed');
  });
});

describe('ranges: the state machine refuses commands whose keys left the range', function () {
  it('a put applied after the split in the same batch gets KEY_NOT_IN_RANGE; one on the kept half applies', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, { groupId: 1 });
    const d = { rangeId: 1, start: b(''), end: b(''), epoch: { confVer: 1, version: 0 }, replicas: [{ storeId: 1, peerId: 1, role: 'voter' as const }] };
    await engine.write([sm.setDescriptor(d)]);
    const r = await sm.applyAndWrite([
      { type: 'split', proposedTs: 1, splitKey: b('m'), newRangeId: 7, expectVersion: 0 },
      { type: 'put', proposedTs: 2, key: b('x'), value: b('moved') },
      { type: 'put', proposedTs: 3, key: b('c'), value: b('kept') },
      { type: 'txnCommit', proposedTs: 4, startTs: 1, readKeys: [b('z')], readRanges: [], writes: [{ op: 'put', key: b('a'), value: b('1') }] },
      { type: 'deleteRange', proposedTs: 5, start: b('a'), end: b('q'), maxKeys: 10 },
    ]);
    assert.equal(r.results[0]!.type, 'split');
    assert.equal(r.results[1]!.type, 'error');
    assert.equal((r.results[1] as { code: string }).code, 'KEY_NOT_IN_RANGE');
    assert.equal(r.results[2]!.type, 'put');
    assert.equal((r.results[3] as { code: string }).code, 'KEY_NOT_IN_RANGE', 'a read key on the other half');
    assert.equal((r.results[4] as { code: string }).code, 'KEY_NOT_IN_RANGE', 'a range reaching past the end');
    // The right half's local state exists: descriptor + applied meta at the split's init index.
    const right = await StateMachine.open(engine, { groupId: 7 });
    assert.equal(right.descriptor.start.toString(), 'm');
    assert.equal(right.appliedIndex, 5);
    assert.equal(right.lastTs, 1);
    assert.deepEqual(await engine.get(metaKey(7, 'descriptor')), encodeDescriptor(right.descriptor));
  });
});

describe('ranges: restart with many ranges', function () {
  this.timeout(30_000);
  it('every range replica reopens with its bounds and data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvs-ranges-'));
    try {
      let node = await openNode(await LevelEngine.open(dir));
      for (const k of ['a', 'h', 'p', 'w']) await node.kvStore.put(b(k), b(k));
      await node.split(b('g'));
      await node.split(b('o'));
      await leadersReady(node);
      await node.kvStore.put(b('q'), b('after'));
      const before = [...node.sorted()].map((r) => [r.rangeId, r.store.descriptor.start.toString(), r.store.descriptor.end.toString()]);
      await node.close();
      node = await openNode(await LevelEngine.open(dir));
      await leadersReady(node);
      const after = [...node.sorted()].map((r) => [r.rangeId, r.store.descriptor.start.toString(), r.store.descriptor.end.toString()]);
      assert.deepEqual(after, before);
      assert.equal(after.length, 3);
      assert.deepEqual((await node.kvStore.scan({ limit: 100 })).kvs.map((x) => x.value.toString()), ['a', 'h', 'p', 'after', 'w']);
      await node.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ranges: size-triggered splits (--range-max-bytes)', function () {
  this.timeout(30_000);
  it('a range above the limit splits at the key that halves it, until every range is below it; off by default', async () => {
    const open = (rangeMaxBytes?: number) => openSingleVoter({ ...(rangeMaxBytes !== undefined ? { rangeMaxBytes } : {}), splitCheckIntervalMs: 100 });
    const fill = async (node: RaftNode): Promise<void> => {
      await node.peer.waitFor(() => node.peer.isLeader, 5000);
      for (let i = 0; i < 200; i++) await node.kvStore.put(b(`key-${String(i).padStart(4, '0')}`), Buffer.alloc(100, 7));
    };
    const off = await open();
    await fill(off);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(off.replicas.size, 1, 'no size trigger unless configured');
    await off.close();

    const node = await open(8 * 1024);
    await fill(node);
    const deadline = Date.now() + 15_000;
    let sizes: number[] = [];
    while (Date.now() < deadline) {
      await node.settled();
      sizes = await Promise.all(node.sorted().map((r) => sampleSize(node, r.store.descriptor.start, r.store.descriptor.end)));
      if (node.replicas.size > 1 && sizes.every((s) => s <= 8 * 1024)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(node.replicas.size >= 3, `split into ${node.replicas.size} ranges`);
    assert.ok(sizes.every((s) => s <= 8 * 1024), `every range below the limit: ${sizes.join(',')}`);
    // Bounds are contiguous and the data is all there.
    const rs = node.sorted();
    for (let i = 1; i < rs.length; i++) assert.deepEqual(rs[i]!.store.descriptor.start, rs[i - 1]!.store.descriptor.end);
    assert.equal((await node.kvStore.scan({ limit: 1000 })).kvs.length, 200);
    await node.close();
  });
});

async function sampleSize(node: RaftNode, start: Buffer, end: Buffer): Promise<number> {
  const { latestRange } = await import('../../../node/src/mvcc/keyspace.js');
  const r = latestRange(start, end);
  return entryBytes(node.engine, { gte: r.start, lt: r.end });
}
