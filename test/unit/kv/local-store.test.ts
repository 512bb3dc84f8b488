import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoreObserver } from '../../../node/src/kv/api.js';
import { InvalidArgumentError, KeyNotInRangeError, SessionExpiredError, SnapshotTooOldError, StoreClosedError, TxnConflictError } from '../../../node/src/kv/errors.js';
import { CommitPipeline } from '../../../node/src/kv/commit-pipeline.js';
import type { StateMachine } from '../../../node/src/kv/state-machine.js';
import { LocalStore, openLocalStore } from '../../../node/src/kv/local-store.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'kvs-store-'));
}

describe('local store', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const newDir = (): string => {
    const d = tmp();
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('put/get/delete with versions and read ts', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    const p1 = await s.put(b('k'), b('v1'));
    assert.ok(p1.succeeded && p1.version > 0);
    const g = await s.get(b('k'));
    assert.deepEqual({ found: g.found, value: g.value?.toString(), version: g.version }, { found: true, value: 'v1', version: p1.version });
    assert.ok(g.readTs >= p1.version);
    const p2 = await s.put(b('k'), b('v2'), { returnPrev: true });
    assert.ok(p2.version > p1.version);
    assert.equal(p2.prevValue?.toString(), 'v1');
    assert.equal((await s.get(b('k'), { snapshotTs: p1.version })).value?.toString(), 'v1');
    const d = await s.delete(b('k'));
    assert.ok(d.deleted && d.version > p2.version);
    assert.equal((await s.get(b('k'))).found, false);
    assert.equal((await s.delete(b('k'))).deleted, false);
    assert.equal((await s.get(b('k'), { snapshotTs: p2.version })).value?.toString(), 'v2');
    await s.close();
  });

  it('compare-and-set: expected value, expect absent; a failed CAS returns the current value', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    assert.equal((await s.put(b('c'), b('1'), { expectAbsent: true })).succeeded, true);
    const f = await s.put(b('c'), b('2'), { expectAbsent: true });
    assert.deepEqual({ ok: f.succeeded, v: f.version, prev: f.prevValue?.toString() }, { ok: false, v: 0, prev: '1' });
    assert.equal((await s.put(b('c'), b('2'), { expectedValue: b('1') })).succeeded, true);
    assert.equal((await s.put(b('c'), b('3'), { expectedValue: b('1') })).succeeded, false);
    assert.equal((await s.get(b('c'))).value?.toString(), '2');
    await s.close();
  });

  it('scan: prefix, start/end, reverse, keys only, limits and default/max caps', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0, defaultScanLimit: 3, maxScanLimit: 5 });
    await s.batch(['a', 'p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'p/6', 'q'].map((k) => ({ op: 'put' as const, key: b(k), value: b(`v-${k}`) })));
    await s.batch([{ op: 'delete', key: b('p/2') }]);
    const keys = (r: { kvs: Array<{ key: Buffer }> }): string[] => r.kvs.map((x) => x.key.toString());
    let r = await s.scan({ prefix: b('p/') });
    assert.deepEqual(keys(r), ['p/1', 'p/3', 'p/4']);
    assert.equal(r.more, true);
    r = await s.scan({ prefix: b('p/'), limit: 100 });
    assert.deepEqual(keys(r), ['p/1', 'p/3', 'p/4', 'p/5', 'p/6'], 'capped at the max limit');
    assert.equal(r.more, false);
    r = await s.scan({ start: b('p/3'), end: b('q'), reverse: true, keysOnly: true, limit: 2 });
    assert.deepEqual(keys(r), ['p/6', 'p/5']);
    assert.equal(r.kvs[0]!.value.length, 0);
    assert.equal(r.more, true);
    r = await s.scan({ start: b('p/4'), limit: 5 });
    assert.deepEqual(keys(r), ['p/4', 'p/5', 'p/6', 'q']);
    r = await s.scan({ start: b('q'), end: b('a') });
    assert.deepEqual(keys(r), []);
    await assert.rejects(s.scan({ prefix: b('p'), start: b('a') }), InvalidArgumentError);
    await assert.rejects(s.scan({ limit: -1 }), InvalidArgumentError);
    await s.close();
  });

  it('deleteRange by prefix and by range; batch applies atomically at one version', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    const v = await s.batch([
      { op: 'put', key: b('x/1'), value: b('1') },
      { op: 'put', key: b('x/2'), value: b('1') },
      { op: 'put', key: b('y/1'), value: b('1') },
      { op: 'put', key: b('\xff\xff'), value: b('1') },
    ]);
    assert.equal((await s.get(b('x/2'))).version, v.version);
    assert.equal((await s.deleteRange({ prefix: b('x/') })).deleted, 2);
    assert.equal((await s.deleteRange({ prefix: b('\xff') })).deleted, 1);
    assert.equal((await s.deleteRange({ start: b('a'), end: b('z') })).deleted, 1);
    assert.equal((await s.scan({})).kvs.length, 0);
    await s.close();
  });

  it('rejects empty keys and bad arguments with InvalidArgumentError', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    await assert.rejects(s.put(Buffer.alloc(0), b('v')), InvalidArgumentError);
    await assert.rejects(s.get(Buffer.alloc(0)), InvalidArgumentError);
    await assert.rejects(s.delete(Buffer.alloc(0)), InvalidArgumentError);
    await assert.rejects(s.batch([{ op: 'put', key: Buffer.alloc(0), value: b('') }]), InvalidArgumentError);
    await assert.rejects(s.put(b('k'), b('v'), { session: { clientId: 'c', seq: 2, firstUnacked: 3 } }), InvalidArgumentError);
    await assert.rejects(s.get(b('k'), { snapshotTs: Number.MAX_SAFE_INTEGER }), InvalidArgumentError);
    await s.close();
  });

  it('a snapshot read slightly in the future is repeatable: later writes get higher versions', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    await s.put(b('k'), b('old'));
    const st = await s.status();
    const future = st.appliedTs + 1024 * 100; // 100 ms ahead of applied ts
    const r1 = await s.get(b('k'), { snapshotTs: future });
    assert.equal(r1.readTs, future);
    const w = await s.put(b('k'), b('new'));
    assert.ok(w.version > future);
    const r2 = await s.get(b('k'), { snapshotTs: future });
    assert.equal(r2.value?.toString(), 'old');
    await s.close();
  });

  it('concurrent snapshot reads above applied ts share one raise (one noop) when theirs is at or below it', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    await s.put(b('k'), b('old'));
    const future = (await s.status()).appliedTs + 1024 * 100;
    // The first read proposes a noop at `future`; the two below it wait for that one instead of
    // proposing their own (each own noop would take the next version: applied ts future + 2).
    const rs = await Promise.all([s.get(b('k'), { snapshotTs: future }), s.get(b('k'), { snapshotTs: future - 10 }), s.get(b('k'), { snapshotTs: future - 20 })]);
    assert.deepEqual(rs.map((r) => r.value?.toString()), ['old', 'old', 'old']);
    assert.equal((await s.status()).appliedTs, future);
    // A snapshot above the raise in flight needs its own: it is not covered by the lower noop.
    await Promise.all([s.get(b('k'), { snapshotTs: future + 100 }), s.get(b('k'), { snapshotTs: future + 200 })]);
    assert.equal((await s.status()).appliedTs, future + 200);
    const w = await s.put(b('k'), b('new'));
    assert.ok(w.version > future + 200);
    await s.close();
  });

  it('a read overlapping a Raft snapshot replacing the range\'s data is refused (retryable), never answered from partial data', async () => {
    let replace: ((sm: StateMachine | null) => void) | undefined;
    let current: StateMachine | undefined;
    const s = await LocalStore.open({
      gcIntervalMs: 0,
      commandSink: (sm, engine, onApplied, replaceSm) => {
        replace = replaceSm;
        current = sm;
        return new CommitPipeline(sm, engine, { sync: false, onApplied });
      },
    });
    await s.put(b('k'), b('v'));
    const t = await s.begin();
    // The import starts while both reads are in flight (a read is several engine calls).
    const plain = s.get(b('k'));
    const inTxn = s.get(b('k'), { txnId: t.txnId });
    replace!(null);
    await assert.rejects(plain, KeyNotInRangeError);
    await assert.rejects(inTxn, TxnConflictError);
    // During the import every read is refused; after it, reads are served again.
    await assert.rejects(s.get(b('k')), KeyNotInRangeError);
    replace!(current!);
    assert.equal((await s.get(b('k'))).value?.toString(), 'v');
    await s.close();
  });

  it('exactly-once: a retried session request returns the original result and applies once', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0 });
    const session = { clientId: 'client-A', seq: 1, firstUnacked: 1 };
    const r1 = await s.put(b('n'), b('1'), { session });
    const r2 = await s.put(b('n'), b('DIFFERENT'), { session });
    assert.deepEqual(r2, r1);
    assert.equal((await s.get(b('n'))).value?.toString(), '1');
    const d1 = await s.batch([{ op: 'put', key: b('m'), value: b('x') }], { session: { clientId: 'client-A', seq: 2, firstUnacked: 2 } });
    await assert.rejects(s.put(b('n'), b('again'), { session }), SessionExpiredError);
    const d2 = await s.batch([{ op: 'put', key: b('m'), value: b('y') }], { session: { clientId: 'client-A', seq: 2, firstUnacked: 2 } });
    assert.deepEqual(d2, d1);
    // Proto defaults (no client id / seq 0) mean: no deduplication.
    const a = await s.put(b('z'), b('1'), { session: { clientId: '', seq: 0, firstUnacked: 0 } });
    const c = await s.put(b('z'), b('1'), { session: { clientId: '', seq: 0, firstUnacked: 0 } });
    assert.notEqual(a.version, c.version);
    await s.close();
  });

  it('group commit: many concurrent puts share far fewer synced batches (observer)', async () => {
    let batches = 0;
    let commands = 0;
    const observer: StoreObserver = {
      onBatchWritten(n) {
        batches++;
        commands += n;
      },
    };
    const s = await LocalStore.open({ dir: newDir(), gcIntervalMs: 0, observer });
    const N = 2000;
    const results = await Promise.all(Array.from({ length: N }, (_, i) => s.put(b(`k${i}`), Buffer.alloc(100, i))));
    assert.equal(commands, N);
    assert.ok(batches <= N / 20, `${batches} synced batches for ${N} puts`);
    assert.equal(new Set(results.map((r) => r.version)).size, N, 'each put has its own version');
    assert.equal((await s.scan({ limit: 10_000 })).kvs.length, N);
    const d = await s.scan({});
    assert.equal(d.kvs.length, 1000, 'default limit');
    assert.equal(d.more, true);
    await s.close();
  });

  it('durability: everything acknowledged is there after close + reopen; versions keep increasing', async () => {
    const dir = newDir();
    const s = await openLocalStore({ dir, gcIntervalMs: 0 });
    let last = 0;
    for (let i = 0; i < 50; i++) last = (await s.put(b(`d${i}`), b(`v${i}`), { session: { clientId: 'c', seq: i + 1, firstUnacked: i + 1 } })).version;
    await s.delete(b('d7'));
    const before = await s.status();
    await s.close();
    await assert.rejects(s.get(b('d1')), StoreClosedError);
    const s2 = await openLocalStore({ dir, gcIntervalMs: 0 });
    const st = await s2.status();
    assert.equal(st.appliedTs, before.appliedTs);
    assert.equal((await s2.get(b('d49'))).value?.toString(), 'v49');
    assert.equal((await s2.get(b('d7'))).found, false);
    assert.equal((await s2.scan({ prefix: b('d') })).kvs.length, 49);
    // The session table survived: a retry of seq 50 returns the stored result.
    assert.equal((await s2.put(b('d49'), b('dup'), { session: { clientId: 'c', seq: 50, firstUnacked: 50 } })).version, last);
    assert.ok((await s2.put(b('new'), b('1'))).version > before.appliedTs);
    await s2.close();
  });

  it('durability under kill -9: every acknowledged write survives', async function () {
    this.timeout(60_000);
    const dir = newDir();
    const storeModule = fileURLToPath(new URL('../../../node/src/kv/local-store.js', import.meta.url));
    const script = join(dir, 'writer.mjs');
    writeFileSync(
      script,
      `import { openLocalStore } from ${JSON.stringify(storeModule)};
const s = await openLocalStore({ dir: process.argv[2], gcIntervalMs: 0 });
let i = 0;
process.stdout.write('ready\\n');
const worker = async () => { for (;;) { const n = i++; const r = await s.put(Buffer.from('key' + n), Buffer.from('value' + n)); process.stdout.write(n + ' ' + r.version + '\\n'); } };
for (let w = 0; w < 16; w++) void worker();
`,
    );
    const child = spawn(process.execPath, [script, join(dir, 'db')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: Array<[number, number]> = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (l !== 'ready') acked.push(l.split(' ').map(Number) as [number, number]);
        if (acked.length >= 1500 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
        }
      });
      child.on('exit', () => resolve());
    });
    assert.ok(acked.length >= 1500, `acked ${acked.length}`);
    const s = await openLocalStore({ dir: join(dir, 'db'), gcIntervalMs: 0 });
    for (const [n, version] of acked) {
      const g = await s.get(b(`key${n}`));
      assert.equal(g.value?.toString(), `value${n}`, `acknowledged key${n} lost`);
      assert.equal(g.version, version);
    }
    await s.close();
  });

  it('GC keeps what a registered transaction reads; snapshots below the safe point are too old', async () => {
    let removedTotal = 0;
    const s = await LocalStore.open({ gcIntervalMs: 0, gcLifetimeMs: 0, observer: { onGcRun: (n) => (removedTotal += n) } });
    const w0 = await s.put(b('g'), b('v0'));
    const txn = await s.begin();
    for (let i = 1; i <= 10; i++) await s.put(b('g'), b(`v${i}`));
    await s.runGc();
    assert.equal((await s.get(b('g'), { txnId: txn.txnId })).value?.toString(), 'v0', 'the transaction still reads its snapshot');
    assert.ok((await s.status()).safePoint <= txn.startTs);
    await s.rollback(txn.txnId);
    await new Promise((r) => setTimeout(r, 5)); // the lifetime-based bound is wall-clock ms
    await s.runGc();
    const st = await s.status();
    assert.ok(st.safePoint > w0.version);
    assert.ok(removedTotal >= 10, `removed ${removedTotal}`);
    await assert.rejects(s.get(b('g'), { snapshotTs: w0.version }), SnapshotTooOldError);
    await assert.rejects(s.scan({ snapshotTs: w0.version }), SnapshotTooOldError);
    assert.equal((await s.get(b('g'))).value?.toString(), 'v10');
    await s.close();
  });

  it('status reports applied ts, safe point, size and active transactions', async () => {
    const s = await LocalStore.open({ dir: newDir(), gcIntervalMs: 0 });
    await s.put(b('a'), Buffer.alloc(1000));
    await s.begin();
    const st = await s.status();
    assert.ok(st.appliedTs > 0);
    assert.equal(st.activeTxns, 1);
    assert.ok(st.approximateBytes >= 0);
    assert.equal(st.safePoint, 0);
    await s.close();
  });
});
