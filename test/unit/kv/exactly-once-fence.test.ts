// Exactly-once commits resolved through the log (issue 10): in-doubt re-proposals, fences, replicated
// settings, and the test-only snapshot-isolation switch. The "log" here is a StateMachine over a memory
// engine; the host decides whether a submitted command reaches it and what the proposer hears back.
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import type { Command, CommandResult } from '../../../node/src/kv/commands.js';
import { NotLeaderError, OutcomeUnknownError, TxnNotFoundError } from '../../../node/src/kv/errors.js';
import { DEFAULT_SETTINGS, StateMachine } from '../../../node/src/kv/state-machine.js';
import { TxnManager, type TxnHost } from '../../../node/src/kv/txn-manager.js';
import { mvccGet, mvccScan } from '../../../node/src/mvcc/mvcc.js';
import { stateSpans } from '../../../node/src/kv/snapshot.js';
import { metaKey } from '../../../node/src/mvcc/keyspace.js';

const b = (s: string) => Buffer.from(s);

/** What the host does with the next submitted command. */
type Fate = 'apply' | 'apply-then-lose-reply' | 'refuse-not-leader' | 'lose-without-applying';

class LogHost implements TxnHost {
  readonly fates: Fate[] = [];
  readonly delayed: Command[] = [];
  ts = 1;
  constructor(readonly engine: MemoryEngine, public sm: StateMachine) {}
  appliedTs(): number {
    return this.sm.lastTs;
  }
  readAt(key: Buffer, ts: number) {
    return mvccGet(this.engine, key, ts);
  }
  scanAt(o: Parameters<TxnHost['scanAt']>[0]) {
    return mvccScan(this.engine, o);
  }
  readTsNow(): Promise<number> {
    return Promise.resolve(this.sm.lastTs);
  }
  now(): number {
    return ++this.ts;
  }
  async submit(cmd: Command): Promise<CommandResult> {
    const fate = this.fates.shift() ?? 'apply';
    if (fate === 'refuse-not-leader') throw new NotLeaderError(0, undefined, 'not proposed (no leader)');
    if (fate === 'lose-without-applying') {
      // In the log but not applied yet (e.g. forwarded to the leader): applies later.
      this.delayed.push(cmd);
      throw new OutcomeUnknownError(0, undefined, 'leadership changed (outcome unknown)');
    }
    const r = (await this.sm.applyAndWrite([cmd])).results[0]!;
    if (fate === 'apply-then-lose-reply') throw new OutcomeUnknownError(0, undefined, 'node shutting down (outcome unknown)');
    return r;
  }
  async applyDelayed(): Promise<CommandResult[]> {
    const out: CommandResult[] = [];
    for (const c of this.delayed.splice(0)) out.push((await this.sm.applyAndWrite([c])).results[0]!);
    return out;
  }
}

async function setup(opts: { unsafeNoCommitFence?: boolean } = {}) {
  const engine = new MemoryEngine();
  const sm = await StateMachine.open(engine);
  const host = new LogHost(engine, sm);
  const tm = new TxnManager(host, { idleTimeoutMs: 60_000, ...opts });
  return { engine, host, tm };
}

async function counter(engine: MemoryEngine, sm: StateMachine): Promise<string | undefined> {
  return (await mvccGet(engine, b('ctr'), sm.lastTs))?.value.toString();
}

