// The cross-range transaction protocol in the state machine (kv/txn-locks.ts): prepare/lock,
// commit point, rollback, status checks with TTL, what locks block, splits — deterministic apply.
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import type { Command, CommandResult } from '../../../node/src/kv/commands.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import { KeyLockedError } from '../../../node/src/kv/errors.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';
import { decodeLock, encodeLock, type TxnLock } from '../../../node/src/kv/txn-locks.js';
import type { Mutation } from '../../../node/src/kv/api.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const put = (k: string, v: string): Mutation => ({ op: 'put', key: b(k), value: b(v) });

async function apply1(sm: StateMachine, cmd: Command): Promise<CommandResult> {
  return (await sm.applyAndWrite([cmd])).results[0]!;
}

function prepare(txnId: string, p: { ts: number; startTs: number; primary?: string; ttl?: number; reads?: string[]; ranges?: Array<{ start?: string; end?: string }>; writes?: Mutation[] }): Command {
  return {
    type: 'txnPrepare',
    proposedTs: p.ts,
    txnId,
    startTs: p.startTs,
    primary: b(p.primary ?? 'p'),
    ttlTs: p.ttl ?? 1000,
    readKeys: (p.reads ?? []).map(b),
    readRanges: (p.ranges ?? []).map((r) => ({ ...(r.start !== undefined ? { start: b(r.start) } : {}), ...(r.end !== undefined ? { end: b(r.end) } : {}) })),
    writes: p.writes ?? [],
  };
}

function status(r: CommandResult): string {
  if (r.type === 'txnStatus') return `${r.state}@${r.ts}`;
  if (r.type === 'error') return r.code;
  return r.type;
}

