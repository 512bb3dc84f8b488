// Group commit of the engine writes of a store's ranges (raftstore/log-writer.ts: Raft log writes and
// apply batches): writes asked for in one event-loop turn, or while a write is in flight, become one
// engine batch, synced if any part must be; order is kept; no request resolves before its own batch is
// written; a failed merged batch fails only the requests that fail on their own,
// and the next batch still runs. On a store split into 8 ranges, concurrent puts to all of them cost
// fewer fsyncs than range log writes, and their apply batches are merged too.
import assert from 'node:assert/strict';
import type { Engine, EngineOp, WriteOptions } from '../../../node/src/engine/engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { LogWriter } from '../../../node/src/raftstore/log-writer.js';
import { openSingleVoter } from '../../helpers/single-voter.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const put = (k: string): EngineOp => ({ type: 'put', key: Buffer.from(k), value: Buffer.from('v') });

/** An engine whose writes complete only when the test says so. */
class GatedEngine extends MemoryEngine {
  calls: Array<{ keys: string[]; sync: boolean }> = [];
  private gates: Array<() => void> = [];
  failNext = false;
  /** A batch holding this key fails (a request whose own ops the engine refuses). */
  poison: string | undefined;
  override async write(ops: readonly EngineOp[], opts?: WriteOptions): Promise<void> {
    this.calls.push({ keys: ops.map((o) => o.key.toString()), sync: opts?.sync === true });
    await new Promise<void>((r) => this.gates.push(r));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    if (this.poison !== undefined && ops.some((o) => o.key.toString() === this.poison)) throw new Error(`bad op ${this.poison}`);
    return super.write(ops, opts);
  }
  release(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('log writer: group commit of the ranges of a store', function () {
  it('writes asked for in one turn go as one batch, synced if any of them must be', async function () {
    const e = new GatedEngine();
    const w = new LogWriter(e);
    const done = [w.write([put('a')], false), w.write([put('b')], true), w.write([put('c')], false)];
    await turn();
    assert.deepEqual(e.calls, [{ keys: ['a', 'b', 'c'], sync: true }]);
    e.release();
    await Promise.all(done);
    assert.deepEqual(w.stats, { writes: 1, syncedWrites: 1, requests: 3, applyRequests: 0, syncedRequests: 1, splitRetries: 0, walWrites: 0, checkpoints: 0 });
  });

  it('writes arriving while one is in flight queue into the next batch, in order', async function () {
    const e = new GatedEngine();
    const w = new LogWriter(e);
    const first = w.write([put('1')], true);
    await turn();
    const later = [w.write([put('2')], true), w.write([put('3')], true)];
    await turn();
    assert.equal(e.calls.length, 1, 'nothing else starts while the first write is in flight');
    e.release();
    await first;
    await turn();
    assert.deepEqual(e.calls[1], { keys: ['2', '3'], sync: true });
    e.release();
    await Promise.all(later);
    assert.equal(w.stats.syncedWrites, 2);
    assert.equal(w.stats.syncedRequests, 3);
    assert.equal((await e.get(Buffer.from('3')))?.toString(), 'v');
  });

  it('a failed merged batch fails only the requests that fail alone (ranges share a batch, not a fate); the next batch still runs', async function () {
    const e = new GatedEngine();
    const w = new LogWriter(e);
    e.poison = 'bad';
    const x = w.write([put('x')], true);
    const bad = w.write([put('bad'), put('with-bad')], true);
    const y = w.write([put('y')], false);
    const settled = Promise.allSettled([x, bad, y]);
    // The merged batch, then each request alone, in order.
    for (let i = 0; i < 4; i++) {
      await turn();
      e.release();
    }
    const [rx, rbad, ry] = await settled;
    assert.equal(rx.status, 'fulfilled');
    assert.equal(ry.status, 'fulfilled');
    assert.equal(rbad.status, 'rejected');
    assert.match(String((rbad as PromiseRejectedResult).reason), /bad op bad/);
    assert.deepEqual(e.calls.map((c) => c.keys), [['x', 'bad', 'with-bad', 'y'], ['x'], ['bad', 'with-bad'], ['y']]);
    assert.deepEqual(e.calls.map((c) => c.sync), [true, true, true, false], 'each retried request keeps its own sync');
    assert.equal(await e.get(Buffer.from('with-bad')), undefined, 'nothing of the failed request landed');
    assert.equal((await e.get(Buffer.from('y')))?.toString(), 'v');
    assert.equal(w.stats.splitRetries, 1);
    e.poison = undefined;
    const ok = w.write([put('z')], true);
    await turn();
    e.release();
    await ok;
    assert.equal((await e.get(Buffer.from('z')))?.toString(), 'v');
  });

  it('a request alone whose write fails is rejected; nothing resolves before its batch is written', async function () {
    const e = new GatedEngine();
    const w = new LogWriter(e);
    e.failNext = true;
    const failed = w.write([put('x')], true);
    await turn();
    const order: string[] = [];
    const next = w.write([put('n')], true).then(() => order.push('n'));
    e.release();
    await assert.rejects(failed, /disk full/);
    await turn();
    assert.deepEqual(order, [], 'the next batch is not acknowledged while its engine write is pending');
    e.release();
    await next;
    assert.equal(await e.get(Buffer.from('x')), undefined);
    assert.equal((await e.get(Buffer.from('n')))?.toString(), 'v');
  });

  it('a store with 8 ranges: concurrent puts to all ranges need fewer fsyncs than range log writes, apply batches merged too', async function () {
    this.timeout(20_000);
    const engine = new MemoryEngine();
    const node = await openSingleVoter({ engine: engine as Engine });
    try {
      for (const k of ['b', 'c', 'd', 'e', 'f', 'g', 'h']) await node.split(Buffer.from(k));
      await node.settled();
      for (const r of node.replicas.values()) assert.ok(await r.peer.waitFor(() => r.peer.isLeader, 5000));
      assert.equal(node.replicas.size, 8);
      const w0 = { ...node.logWriter.stats };
      const synced0 = engine.syncedWrites;
      for (let round = 0; round < 20; round++) {
        await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => node.kvStore.put(Buffer.from(`${k}${round}`), Buffer.from('v'))));
      }
      const requests = node.logWriter.stats.syncedRequests - w0.syncedRequests;
      const fsyncs = engine.syncedWrites - synced0;
      assert.ok(requests >= 160, `every put needed a synced log write (${requests})`);
      assert.ok(fsyncs * 3 < requests, `group commit: ${fsyncs} fsyncs for ${requests} range log writes`);
      const applies = node.logWriter.stats.applyRequests - w0.applyRequests;
      const all = node.logWriter.stats.requests - w0.requests;
      const writes = node.logWriter.stats.writes - w0.writes;
      assert.ok(applies >= (8 * 20) / 2, `range apply batches went through the store's group commit (${applies})`);
      assert.ok(writes * 3 < all, `merged: ${writes} engine writes for ${all} range log writes and apply batches`);
      for (const k of ['a', 'd', 'h']) assert.equal((await node.kvStore.get(Buffer.from(`${k}19`)))?.value?.toString(), 'v');
    } finally {
      await node.close();
    }
  });
});