describe('exactly-once commits resolved through the log', () => {
  const S = { clientId: 'c1', seq: 7, firstUnacked: 1 };

  it('a commit applied but whose reply was lost: the retry (same session) returns the first result, applies nothing twice', async () => {
    const { engine, host, tm } = await setup();
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('1'));
    host.fates.push('apply-then-lose-reply');
    await assert.rejects(tm.commit(t.txnId, S), OutcomeUnknownError);
    const lastTs = host.sm.lastTs;
    const r = await tm.commit(t.txnId, S);
    assert.ok(r.commitTs > 0 && r.commitTs <= lastTs, 'the stored result of the first attempt');
    assert.equal(await counter(engine, host.sm), '1');
  });

  it('an in-doubt commit retried with another seq is refused as outcome unknown (never a second apply)', async () => {
    const { host, tm } = await setup();
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('1'));
    host.fates.push('apply-then-lose-reply');
    await assert.rejects(tm.commit(t.txnId, S), OutcomeUnknownError);
    await assert.rejects(tm.commit(t.txnId, { ...S, seq: 8 }), OutcomeUnknownError);
    await assert.rejects(tm.commit(t.txnId), OutcomeUnknownError);
  });

  it('a commit refused before reaching the log (NOT_LEADER) leaves the transaction active: the retry commits it', async () => {
    const { engine, host, tm } = await setup();
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('5'));
    host.fates.push('refuse-not-leader');
    await assert.rejects(tm.commit(t.txnId, S), NotLeaderError);
    assert.equal(await counter(engine, host.sm), undefined);
    await tm.commit(t.txnId, S);
    assert.equal(await counter(engine, host.sm), '5');
  });

  it('a node that does not know the transaction fences it: the original entry, applied later, is a no-op', async () => {
    const { engine, host, tm } = await setup();
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('1'));
    host.fates.push('lose-without-applying');
    await assert.rejects(tm.commit(t.txnId, S), OutcomeUnknownError);
    // The node restarts: a fresh transaction manager over the same state knows nothing of t.
    const restarted = new TxnManager(host, { idleTimeoutMs: 60_000 });
    await assert.rejects(restarted.commit(t.txnId, S), (e: unknown) => e instanceof TxnNotFoundError && /fenced/.test(e.message));
    const [late] = await host.applyDelayed();
    assert.equal(late!.type, 'error', 'the original commit answers with the fence result');
    assert.equal(await counter(engine, host.sm), undefined, 'the fenced commit never applied');
  });

  it('a fence applied after the original commit returns the commit\'s result', async () => {
    const { engine, host, tm } = await setup();
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('1'));
    host.fates.push('apply-then-lose-reply');
    await assert.rejects(tm.commit(t.txnId, S), OutcomeUnknownError);
    const restarted = new TxnManager(host, { idleTimeoutMs: 60_000 });
    const r = await restarted.commit(t.txnId, S);
    assert.ok(r.commitTs > 0);
    assert.equal(await counter(engine, host.sm), '1');
  });

  it('negative control: unsafeNoCommitFence answers TXN_NOT_FOUND while the commit can still apply', async () => {
    const { engine, host, tm } = await setup();
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('1'));
    host.fates.push('lose-without-applying');
    await assert.rejects(tm.commit(t.txnId, S), OutcomeUnknownError);
    const unsafe = new TxnManager(host, { idleTimeoutMs: 60_000, unsafeNoCommitFence: true });
    await assert.rejects(unsafe.commit(t.txnId, S), TxnNotFoundError);
    await host.applyDelayed();
    assert.equal(await counter(engine, host.sm), '1', 'reported "not found", yet it committed: the bug the fence prevents');
  });

  it('an in-doubt transaction that times out or is rolled back is never reported as rolled back', async () => {
    const engine = new MemoryEngine();
    const host = new LogHost(engine, await StateMachine.open(engine));
    const tm = new TxnManager(host, { idleTimeoutMs: 30 });
    const t = tm.begin();
    await tm.put(t.txnId, b('ctr'), b('1'));
    host.fates.push('lose-without-applying');
    await assert.rejects(tm.commit(t.txnId, S), OutcomeUnknownError);
    await new Promise((r) => setTimeout(r, 80));
    await host.applyDelayed();
    // Timed out after its outcome was lost: the retry goes through the log and finds the commit.
    const r = await tm.commit(t.txnId, S);
    assert.ok(r.commitTs > 0);
    assert.equal(await counter(engine, host.sm), '1');
  });
});

