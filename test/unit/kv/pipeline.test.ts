import { strict as assert } from 'node:assert';
import type { EngineOp, WriteOptions } from '../../../node/src/engine/engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { HybridClock } from '../../../node/src/kv/clock.js';
import { CommitPipeline } from '../../../node/src/kv/commit-pipeline.js';
import type { Command } from '../../../node/src/kv/commands.js';
import { StorageError, StoreClosedError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';

const b = (s: string): Buffer => Buffer.from(s);
const put = (k: string): Command => ({ type: 'put', proposedTs: 0, key: b(k), value: b('v') });

/** A memory engine whose writes can be made slow or failing. */
class FlakyEngine extends MemoryEngine {
  fail = false;
  delayMs = 0;
  override async write(ops: readonly EngineOp[], opts?: WriteOptions): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw new Error('disk on fire');
    return super.write(ops, opts);
  }
}

describe('commit pipeline', () => {
  it('groups queued commands: one synced write per group, applied ts published before callers resolve', async () => {
    const e = new FlakyEngine();
    e.delayMs = 5;
    const sm = await StateMachine.open(e);
    const published: number[] = [];
    const p = new CommitPipeline(sm, e, { onApplied: (ts) => published.push(ts) });
    const first = p.submit(put('a'));
    await new Promise((r) => setTimeout(r, 1)); // the first group is being written
    const rest = Array.from({ length: 50 }, (_, i) => p.submit(put(`k${i}`)));
    const results = await Promise.all([first, ...rest]);
    assert.equal(p.groups, 2);
    assert.equal(e.syncedWrites, 2);
    const versions = results.map((r) => (r.type === 'put' ? r.version : -1));
    assert.ok(versions.every((v) => v <= published[published.length - 1]!));
    assert.equal(new Set(versions).size, 51);
  });

  it('a failed write rejects the group and everything queued, and stops the pipeline', async () => {
    const e = new FlakyEngine();
    const sm = await StateMachine.open(e);
    const p = new CommitPipeline(sm, e);
    await p.submit(put('ok'));
    e.fail = true;
    e.delayMs = 5;
    const a = p.submit(put('x'));
    await new Promise((r) => setTimeout(r, 1));
    const c = p.submit(put('y'));
    await assert.rejects(a, StorageError);
    await assert.rejects(c, StorageError);
    e.fail = false;
    await assert.rejects(p.submit(put('z')), StorageError);
    assert.ok(p.failed);
    await assert.rejects(p.runExclusive(async () => 1), StorageError);
  });

  it('close waits for queued commands and then refuses new ones; exclusive work runs between groups', async () => {
    const e = new FlakyEngine();
    e.delayMs = 3;
    const sm = await StateMachine.open(e);
    const p = new CommitPipeline(sm, e);
    const a = p.submit(put('a'));
    const x = p.runExclusive(async () => {
      // Runs after the group with 'a' was written and before the group with 'c' is applied.
      const seen = [(await mvccGet(e, b('a'), Number.MAX_SAFE_INTEGER)) !== undefined, (await mvccGet(e, b('c'), Number.MAX_SAFE_INTEGER)) !== undefined];
      return seen;
    });
    const c = p.submit(put('c'));
    await p.close();
    assert.deepEqual(await x, [true, false]);
    await Promise.all([a, c]);
    assert.ok(await mvccGet(e, b('c'), Number.MAX_SAFE_INTEGER));
    await assert.rejects(p.submit(put('late')), StoreClosedError);
  });

  it('a store closed while writes are in flight acknowledges them durably', async () => {
    const e = new FlakyEngine();
    e.delayMs = 2;
    const s = await LocalStore.open({ engine: e, gcIntervalMs: 0 });
    const writes = Array.from({ length: 20 }, (_, i) => s.put(b(`w${i}`), b('v')));
    await s.close();
    await Promise.all(writes);
    const after = await LocalStore.open({ engine: e.crash(), gcIntervalMs: 0 });
    assert.equal((await after.scan({})).kvs.length, 20);
    await after.close();
  });

  it('a store survives a simulated power loss with every acknowledged write', async () => {
    const e = new MemoryEngine();
    const s = await LocalStore.open({ engine: e, gcIntervalMs: 0 });
    const acked: string[] = [];
    await Promise.all(Array.from({ length: 100 }, (_, i) => s.put(b(`p${i}`), b('v')).then(() => acked.push(`p${i}`))));
    const crashed = e.crash();
    const s2 = await LocalStore.open({ engine: crashed, gcIntervalMs: 0 });
    for (const k of acked) assert.equal((await s2.get(b(k))).found, true, k);
    await s2.close();
  });
});

describe('hybrid clock', () => {
  it('is strictly increasing, follows the wall clock, and observes higher timestamps', () => {
    let wall = 1000;
    const c = new HybridClock(() => wall);
    const a = c.now();
    const b2 = c.now();
    assert.equal(a, 1000 * 1024);
    assert.equal(b2, a + 1);
    wall = 999; // the wall clock steps back
    assert.ok(c.now() > b2);
    c.observe(5000 * 1024);
    assert.equal(c.now(), 5000 * 1024 + 1);
    wall = 6000;
    assert.equal(c.now(), 6000 * 1024);
    assert.ok(Number.isSafeInteger(new HybridClock().now()));
    assert.ok(new HybridClock().now() < 2 ** 53);
  });
});
