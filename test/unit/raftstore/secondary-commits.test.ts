import { strict as assert } from 'node:assert';
import type { TxnParticipant } from '../../../node/src/kv/txn-steps.js';
import { SECONDARY_HOLD_MS, SecondaryCommits, storeSecondaryHoldMs } from '../../../node/src/raftstore/secondary-commits.js';
import { KeyLockedError } from '../../../node/src/kv/errors.js';
import { LockResolver } from '../../../node/src/raftstore/lock-resolver.js';
import { commitTwoPhase } from '../../../node/src/raftstore/txn-coordinator.js';

/** A range whose commits are answered when the test says so; records what arrived together. */
function fakeRange(rangeId: number): { p: TxnParticipant; batches: string[][]; answer: (fail?: boolean) => void } {
  const batches: string[][] = [];
  let pending: Array<{ txnId: string; resolve: () => void; reject: (e: Error) => void }> = [];
  let scheduled = false;
  const p: TxnParticipant = {
    rangeId,
    commitTxnLocks: (txnId, commitTs) =>
      new Promise((resolve, reject) => {
        pending.push({ txnId, resolve: () => resolve({ txnId, commitTs }), reject });
        // Commands submitted in one event-loop turn form one batch (what shares one Raft round).
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(() => {
            scheduled = false;
            batches.push(pending.map((c) => c.txnId));
          });
        }
      }),
    prepareTxn: () => Promise.reject(new Error('unused')),
    stageTxn: () => Promise.reject(new Error('unused')),
    checkPart: () => Promise.reject(new Error('unused')),
    rollbackTxnLocks: () => Promise.reject(new Error('unused')),
    checkTxn: () => Promise.reject(new Error('unused')),
    fence: () => Promise.reject(new Error('unused')),
  };
  const answer = (fail = false): void => {
    const now = pending;
    pending = [];
    for (const c of now) (fail ? c.reject(new Error('lost')) : c.resolve());
  };
  return { p, batches, answer };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('raftstore/secondary-commits: secondaries coalesced per range', () => {
  it('one batch in flight per range: commits arriving meanwhile go together in the next', async () => {
    const c = new SecondaryCommits(undefined, { holdMs: 0 }); // the hold is tested below
    const r = fakeRange(7);
    c.commit(r.p, 't1', 10);
    await tick();
    c.commit(r.p, 't2', 11);
    c.commit(r.p, 't3', 12);
    c.commit(r.p, 't4', 13);
    await tick();
    assert.deepEqual(r.batches, [['t1']], 'nothing more is submitted while the first batch is in flight');
    r.answer();
    await tick();
    assert.deepEqual(r.batches, [['t1'], ['t2', 't3', 't4']]);
    const idle = c.idle();
    r.answer();
    await idle;
  });

  it('ranges do not wait for each other; a failed commit is logged and the queue goes on', async () => {
    const warned: string[] = [];
    const log = { warn: (msg: string) => warned.push(msg), info: () => undefined, error: () => undefined, debug: () => undefined } as never;
    const c = new SecondaryCommits(log, { holdMs: 0 });
    const a = fakeRange(1);
    const b2 = fakeRange(2);
    c.commit(a.p, 'x1', 1);
    c.commit(b2.p, 'y1', 1);
    await tick();
    assert.deepEqual([a.batches, b2.batches], [[['x1']], [['y1']]]);
    c.commit(a.p, 'x2', 2);
    a.answer(true);
    await tick();
    assert.equal(warned.length, 1);
    assert.deepEqual(a.batches, [['x1'], ['x2']]);
    a.answer();
    b2.answer();
    await c.idle();
  });
});