describe('replicated settings', () => {
  it('start at the defaults; the first onlyIfUnset seed wins; explicit changes apply; bad values are refused', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    assert.deepEqual(sm.settings, DEFAULT_SETTINGS);
    assert.equal(sm.settingsStored, false);
    const set = (sessionTtlMs: number, onlyIfUnset: boolean) =>
      sm.applyAndWrite([{ type: 'setSettings', proposedTs: 0, onlyIfUnset, settings: { ...DEFAULT_SETTINGS, sessionTtlMs } }]);
    await set(60_000, true);
    await set(120_000, true); // a second node's different flag: ignored
    assert.equal(sm.settings.sessionTtlMs, 60_000);
    await set(90_000, false);
    assert.equal(sm.settings.sessionTtlMs, 90_000);
    const bad = await set(5, false);
    assert.equal(bad.results[0]!.type, 'error');
    assert.equal(sm.settings.sessionTtlMs, 90_000);
    const reopened = await StateMachine.open(e);
    assert.equal(reopened.settings.sessionTtlMs, 90_000, 'persisted');
    assert.equal(reopened.settingsStored, true);
    const spans = stateSpans(0);
    const key = metaKey(0, 'settings');
    assert.ok(spans.some((s) => Buffer.compare(s.start, key) <= 0 && Buffer.compare(key, s.end) < 0), 'part of Raft snapshots');
  });

  it('two replicas opened with different node options but the same log end with the same settings and answers', async () => {
    // The node never passes its flags to the state machine: both replicas start at the defaults.
    const logCmds: Command[] = [
      { type: 'setSettings', proposedTs: 10, onlyIfUnset: true, settings: { ...DEFAULT_SETTINGS, sessionTtlMs: 1_000 } },
      { type: 'put', proposedTs: 20, key: b('k'), value: b('v'), session: { clientId: 'x', seq: 1, firstUnacked: 1 } },
      { type: 'noop', proposedTs: 20 + 5_000 * 1024 },
      { type: 'put', proposedTs: 30 + 5_000 * 1024, key: b('k'), value: b('v'), session: { clientId: 'x', seq: 1, firstUnacked: 1 } },
    ];
    const results: CommandResult[][] = [];
    for (let i = 0; i < 2; i++) {
      const sm = await StateMachine.open(new MemoryEngine());
      const out: CommandResult[] = [];
      for (const c of logCmds) out.push((await sm.applyAndWrite([c])).results[0]!);
      results.push(out);
    }
    assert.deepEqual(results[0], results[1]);
    // The session expired under the replicated 1 s TTL; its tombstone refuses the retry of seq 1 (its
    // result is gone: applying it again could duplicate it) on both replicas alike.
    assert.equal(results[0]![3]!.type === 'error' && results[0]![3]!.code, 'SESSION_EXPIRED');
  });
});

describe('test-only snapshot isolation switch (negative control of the write-skew checks)', () => {
  async function writeSkew(unsafeSnapshotIsolation: boolean): Promise<string[]> {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e, { unsafeSnapshotIsolation });
    await sm.applyAndWrite([{ type: 'batch', proposedTs: 0, mutations: [{ op: 'put', key: b('x'), value: b('1') }, { op: 'put', key: b('y'), value: b('1') }] }]);
    const start = sm.lastTs;
    // T1 reads x,y and sets x=0; T2 reads x,y and sets y=0 — each alone keeps x + y >= 1.
    const r = await sm.applyAndWrite([
      { type: 'txnCommit', proposedTs: 0, startTs: start, readKeys: [b('x'), b('y')], readRanges: [], writes: [{ op: 'put', key: b('x'), value: b('0') }] },
      { type: 'txnCommit', proposedTs: 0, startTs: start, readKeys: [b('x'), b('y')], readRanges: [], writes: [{ op: 'put', key: b('y'), value: b('0') }] },
    ]);
    return r.results.map((x) => x.type);
  }
  it('serializable (default) aborts the second transaction of a write skew', async () => {
    assert.deepEqual(await writeSkew(false), ['txnCommit', 'error']);
  });
  it('the unsafe switch lets both commit (so the nemesis write-skew checker can be shown to fail)', async () => {
    assert.deepEqual(await writeSkew(true), ['txnCommit', 'txnCommit']);
  });
});
