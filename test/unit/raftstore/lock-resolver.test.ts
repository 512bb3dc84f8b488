// The lock resolver's check of a live lock at its primary (raftstore/lock-resolver.ts): a lock older than
// EARLY_CHECK_AGE_MS is checked at once, without deciding anything; a recorded outcome settles it before
// its TTL ends (a coordinator that died after its commit point). Younger locks, and a primary that
// answers `alive`, only back off; checks are rate-limited per transaction.
import { strict as assert } from 'node:assert';
import { KeyLockedError } from '../../../node/src/kv/errors.js';
import type { TxnParticipant } from '../../../node/src/kv/txn-steps.js';
import { TS_PER_MS } from '../../../node/src/kv/state-machine.js';
import { EARLY_CHECK_AGE_MS, LockResolver, earlyCheckPolicy } from '../../../node/src/raftstore/lock-resolver.js';

const b = (s: string): Buffer => Buffer.from(s);

interface Script {
  /** What the primary's record says ('alive': none yet). */
  state: 'committed' | 'aborted' | 'alive';
  checks: Array<number | undefined>;
  settled: string[];
  fail?: boolean;
}

function host(s: Script, nowMs: () => number): ConstructorParameters<typeof LockResolver>[0] {
  const range: TxnParticipant = {
    rangeId: 1,
    prepareTxn: () => Promise.reject(new Error('unused')),
    stageTxn: () => Promise.reject(new Error('unused')),
    checkPart: () => Promise.reject(new Error('unused')),
    commitTxnLocks: (txnId, ts) => {
      s.settled.push(`commit ${txnId}@${ts}`);
      return Promise.resolve({ commitTs: ts, txnId });
    },
    rollbackTxnLocks: (txnId) => {
      s.settled.push(`rollback ${txnId}`);
      return Promise.resolve('aborted' as const);
    },
    checkTxn: (_t, _p, lockExpiresTs) => {
      s.checks.push(lockExpiresTs);
      if (s.fail === true) return Promise.reject(new Error('primary unreachable'));
      return Promise.resolve({ state: s.state, ts: s.state === 'committed' ? 77 : 0 });
    },
    fence: () => Promise.reject(new Error('unused')),
  };
  return { storeFor: () => Promise.resolve(range), nowTs: () => nowMs() * TS_PER_MS };
}

/** A live lock (TTL 3 s) prepared `ageMs` before `nowMs`. */
const lockOf = (txnId: string, nowMs: number, ageMs: number): KeyLockedError =>
  new KeyLockedError(b('z'), { txnId, primary: b('a'), prepTs: (nowMs - ageMs) * TS_PER_MS, ttlTs: 3000 * TS_PER_MS });

describe('raftstore/lock-resolver: a live lock checked at its primary before its TTL', () => {
  const now = 1_000_000;

  it('an old lock whose primary recorded the commit is rolled forward at once; the check decides nothing (an expiry no clock reaches)', async () => {
    const s: Script = { state: 'committed', checks: [], settled: [] };
    const r = new LockResolver(host(s, () => now));
    await r.resolve(lockOf('A', now, EARLY_CHECK_AGE_MS + 5), 1);
    assert.deepEqual(s.checks, [Number.MAX_SAFE_INTEGER]);
    assert.deepEqual(s.settled, ['commit A@77']);
    assert.equal(r.stats.earlySettled, 1);
  });

  it('an old lock whose primary recorded the abort is rolled back at once', async () => {
    const s: Script = { state: 'aborted', checks: [], settled: [] };
    await new LockResolver(host(s, () => now)).resolve(lockOf('A', now, 500), 1);
    assert.deepEqual(s.settled, ['rollback A']);
  });

  it('a young lock (mid-commit, most likely) is not checked: back off only', async () => {
    const s: Script = { state: 'committed', checks: [], settled: [] };
    await new LockResolver(host(s, () => now)).resolve(lockOf('A', now, EARLY_CHECK_AGE_MS / 2), 1);
    assert.deepEqual([s.checks, s.settled], [[], []]);
  });

  it('alive at the primary: back off; the same transaction is not checked again within the interval', async () => {
    const s: Script = { state: 'alive', checks: [], settled: [] };
    let t = now;
    const r = new LockResolver(host(s, () => t));
    await r.resolve(lockOf('A', t, 500), 1);
    await r.resolve(lockOf('A', t, 500), 2);
    assert.equal(s.checks.length, 1, 'rate-limited');
    t += EARLY_CHECK_AGE_MS;
    await r.resolve(lockOf('A', t, 600), 3);
    assert.equal(s.checks.length, 2, 'checked again after the interval');
    assert.deepEqual(s.settled, []);
    assert.deepEqual([r.stats.earlyChecks, r.stats.earlySettled], [2, 0]);
  });

  it('where secondary commits are held, any lock met is checked at once, at most once a millisecond per transaction (a held lock of a committed transaction settled by a reader elsewhere)', async () => {
    assert.deepEqual(earlyCheckPolicy(0), { ageMs: EARLY_CHECK_AGE_MS, intervalMs: EARLY_CHECK_AGE_MS }, 'no hold: as before');
    assert.deepEqual(earlyCheckPolicy(10), { ageMs: 0, intervalMs: 1 });
    const s: Script = { state: 'alive', checks: [], settled: [] };
    let t = now;
    const r = new LockResolver(host(s, () => t), { earlyCheck: earlyCheckPolicy(10) });
    await r.resolve(lockOf('A', t, 0), 1);
    await r.resolve(lockOf('A', t, 0), 2);
    assert.equal(s.checks.length, 1, 'a just-prepared lock is checked; again within the millisecond is not');
    t += 1;
    s.state = 'committed';
    await r.resolve(lockOf('A', t, 1), 3);
    assert.deepEqual(s.settled, ['commit A@77'], 'committed meanwhile (its commit held elsewhere): settled here');
    // The control: the default policy leaves the same young lock to its backoff.
    const s2: Script = { state: 'committed', checks: [], settled: [] };
    await new LockResolver(host(s2, () => now)).resolve(lockOf('B', now, 1), 1);
    assert.deepEqual([s2.checks, s2.settled], [[], []]);
  });

  it('a failed check is only a missed shortcut: the request backs off as before', async () => {
    const s: Script = { state: 'committed', checks: [], settled: [], fail: true };
    await new LockResolver(host(s, () => now)).resolve(lockOf('A', now, 500), 1);
    assert.deepEqual([s.checks.length, s.settled], [1, []]);
  });
});