describe('cross-range transaction locks (state machine)', () => {
  it('prepare locks the writes; the primary commit writes them at commitTs, records the commit and pushes lastTs', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    await apply1(sm, { type: 'put', proposedTs: 10, key: b('x'), value: b('old') });
    assert.equal(status(await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'x', writes: [put('x', 'new'), put('y', 'Y')] }))), 'prepared@20');
    assert.equal(sm.locks.lockCount, 2);
    // A retry of the same prepare is answered with the same prepare ts, nothing added.
    assert.equal(status(await apply1(sm, prepare('t1', { ts: 30, startTs: 15, primary: 'x', writes: [put('x', 'new')] }))), 'prepared@20');
    // Commit at 25 (the coordinator's max over its ranges' prepare ts) while this range is already at 31.
    const r = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 40, txnId: 't1', commitTs: 25, primary: b('x') });
    assert.equal(status(r), 'committed@25');
    assert.equal((await mvccGet(e, b('x'), 25))!.value.toString(), 'new');
    assert.equal((await mvccGet(e, b('x'), 24))!.value.toString(), 'old');
    assert.equal((await mvccGet(e, b('y'), 25))!.version, 25);
    assert.equal(sm.locks.lockCount, 0);
    assert.equal(sm.locks.record('t1')?.state, 'committed');
    assert.ok(sm.lastTs >= 40);
    // Idempotent: a second primary commit returns the record.
    assert.equal(status(await apply1(sm, { type: 'txnCommitLocks', proposedTs: 50, txnId: 't1', commitTs: 25, primary: b('x') })), 'committed@25');
    // The record and the locks survive a restart (loaded from the engine).
    const sm2 = await StateMachine.open(e);
    assert.equal(sm2.locks.record('t1')?.ts, 25);
  });

  it('commitTs pushes the range: a later write gets a version above it (the read set stays valid up to commitTs)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'x', writes: [put('x', '1')] }));
    await apply1(sm, { type: 'txnCommitLocks', proposedTs: 21, txnId: 't1', commitTs: 500, primary: b('x') });
    const r = await apply1(sm, { type: 'put', proposedTs: 22, key: b('z'), value: b('1') });
    assert.ok(r.type === 'put' && r.version > 500, JSON.stringify(r));
  });

  it('a commit ts below a lock prepare ts is refused (readers rely on commitTs >= prepTs)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'x', writes: [put('x', '1')] }));
    assert.equal(status(await apply1(sm, { type: 'txnCommitLocks', proposedTs: 21, txnId: 't1', commitTs: 19, primary: b('x') })), 'INVALID_ARGUMENT');
  });

  it('plain writes, batches, deleteRange and one-range commits over a locked key are refused KEY_LOCKED — never stored in the session table', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'x', reads: ['r'], writes: [put('x', '1')] }));
    const session = { clientId: 'c', seq: 1, firstUnacked: 1 };
    const refused = await apply1(sm, { type: 'put', proposedTs: 21, key: b('x'), value: b('2'), session });
    assert.equal(status(refused), 'KEY_LOCKED');
    assert.ok(refused.type === 'error' && refused.lock?.txnId === 't1' && refused.lock.primary.equals(b('x')));
    // A read lock blocks writers too.
    assert.equal(status(await apply1(sm, { type: 'put', proposedTs: 22, key: b('r'), value: b('2') })), 'KEY_LOCKED');
    assert.equal(status(await apply1(sm, { type: 'batch', proposedTs: 22, mutations: [put('q', '1'), put('x', '2')] })), 'KEY_LOCKED');
    assert.equal(status(await apply1(sm, { type: 'deleteRange', proposedTs: 22, start: b('w'), end: b('y'), maxKeys: 10 })), 'KEY_LOCKED');
    assert.equal(status(await apply1(sm, { type: 'txnCommit', proposedTs: 23, startTs: 22, readKeys: [b('x')], readRanges: [], writes: [put('other', '1')] })), 'KEY_LOCKED');
    // ...but a one-range transaction that only READS a read-locked key is fine (shared).
    assert.equal(status(await apply1(sm, { type: 'txnCommit', proposedTs: 24, startTs: 23, readKeys: [b('r')], readRanges: [], writes: [put('other', '1')] })), 'txnCommit');
    // Other keys are unaffected.
    assert.equal(status(await apply1(sm, { type: 'put', proposedTs: 25, key: b('q'), value: b('1') })), 'put');
    await apply1(sm, { type: 'txnCommitLocks', proposedTs: 26, txnId: 't1', commitTs: 26, primary: b('x') });
    // The refused seq was not stored: the same seq applies now.
    const again = await apply1(sm, { type: 'put', proposedTs: 27, key: b('x'), value: b('2'), session });
    assert.equal(status(again), 'put');
  });

  it('serializable prepare: write skew across two ranges is refused (read locks), allowed only with the unsafe SI switch (negative control)', async () => {
    for (const si of [false, true]) {
      // Two ranges, one state machine each (x on one, y on the other), both at start ts 10.
      const rx = await StateMachine.open(new MemoryEngine(), { unsafeSnapshotIsolation: si });
      const ry = await StateMachine.open(new MemoryEngine(), { unsafeSnapshotIsolation: si });
      // T1 reads x and y, writes x (primary x); T2 reads x and y, writes y (primary y).
      const t1x = await apply1(rx, prepare('T1', { ts: 20, startTs: 10, primary: 'x', writes: [put('x', '0')] }));
      const t1y = await apply1(ry, prepare('T1', { ts: 20, startTs: 10, primary: 'x', reads: ['y'] }));
      const t2y = await apply1(ry, prepare('T2', { ts: 21, startTs: 10, primary: 'y', writes: [put('y', '0')] }));
      const t2x = await apply1(rx, prepare('T2', { ts: 21, startTs: 10, primary: 'y', reads: ['x'] }));
      const both = [t1x, t1y, t2y, t2x].every((r) => r.type === 'txnStatus' && r.state === 'prepared');
      assert.equal(both, si, si ? 'SI lets both prepare (write skew)' : `serializable refuses one: ${[t1x, t1y, t2y, t2x].map(status).join(' ')}`);
    }
  });

  it('phantoms: a range lock keeps inserts out of a scanned span until the transaction resolves', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'p', ranges: [{ start: 'a', end: 'c' }], writes: [put('p', '1')] }));
    assert.equal(status(await apply1(sm, { type: 'put', proposedTs: 21, key: b('b'), value: b('1') })), 'KEY_LOCKED');
    assert.equal(status(await apply1(sm, { type: 'put', proposedTs: 21, key: b('c'), value: b('1') })), 'put');
    await apply1(sm, { type: 'txnRollbackLocks', proposedTs: 22, txnId: 't1', primary: b('p') });
    assert.equal(status(await apply1(sm, { type: 'put', proposedTs: 23, key: b('b'), value: b('1') })), 'put');
  });

  it('validation: a version above startTs on a read or written key is a conflict, nothing locked', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, { type: 'put', proposedTs: 30, key: b('x'), value: b('1') });
    assert.equal(status(await apply1(sm, prepare('t1', { ts: 31, startTs: 20, primary: 'y', reads: ['x'], writes: [put('y', '1')] }))), 'TXN_CONFLICT');
    assert.equal(status(await apply1(sm, prepare('t2', { ts: 31, startTs: 20, primary: 'x', writes: [put('x', '1')] }))), 'TXN_CONFLICT');
    assert.equal(sm.locks.lockCount, 0);
    // Blind (startTs 0: an atomic Batch) is not validated.
    assert.equal(status(await apply1(sm, prepare('b1', { ts: 32, startTs: 0, primary: 'x', writes: [put('x', '2')] }))), 'prepared@32');
  });

  it('check: alive during the TTL, then aborted once (record); a late commit or prepare of the primary is refused', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 100, startTs: 50, primary: 'x', ttl: 100, writes: [put('x', '1')] }));
    assert.equal(status(await apply1(sm, { type: 'txnCheck', proposedTs: 150, txnId: 't1', primary: b('x') })), 'alive@200');
    const ab = await apply1(sm, { type: 'txnCheck', proposedTs: 250, txnId: 't1', primary: b('x') });
    assert.ok(ab.type === 'txnStatus' && ab.state === 'aborted');
    assert.equal(sm.locks.lockCount, 0);
    assert.equal(status(await apply1(sm, { type: 'txnCommitLocks', proposedTs: 260, txnId: 't1', commitTs: 100, primary: b('x') })), 'TXN_CONFLICT');
    assert.equal(status(await apply1(sm, prepare('t1', { ts: 270, startTs: 50, primary: 'x', writes: [put('x', '1')] }))), 'TXN_CONFLICT');
    assert.equal(await mvccGet(sm['engine' as never] as never, b('x'), 1000), undefined);
  });

  it('check of a transaction whose primary never prepared records the abort (a late primary prepare cannot commit)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    const r = await apply1(sm, { type: 'txnCheck', proposedTs: 10, txnId: 'ghost', primary: b('x') });
    assert.ok(r.type === 'txnStatus' && r.state === 'aborted');
    assert.equal(status(await apply1(sm, prepare('ghost', { ts: 11, startTs: 5, primary: 'x', writes: [put('x', '1')] }))), 'TXN_CONFLICT');
  });

  it('one-phase commit point: the primary part is validated and written at a version >= every secondary prepare ts, the outcome recorded; idempotent', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    await apply1(sm, { type: 'put', proposedTs: 10, key: b('x'), value: b('old') });
    const onePhase = { startTs: 15, readKeys: [b('x')], readRanges: [], writes: [put('x', 'new')] };
    // commitTs 25 = the secondaries' largest prepare ts; this range is at 10, so the version is 25.
    const r = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 20, txnId: 't1', commitTs: 25, primary: b('x'), onePhase });
    assert.equal(status(r), 'committed@25');
    assert.equal((await mvccGet(e, b('x'), 25))!.value.toString(), 'new');
    assert.equal((await mvccGet(e, b('x'), 24))!.value.toString(), 'old');
    assert.equal(sm.locks.record('t1')?.state, 'committed');
    assert.equal(sm.locks.lockCount, 0, 'the primary range never holds a lock');
    // A retry (lost reply) answers the record and writes nothing.
    assert.equal(status(await apply1(sm, { type: 'txnCommitLocks', proposedTs: 40, txnId: 't1', commitTs: 25, primary: b('x'), onePhase })), 'committed@25');
    assert.equal((await mvccGet(e, b('x'), 1000))!.version, 25);
    // A range already past the secondaries' prepare ts commits above its own last version.
    await apply1(sm, { type: 'put', proposedTs: 100, key: b('w'), value: b('1') });
    const r2 = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 50, txnId: 't2', commitTs: 60, primary: b('v'), onePhase: { startTs: 90, readKeys: [], readRanges: [], writes: [put('v', '1')] } });
    assert.equal(status(r2), 'committed@101');
  });

  it('check without a primary lock (one-phase primary): alive while the met lock\'s TTL runs, then aborted — and the late commit point is refused', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    assert.equal(status(await apply1(sm, { type: 'txnCheck', proposedTs: 150, txnId: 't9', primary: b('x'), lockExpiresTs: 200 })), 'alive@200');
    assert.equal(sm.locks.record('t9'), undefined, 'nothing decided while alive');
    const ab = await apply1(sm, { type: 'txnCheck', proposedTs: 200, txnId: 't9', primary: b('x'), lockExpiresTs: 200 });
    assert.ok(ab.type === 'txnStatus' && ab.state === 'aborted');
    const late = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 210, txnId: 't9', commitTs: 190, primary: b('x'), onePhase: { startTs: 100, readKeys: [], readRanges: [], writes: [put('x', '1')] } });
    assert.equal(status(late), 'TXN_CONFLICT');
  });

  it('a check with an expiry no clock reaches (the resolver\'s early check) decides nothing: alive — even past a primary lock\'s TTL — until an outcome is recorded', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    const never = Number.MAX_SAFE_INTEGER;
    assert.equal(status(await apply1(sm, { type: 'txnCheck', proposedTs: 1e12, txnId: 'q1', primary: b('x'), lockExpiresTs: never })), `alive@${never}`);
    assert.equal(sm.locks.record('q1'), undefined, 'no abort recorded without a primary lock');
    await apply1(sm, prepare('q2', { ts: 100, startTs: 50, primary: 'y', ttl: 100, writes: [put('y', '1')] }));
    assert.equal(status(await apply1(sm, { type: 'txnCheck', proposedTs: 1e12, txnId: 'q2', primary: b('y'), lockExpiresTs: never })), `alive@${never}`);
    assert.equal(sm.locks.lockCount, 1, 'the primary lock past its TTL is not aborted by it');
    await apply1(sm, { type: 'txnCommitLocks', proposedTs: 120, txnId: 'q2', commitTs: 110, primary: b('y') });
    assert.equal(status(await apply1(sm, { type: 'txnCheck', proposedTs: 130, txnId: 'q2', primary: b('y'), lockExpiresTs: never })), 'committed@110');
  });

  it('one-phase commit point refusals: a conflict on its read set, a live lock in the way, an abort recorded first — nothing written', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    await apply1(sm, { type: 'put', proposedTs: 20, key: b('x'), value: b('v20') });
    const conflict = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 30, txnId: 'c1', commitTs: 30, primary: b('y'), onePhase: { startTs: 15, readKeys: [b('x')], readRanges: [], writes: [put('y', '1')] } });
    assert.equal(status(conflict), 'TXN_CONFLICT');
    assert.equal(await mvccGet(e, b('y'), 1000), undefined);
    // Another transaction's read lock on the key this one writes.
    await apply1(sm, prepare('other', { ts: 40, startTs: 35, primary: 'o', reads: ['z'], writes: [put('o2', '1')] }));
    const locked = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 41, txnId: 'c2', commitTs: 41, primary: b('z'), onePhase: { startTs: 39, readKeys: [], readRanges: [], writes: [put('z', '1')] } });
    assert.equal(status(locked), 'KEY_LOCKED');
    // A resolver found a secondary lock of c3 past its TTL and no record here: it recorded the abort.
    const ab = await apply1(sm, { type: 'txnCheck', proposedTs: 50, txnId: 'c3', primary: b('q') });
    assert.ok(ab.type === 'txnStatus' && ab.state === 'aborted');
    const late = await apply1(sm, { type: 'txnCommitLocks', proposedTs: 51, txnId: 'c3', commitTs: 51, primary: b('q'), onePhase: { startTs: 45, readKeys: [], readRanges: [], writes: [put('q', '1')] } });
    assert.equal(status(late), 'TXN_CONFLICT');
    assert.equal(await mvccGet(e, b('q'), 1000), undefined);
  });

  it('rollback after the commit point answers committed (it cannot undo a decided transaction)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'x', writes: [put('x', '1')] }));
    await apply1(sm, { type: 'txnCommitLocks', proposedTs: 21, txnId: 't1', commitTs: 20, primary: b('x') });
    assert.equal(status(await apply1(sm, { type: 'txnRollbackLocks', proposedTs: 22, txnId: 't1', primary: b('x') })), 'committed@20');
  });

  it('a secondary commit with no locks left is a no-op (resolved twice)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'p', writes: [put('s', '1')] }));
    assert.equal(status(await apply1(sm, { type: 'txnCommitLocks', proposedTs: 21, txnId: 't1', commitTs: 30 })), 'committed@30');
    const before = sm.lastTs;
    assert.equal(status(await apply1(sm, { type: 'txnCommitLocks', proposedTs: 22, txnId: 't1', commitTs: 30 })), 'committed@30');
    assert.equal(sm.lastTs, before, 'nothing applied');
    assert.equal(sm.locks.record('t1'), undefined, 'secondaries keep no record');
  });

  it('a split keeps the left half\'s locks, the right half loads its own, range locks are clipped to both', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e, { groupId: 7 });
    sm.setDescriptor({ rangeId: 7, start: Buffer.alloc(0), end: Buffer.alloc(0), epoch: { confVer: 1, version: 1 }, replicas: [{ storeId: 1, peerId: 1, role: 'voter' }] });
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'a', ranges: [{ start: 'b', end: 'y' }], writes: [put('a', '1'), put('z', '1')] }));
    const r = await apply1(sm, { type: 'split', proposedTs: 21, splitKey: b('m'), newRangeId: 8, expectVersion: 1 });
    assert.equal(r.type, 'split');
    assert.deepEqual(sm.locks.locksOf('t1').map((l) => l.key.toString()), ['a']);
    assert.deepEqual(sm.locks.allRangeLocks.map((l) => `${l.start.toString()}-${l.end.toString()}`), ['b-m']);
    const right = await StateMachine.open(e, { groupId: 8 });
    assert.deepEqual(right.locks.locksOf('t1').map((l) => l.key.toString()), ['z']);
    assert.deepEqual(right.locks.allRangeLocks.map((l) => `${l.start.toString()}-${l.end.toString()}`), ['m-y']);
    // The right half's write into its part of the scanned span is blocked; its secondary commit works.
    assert.equal(status(await apply1(right, { type: 'put', proposedTs: 22, key: b('n'), value: b('1') })), 'KEY_LOCKED');
    assert.equal(status(await apply1(right, { type: 'txnCommitLocks', proposedTs: 23, txnId: 't1', commitTs: 20 })), 'committed@20');
    assert.equal(status(await apply1(right, { type: 'put', proposedTs: 24, key: b('n'), value: b('1') })), 'put');
  });

  it('lock records round-trip (write put / write delete / read)', () => {
    const base: Omit<TxnLock, 'kind'> = { txnId: 't', key: b('k'), primary: b('p'), startTs: 1, prepTs: 2, ttlTs: 3 };
    for (const l of [{ ...base, kind: 'write' as const, mutation: put('k', 'v') }, { ...base, kind: 'write' as const, mutation: { op: 'delete' as const, key: b('k') } }, { ...base, kind: 'read' as const }]) {
      assert.deepEqual(decodeLock(b('k'), 't', encodeLock(l)), l);
    }
  });
});

