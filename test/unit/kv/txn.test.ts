import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { StoreObserver } from '../../../node/src/kv/api.js';
import { OutcomeUnknownError, TxnConflictError, TxnNotFoundError, TxnReadOnlyError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (x: Buffer | undefined): string | undefined => x?.toString('latin1');

function outcomes(): { observer: StoreObserver; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return { counts, observer: { onTxnFinished: (o) => void (counts[o] = (counts[o] ?? 0) + 1) } };
}

describe('interactive transactions', function () {
  this.timeout(60_000);
  let s: LocalStore;
  let counts: Record<string, number>;
  beforeEach(async () => {
    const o = outcomes();
    counts = o.counts;
    s = await LocalStore.open({ gcIntervalMs: 0, observer: o.observer });
  });
  afterEach(async () => {
    await s.close();
  });

  it('reads its own writes (get and scan), isolated from others until commit', async () => {
    await s.batch([{ op: 'put', key: b('a'), value: b('0') }, { op: 'put', key: b('c'), value: b('0') }, { op: 'put', key: b('d'), value: b('0') }]);
    const t = await s.begin();
    await s.put(b('b'), b('1'), { txnId: t.txnId });
    await s.put(b('a'), b('1'), { txnId: t.txnId });
    assert.equal((await s.delete(b('c'), { txnId: t.txnId })).deleted, true);
    assert.equal(str((await s.get(b('b'), { txnId: t.txnId })).value), '1');
    assert.equal((await s.get(b('c'), { txnId: t.txnId })).found, false);
    const sc = await s.scan({ txnId: t.txnId });
    assert.deepEqual(sc.kvs.map((x) => `${str(x.key)}=${str(x.value)}`), ['a=1', 'b=1', 'd=0']);
    const rev = await s.scan({ txnId: t.txnId, reverse: true, limit: 2 });
    assert.deepEqual(rev.kvs.map((x) => str(x.key)), ['d', 'b']);
    assert.equal(rev.more, true);
    assert.equal((await s.get(b('b'))).found, false, 'not visible outside before commit');
    const { commitTs } = await s.commit(t.txnId);
    assert.ok(commitTs > t.startTs);
    const g = await s.get(b('b'));
    assert.equal(g.version, commitTs);
    assert.equal((await s.get(b('c'))).found, false);
    assert.equal(counts.committed, 1);
  });

  it('reads a stable snapshot at startTs', async () => {
    await s.put(b('k'), b('before'));
    const t = await s.begin();
    await s.put(b('k'), b('after'));
    assert.equal(str((await s.get(b('k'), { txnId: t.txnId })).value), 'before');
    assert.equal((await s.scan({ txnId: t.txnId })).kvs.length, 1);
    await s.rollback(t.txnId);
    assert.equal(counts.rolled_back, 1);
  });

  it('prevents write skew (two doctors on call): one of the two commits aborts', async () => {
    await s.batch([{ op: 'put', key: b('oncall/alice'), value: b('1') }, { op: 'put', key: b('oncall/bob'), value: b('1') }]);
    const goOff = async (txnId: string, me: string): Promise<void> => {
      const r = await s.scan({ prefix: b('oncall/'), txnId });
      const onCall = r.kvs.filter((x) => str(x.value) === '1').length;
      assert.equal(onCall, 2);
      await s.put(b(`oncall/${me}`), b('0'), { txnId });
    };
    const t1 = await s.begin();
    const t2 = await s.begin();
    await goOff(t1.txnId, 'alice');
    await goOff(t2.txnId, 'bob');
    const results = await Promise.allSettled([s.commit(t1.txnId), s.commit(t2.txnId)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(failed.reason instanceof TxnConflictError);
    const still = (await s.scan({ prefix: b('oncall/') })).kvs.filter((x) => str(x.value) === '1').length;
    assert.equal(still, 1, 'someone stays on call');
    assert.equal(counts.conflict, 1);
  });

  it('prevents phantoms through scanned ranges', async () => {
    await s.batch([{ op: 'put', key: b('emp/1'), value: b('x') }]);
    const t1 = await s.begin();
    const n = (await s.scan({ prefix: b('emp/'), txnId: t1.txnId })).kvs.length;
    await s.put(b('emp/2'), b('y')); // a concurrent insert into the scanned range
    await s.put(b('count'), b(String(n)), { txnId: t1.txnId });
    await assert.rejects(s.commit(t1.txnId), (e: unknown) => e instanceof TxnConflictError && str(e.key) === 'emp/2');
  });

  it('a limited scan only protects the part it returned', async () => {
    await s.batch(['r/1', 'r/2', 'r/3', 'r/4'].map((k) => ({ op: 'put' as const, key: b(k), value: b('v') })));
    const t1 = await s.begin();
    const r = await s.scan({ prefix: b('r/'), limit: 2, txnId: t1.txnId });
    assert.deepEqual(r.kvs.map((x) => str(x.key)), ['r/1', 'r/2']);
    await s.put(b('r/4'), b('changed')); // beyond what t1 saw (r/3 decided `more`)
    await s.put(b('out'), b('1'), { txnId: t1.txnId });
    assert.ok((await s.commit(t1.txnId)).commitTs > 0);
    const t2 = await s.begin();
    await s.scan({ prefix: b('r/'), limit: 2, txnId: t2.txnId });
    await s.put(b('r/15'), b('phantom')); // inside what t2 saw
    await s.put(b('out'), b('2'), { txnId: t2.txnId });
    await assert.rejects(s.commit(t2.txnId), (e: unknown) => e instanceof TxnConflictError && str(e.key) === 'r/15');
  });

  it('a limited scan also protects the key that made `more` true', async () => {
    await s.batch(['m/a', 'm/b', 'm/c'].map((k) => ({ op: 'put' as const, key: b(k), value: b('v') })));
    const t = await s.begin();
    const r = await s.scan({ prefix: b('m/'), reverse: true, limit: 2, txnId: t.txnId });
    assert.deepEqual([r.kvs.map((x) => str(x.key)), r.more], [['m/c', 'm/b'], true]);
    await s.delete(b('m/a')); // would turn `more` false
    await s.put(b('out'), b('1'), { txnId: t.txnId });
    await assert.rejects(s.commit(t.txnId), (e: unknown) => e instanceof TxnConflictError && str(e.key) === 'm/a');
  });

  it('the conflict error names the key and its commit ts', async () => {
    const t = await s.begin();
    await s.get(b('x'), { txnId: t.txnId });
    const w = await s.put(b('x'), b('other'));
    await s.put(b('y'), b('mine'), { txnId: t.txnId });
    await assert.rejects(s.commit(t.txnId), (e: unknown) => e instanceof TxnConflictError && str(e.key) === 'x' && e.conflictTs === w.version && e.retryable);
    await assert.rejects(s.commit(t.txnId), TxnConflictError, 'a retried commit reports the same outcome');
  });

  it('write-write conflicts abort the later committer (first committer wins)', async () => {
    const t1 = await s.begin();
    const t2 = await s.begin();
    await s.put(b('w'), b('1'), { txnId: t1.txnId });
    await s.put(b('w'), b('2'), { txnId: t2.txnId });
    await s.commit(t1.txnId);
    await assert.rejects(s.commit(t2.txnId), TxnConflictError);
    assert.equal(str((await s.get(b('w'))).value), '1');
  });

  it('CAS inside a transaction evaluates against the transaction view', async () => {
    await s.put(b('c'), b('1'));
    const t = await s.begin();
    assert.equal((await s.put(b('c'), b('2'), { txnId: t.txnId, expectedValue: b('1') })).succeeded, true);
    const f = await s.put(b('c'), b('3'), { txnId: t.txnId, expectedValue: b('1') });
    assert.equal(f.succeeded, false);
    assert.equal(str(f.prevValue), '2');
    await s.commit(t.txnId);
    assert.equal(str((await s.get(b('c'))).value), '2');
  });

  it('read-only and empty transactions commit without a command', async () => {
    const before = s.commitStats.groups;
    const t = await s.begin({ readOnly: true });
    await s.get(b('a'), { txnId: t.txnId });
    await assert.rejects(s.put(b('a'), b('1'), { txnId: t.txnId }), TxnReadOnlyError);
    assert.deepEqual(await s.commit(t.txnId), { commitTs: 0 });
    const t2 = await s.begin();
    await s.get(b('a'), { txnId: t2.txnId });
    assert.deepEqual(await s.commit(t2.txnId), { commitTs: 0 });
    assert.equal(s.commitStats.groups, before);
  });

  it('unknown and finished transactions: TxnNotFoundError; commit retries are idempotent', async () => {
    await assert.rejects(s.get(b('a'), { txnId: 'nope' }), TxnNotFoundError);
    // Unknown here and no session: whether it committed elsewhere cannot be known.
    await assert.rejects(s.commit('nope'), OutcomeUnknownError);
    // With a session the retry is resolved through the log: fenced, certainly not committed.
    await assert.rejects(s.commit('nope', { session: { clientId: 'fence', seq: 1, firstUnacked: 1 } }), TxnNotFoundError);
    await assert.rejects(s.rollback('nope'), TxnNotFoundError);
    const t = await s.begin();
    await s.put(b('a'), b('1'), { txnId: t.txnId });
    const session = { clientId: 'cl', seq: 1, firstUnacked: 1 };
    const [c1, c2] = await Promise.all([s.commit(t.txnId, { session }), s.commit(t.txnId, { session })]);
    assert.deepEqual(c1, c2);
    assert.deepEqual(await s.commit(t.txnId, { session }), c1);
    await assert.rejects(s.put(b('a'), b('2'), { txnId: t.txnId }), TxnNotFoundError);
    await assert.rejects(s.rollback(t.txnId), TxnNotFoundError);
  });

  it('an idle transaction times out: rolled back, unregistered, GC no longer pinned', async () => {
    const o = outcomes();
    const st = await LocalStore.open({ gcIntervalMs: 0, txnIdleTimeoutMs: 400, gcLifetimeMs: 0, observer: o.observer });
    try {
      await st.put(b('k'), b('1'));
      const t = await st.begin();
      await st.put(b('k'), b('2'), { txnId: t.txnId });
      await new Promise((r) => setTimeout(r, 250));
      await st.get(b('k'), { txnId: t.txnId }); // activity refreshes the timer
      await new Promise((r) => setTimeout(r, 250));
      assert.equal((await st.status()).activeTxns, 1, 'still active 500 ms after begin, 250 ms after the last activity');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await st.status()).activeTxns, 0);
      assert.equal(o.counts.timed_out, 1);
      await assert.rejects(st.get(b('k'), { txnId: t.txnId }), (e: unknown) => e instanceof TxnNotFoundError && /timed out/.test(e.message));
      await assert.rejects(st.commit(t.txnId), TxnNotFoundError);
      await st.put(b('k'), b('3'));
      await st.runGc();
      assert.ok((await st.status()).safePoint > t.startTs);
      // A per-transaction timeout overrides the default.
      const t2 = await st.begin({ idleTimeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(str((await st.get(b('k'), { txnId: t2.txnId })).value), '3');
    } finally {
      await st.close();
    }
  });

  it('concurrent bank transfers keep the total constant (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(4), fc.nat(4), fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (transfers, workers) => {
          const o = outcomes();
          const bank = await LocalStore.open({ gcIntervalMs: 0, observer: o.observer });
          try {
            const accounts = [0, 1, 2, 3, 4].map((i) => b(`acct/${i}`));
            await bank.batch(accounts.map((key) => ({ op: 'put' as const, key, value: b('100') })));
            const total = async (snapshotTs?: number): Promise<number> => {
              const r = await bank.scan({ prefix: b('acct/'), snapshotTs });
              return r.kvs.reduce((sum, kv) => sum + Number(str(kv.value)), 0);
            };
            const transfer = async (from: number, to: number, amount: number): Promise<void> => {
              for (let attempt = 0; ; attempt++) {
                const t = await bank.begin();
                try {
                  const a = Number(str((await bank.get(accounts[from]!, { txnId: t.txnId })).value));
                  const c = Number(str((await bank.get(accounts[to]!, { txnId: t.txnId })).value));
                  if (a < amount || from === to) {
                    await bank.commit(t.txnId);
                    return;
                  }
                  await bank.put(accounts[from]!, b(String(a - amount)), { txnId: t.txnId });
                  await bank.put(accounts[to]!, b(String(c + amount)), { txnId: t.txnId });
                  await bank.commit(t.txnId);
                  return;
                } catch (e) {
                  if (!(e instanceof TxnConflictError) || attempt > 100) throw e;
                }
              }
            };
            let next = 0;
            let audits = 0;
            const worker = async (): Promise<void> => {
              while (next < transfers.length) {
                const [f, t, amt] = transfers[next++]!;
                await transfer(f, t, amt);
                assert.equal(await total(), 500, 'a concurrent audit sees the invariant');
                audits++;
              }
            };
            await Promise.all(Array.from({ length: workers }, worker));
            assert.equal(await total(), 500);
            assert.equal(audits, transfers.length);
            const balances = await bank.scan({ prefix: b('acct/') });
            assert.ok(balances.kvs.every((kv) => Number(str(kv.value)) >= 0), 'no overdraft');
            assert.equal((await bank.status()).activeTxns, 0);
          } finally {
            await bank.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