describe('restart after a crash in the middle of a snapshot install (data applied far ahead)', function () {
  it('opens as an empty member waiting for a snapshot instead of failing (jepsen seed 9101)', async function () {
    this.timeout(20_000);
    const { PeerStorage } = await import('../../../node/src/raftstore/peer-storage.js');
    const { emptyConfState } = await import('../../../node/src/raft/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'kvs-snap-crash-'));
    let engine = await LevelEngine.open(dir);
    let node = await openSingleVoter({ engine });
    for (let i = 0; i < 30; i++) await node.kvStore.put(Buffer.from(`k${i}`), Buffer.from('v'));
    const applied = node.peer.appliedIndex;
    await node.close();
    engine = await LevelEngine.open(dir);
    // What installSnapshot's step (a) leaves when the process dies during the import: the snapshot's
    // metadata and the install marker, while the state machine's meta still says `applied`.
    const s = await PeerStorage.open(engine, 1, {});
    const snap = { metadata: { index: applied + 500, term: 9, confState: { ...emptyConfState(), voters: [1] } }, data: new Uint8Array(0) };
    await engine.write(s.snapshotOps(snap, { term: 9, vote: 1, commit: applied + 500 }), { sync: true });
    await engine.close();
    engine = await LevelEngine.open(dir);
    node = await openSingleVoter({ engine, awaitLeaders: false, store: { nodeId: 'restart' } });
    try {
      assert.equal(node.peer.appliedIndex, 0, 'the partial state counts for nothing: the next snapshot replaces it');
      const r = node.peer.readiness();
      assert.notEqual(r, true);
    } finally {
      await node.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