describe('cross-range transaction locks (reads on a LocalStore)', () => {
  it('a read at ts >= a write lock\'s prepare ts is refused KeyLocked; below it, or a read lock, is served', async () => {
    const store = await LocalStore.open({ engine: new MemoryEngine(), gcIntervalMs: 0 });
    try {
      await store.put(b('x'), b('old'));
      const before = store.readableTs;
      const prepTs = await store.prepareTxn({ txnId: 't1', startTs: before, primary: b('x'), ttlTs: 1_000_000, readKeys: [b('r')], readRanges: [], writes: [put('x', 'new')] });
      await assert.rejects(store.get(b('x')), (e: unknown) => e instanceof KeyLockedError && e.lock.txnId === 't1');
      await assert.rejects(store.scan({ start: b('a'), end: b('z') }), KeyLockedError);
      assert.equal((await store.get(b('x'), { snapshotTs: before })).value?.toString(), 'old', 'a snapshot below the prepare ts ignores the lock');
      assert.equal((await store.get(b('r'))).found, false, 'read locks do not block readers');
      // A one-range transaction at a later snapshot meets it too.
      const tx = await store.begin();
      await assert.rejects(store.get(b('x'), { txnId: tx.txnId }), KeyLockedError);
      await store.rollback(tx.txnId);
      const c = await store.commitTxnLocks('t1', prepTs, { primary: b('x') });
      assert.equal(c.commitTs, prepTs);
      assert.equal((await store.get(b('x'))).value?.toString(), 'new');
      assert.equal((await store.checkTxn('t1', b('x'))).state, 'committed');
    } finally {
      await store.close();
    }
  });

  it('a get reads through the write lock of a transaction the store knows decided (knownTxnOutcome); unknown: KeyLocked as before (control)', async () => {
    let known: { state: 'committed' | 'aborted'; ts: number } | undefined;
    const asked: string[] = [];
    const store = await LocalStore.open({
      engine: new MemoryEngine(),
      gcIntervalMs: 0,
      knownTxnOutcome: (txnId, primary) => {
        asked.push(`${txnId}/${primary.toString()}`);
        return known;
      },
    });
    try {
      await store.put(b('x'), b('old'));
      await store.put(b('y'), b('gone?'));
      const start = store.readableTs;
      const prepTs = await store.prepareTxn({ txnId: 't1', startTs: start, primary: b('p'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('x', 'new'), { op: 'delete', key: b('y') }] });
      // Control: an outcome the store does not know leaves the lock to the resolver.
      await assert.rejects(store.get(b('x')), (e: unknown) => e instanceof KeyLockedError && e.lock.txnId === 't1');
      assert.deepEqual(asked, ['t1/p'], 'asked about the lock\'s transaction and its primary');
      // Committed at or below the read ts: the lock's own write is the value.
      const readTs = (await store.get(b('unlocked'))).readTs;
      assert.ok(readTs >= prepTs);
      known = { state: 'committed', ts: prepTs };
      const got = await store.get(b('x'));
      assert.equal(got.value?.toString(), 'new');
      assert.equal(got.version, prepTs);
      assert.equal((await store.get(b('y'))).found, false, 'a committed delete reads as absent');
      // Committed above the read ts: invisible at a snapshot below it, the stored version answers...
      known = { state: 'committed', ts: prepTs + 1_000 };
      assert.equal((await store.get(b('x'), { snapshotTs: prepTs })).value?.toString(), 'old');
      assert.equal((await store.get(b('y'), { snapshotTs: prepTs })).value?.toString(), 'gone?');
      // ...but a current read must see a write that may have been acknowledged already (its commit ts
      // came from another range, above this one's applied ts): it settles the lock first, as before.
      await assert.rejects(store.get(b('x')), KeyLockedError);
      // Aborted: invisible at every ts.
      known = { state: 'aborted', ts: prepTs };
      assert.equal((await store.get(b('x'))).value?.toString(), 'old');
      // The lock was only read through, never settled: still there for its commit (or a resolver).
      known = undefined;
      await assert.rejects(store.get(b('x')), KeyLockedError);
      await store.commitTxnLocks('t1', prepTs); // a secondary's commit (the primary 'p' is elsewhere)
      assert.equal((await store.get(b('x'))).value?.toString(), 'new', 'the commit wrote what the read-through returned');
    } finally {
      await store.close();
    }
  });

  it('a lock released by an applied batch still blocks readers until that batch is published (no committed version missed)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', { ts: 20, startTs: 15, primary: 'x', writes: [put('x', '1')] }));
    const r = await sm.apply([{ type: 'txnCommitLocks', proposedTs: 21, txnId: 't1', commitTs: 20, primary: b('x') }]);
    assert.equal(sm.locks.readBlocker(b('x'), 100), undefined, 'apply-time view: released');
    assert.ok(sm.locks.readerBlocker(b('x'), 100) !== undefined, 'read-path view: still held until published');
    sm.locks.published(r.lastTs);
    assert.equal(sm.locks.readerBlocker(b('x'), 100), undefined);
  });
});