// Held commits (the default): a held commit goes when its hold runs out, at once when this coordinator
// proposes to its range (ride) — in the same event-loop turn, before that proposal — or when a reader
// here meets its lock (hurry).
const b = (s: string): Buffer => Buffer.from(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A range that records, in one shared log, every command sent to it. */
function recordingRange(rangeId: number, log: string[]): TxnParticipant {
  return {
    rangeId,
    prepareTxn: (r) => {
      log.push(`prepare ${r.txnId}@${rangeId}`);
      return Promise.resolve(10);
    },
    stageTxn: () => Promise.reject(new Error('unused')),
    checkPart: () => Promise.reject(new Error('unused')),
    commitTxnLocks: (txnId, _ts, o) => {
      log.push(`${o?.onePhase !== undefined ? 'commit-point' : o?.primary !== undefined ? 'record' : 'commit'} ${txnId}@${rangeId}`);
      return Promise.resolve({ commitTs: 11, txnId });
    },
    rollbackTxnLocks: () => Promise.resolve('aborted' as const),
    checkTxn: () => Promise.reject(new Error('unused')),
    fence: () => Promise.reject(new Error('unused')),
  };
}

describe('raftstore/secondary-commits: held commits ride the range\'s next proposal', () => {
  it('holds a commit until its hold runs out', async () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 30 });
    sc.commit(recordingRange(2, log), 'A', 11);
    await sleep(10);
    assert.deepEqual(log, [], 'still held');
    await sc.idle();
    assert.deepEqual(log, ['commit A@2']);
  });

  it('a store holds SECONDARY_HOLD_MS (10 ms) by default; the class alone holds nothing unless told', async () => {
    assert.equal(SECONDARY_HOLD_MS, 10);
    const log: string[] = [];
    new SecondaryCommits().commit(recordingRange(2, log), 'A', 11);
    assert.deepEqual(log, ['commit A@2'], 'sent at once');
    const sc = new SecondaryCommits(undefined, { holdMs: SECONDARY_HOLD_MS });
    sc.commit(recordingRange(3, log), 'B', 11);
    assert.deepEqual(log, ['commit A@2'], 'held');
    await sc.idle();
    assert.deepEqual(log, ['commit A@2', 'commit B@3']);
  });

  it('a store holds only with parallel commits (a two-round commit point cannot settle a held lock and retry)', () => {
    assert.equal(storeSecondaryHoldMs(true), SECONDARY_HOLD_MS);
    assert.equal(storeSecondaryHoldMs(true, 25), 25);
    assert.equal(storeSecondaryHoldMs(true, 0), 0);
    assert.equal(storeSecondaryHoldMs(false), 0);
    assert.equal(storeSecondaryHoldMs(false, 25), 0);
  });

  it('holdMs 0 sends at once (a round of its own), as before', () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 0 });
    sc.commit(recordingRange(2, log), 'A', 11);
    assert.deepEqual(log, ['commit A@2']);
  });

  it('ride sends the range\'s held commits in the same turn, and only that range\'s', async () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 10_000 });
    sc.commit(recordingRange(2, log), 'A', 11);
    sc.commit(recordingRange(3, log), 'A', 11);
    sc.commit(recordingRange(2, log), 'B', 12);
    sc.ride(2);
    assert.deepEqual(log, ['commit A@2', 'commit B@2'], 'range 2 synchronously; range 3 still held');
    sc.ride(4); // nothing held there: nothing happens
    sc.releaseAll();
    assert.deepEqual(log, ['commit A@2', 'commit B@2', 'commit A@3']);
    await sc.idle();
  });

  it('hurry sends the held commit of a transaction whose lock a reader met', async () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 10_000 });
    sc.commit(recordingRange(2, log), 'A', 11);
    assert.equal(sc.hurry('nobody'), false);
    assert.equal(sc.hurry('A'), true);
    assert.deepEqual(log, ['commit A@2']);
    await sc.idle();
  });

  it('a parallel commit\'s record (the primary\'s explicit commit) is never held: its secondaries wait for it', async () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 10_000 });
    sc.commit(recordingRange(1, log), 'A', 11, { primary: b('a') });
    assert.deepEqual(log, ['record A@1']);
    await sc.idle();
  });

  it('the next transaction\'s prepares carry the held commits of their ranges (sent just before them, same turn)', async () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 10_000 });
    const r1 = recordingRange(1, log);
    const r2 = recordingRange(2, log);
    const resolver = new LockResolver({ storeFor: () => Promise.reject(new Error('unused')), nowTs: () => 0 });
    const parts = () => [
      { store: r1, local: true, readKeys: [], readRanges: [], writes: [{ op: 'put' as const, key: b('a'), value: b('1') }] },
      { store: r2, local: true, readKeys: [], readRanges: [], writes: [{ op: 'put' as const, key: b('z'), value: b('1') }] },
    ];
    await commitTwoPhase(parts(), { txnId: 'A', startTs: 5, ttlTs: 1000, resolver, secondaries: sc });
    assert.deepEqual(log, ['prepare A@2', 'commit-point A@1'], 'A\'s secondary commit is held');
    await commitTwoPhase(parts(), { txnId: 'B', startTs: 6, ttlTs: 1000, resolver, secondaries: sc });
    assert.deepEqual(log.slice(2), ['commit A@2', 'prepare B@2', 'commit-point B@1'], 'A\'s commit went with B\'s prepare; B\'s is held');
    sc.releaseAll();
    await sc.idle();
    assert.deepEqual(log.slice(5), ['commit B@2']);
  });

  it('the lock resolver hurries a held commit instead of backing off for the lock\'s life', async () => {
    const log: string[] = [];
    const sc = new SecondaryCommits(undefined, { holdMs: 10_000 });
    sc.commit(recordingRange(2, log), 'A', 11);
    const resolver = new LockResolver({ storeFor: () => Promise.reject(new Error('unused')), nowTs: () => 0, hurry: (t) => sc.hurry(t) });
    const t0 = performance.now();
    // A live lock (TTL far away): without a held commit the resolver would back off 2^attempt ms.
    await resolver.resolve(new KeyLockedError(b('z'), { txnId: 'A', primary: b('a'), prepTs: 0, ttlTs: 1e12 }), 6);
    assert.ok(performance.now() - t0 < 30, 'a short backoff, not the 50 ms of attempt 6');
    assert.deepEqual(log, ['commit A@2']);
    await sc.idle();
  });

  it('committedTs knows a transaction while any of its commits is queued, held or in flight — the record\'s, then its secondaries\' — and forgets it after the last', async () => {
    const sc = new SecondaryCommits(undefined, { holdMs: 10_000 });
    const primary = fakeRange(1);
    const second = fakeRange(2);
    assert.equal(sc.committedTs('A'), undefined);
    sc.commit(primary.p, 'A', 42, { primary: b('a'), then: (ok) => ok && sc.commit(second.p, 'A', 42) });
    assert.equal(sc.committedTs('A'), 42, 'the record is in flight: the transaction is committed at 42');
    await tick();
    primary.answer(); // the record applied: its secondary is queued (held) before the record's commit is forgotten
    await tick();
    assert.equal(sc.committedTs('A'), 42, 'the secondary is held');
    sc.ride(2);
    await tick();
    assert.equal(sc.committedTs('A'), 42, 'the secondary is in flight');
    second.answer();
    await sc.idle();
    assert.equal(sc.committedTs('A'), undefined, 'nothing of it is left here: a reader settles or finds no lock');
    // A failed commit is forgotten too (readers then settle its locks through the primary, as before).
    sc.commit(second.p, 'B', 50);
    sc.ride(2);
    await tick();
    second.answer(true);
    await sc.idle();
    assert.equal(sc.committedTs('B'), undefined);
  });
});
