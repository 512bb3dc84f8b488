// The store's Raft log WAL (raftstore/log-wal.ts) and the log writer over it: a Raft log write is durable
// through one WAL record while LevelDB is written unsynced; LevelDB's lost tail is written again at start,
// never an older record over newer state; checkpoints let segments go; a failed WAL fails log writes loudly.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { fdatasync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../node/src/common/logger.js';
import type { Engine, EngineOp, WriteOptions } from '../../../node/src/engine/engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { Wal, WalCorruptError, WalFailedError, type WalFs } from '../../../node/src/raftlog/wal.js';
import { LogWal, WAL_LSN_KEY, decodeLogRecord, encodeLogRecord } from '../../../node/src/raftstore/log-wal.js';
import { LogWriter } from '../../../node/src/raftstore/log-writer.js';
import { RAFT_WAL_DIR, RaftNode } from '../../../node/src/raftstore/raft-node.js';

const b = (s: string) => Buffer.from(s);
const put = (k: string, v: string): EngineOp => ({ type: 'put', key: b(k), value: b(v) });
const del = (k: string): EngineOp => ({ type: 'del', key: b(k) });

/** A MemoryEngine that records every write's sync flag. */
function recording(engine: MemoryEngine): { engine: Engine; writes: Array<{ ops: readonly EngineOp[]; sync: boolean }> } {
  const writes: Array<{ ops: readonly EngineOp[]; sync: boolean }> = [];
  const e = Object.create(engine) as Engine;
  e.write = (ops: readonly EngineOp[], opts?: WriteOptions) => {
    writes.push({ ops, sync: opts?.sync === true });
    return engine.write(ops, opts);
  };
  return { engine: e, writes };
}

async function value(engine: Engine, k: string): Promise<string | undefined> {
  return (await engine.get(b(k)))?.toString();
}

describe('raftstore: the Raft log WAL', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvs-log-wal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a record round-trips (puts, deletes, empty values); a damaged one is refused', () => {
    const ops: EngineOp[] = [put('a', '1'), del('b'), { type: 'put', key: b('c'), value: Buffer.alloc(0) }];
    const r = decodeLogRecord(encodeLogRecord(42, ops));
    assert.equal(r.lsn, 42);
    assert.deepEqual(r.ops, ops);
    const enc = encodeLogRecord(7, ops);
    assert.throws(() => decodeLogRecord(enc.subarray(0, enc.length - 1)), WalCorruptError);
    assert.throws(() => decodeLogRecord(Buffer.concat([enc, Buffer.from([0])])), WalCorruptError);
  });

  it('a log write goes to LevelDB unsynced (with its LSN) and to the WAL; a split\'s apply batch and a checkpoint sync LevelDB', async () => {
    const mem = new MemoryEngine();
    const { engine, writes } = recording(mem);
    const { wal } = await LogWal.open(dir, engine);
    writes.length = 0;
    const w = new LogWriter(engine, wal);
    await Promise.all([w.write([put('raft-1', 'e1')], true), w.writeApply([put('data', 'x')])]);
    assert.equal(writes.length, 1, 'one group write');
    assert.equal(writes[0]!.sync, false, 'LevelDB not synced for a log write');
    assert.ok(writes[0]!.ops.some((o) => o.key.equals(WAL_LSN_KEY)), 'the batch carries its LSN');
    assert.equal(w.stats.walWrites, 1);
    assert.equal(wal.stats.records, 1);
    await w.writeApply([put('split', 'y')], true);
    assert.equal(writes.at(-1)!.sync, true, 'a split\'s batch syncs LevelDB');
    assert.equal(wal.stats.records, 1, 'and writes no WAL record');
    await w.checkpoint();
    assert.equal(writes.at(-1)!.sync, true);
    assert.equal(w.stats.checkpoints, 1);
    await w.close();
    // After close, a log write still is durable: LevelDB synced.
    await w.write([put('raft-2', 'e2')], true);
    assert.equal(writes.at(-1)!.sync, true);
  });

  it('power loss: LevelDB lost the unsynced log writes, the restart writes them again from the WAL, in order', async () => {
    const mem = new MemoryEngine();
    const { wal } = await LogWal.open(dir, mem);
    const w = new LogWriter(mem, wal);
    await w.write([put('k1', 'a')], true);
    await w.write([put('k2', 'b'), put('k1', 'c')], true);
    await w.write([del('k2'), put('k3', 'd')], true);
    await wal.close(); // the process dies: no checkpoint
    const crashed = mem.crash();
    assert.equal(await value(crashed, 'k1'), undefined, 'LevelDB lost them (never synced)');
    const again = await LogWal.open(dir, crashed);
    assert.equal(again.replayed, 3);
    assert.equal(await value(crashed, 'k1'), 'c');
    assert.equal(await value(crashed, 'k2'), undefined);
    assert.equal(await value(crashed, 'k3'), 'd');
    assert.equal(again.wal.lastLsn, 3);
    // Synced now: a second power loss keeps them, and nothing is replayed twice.
    await again.wal.close();
    const twice = await LogWal.open(dir, crashed.crash());
    assert.equal(twice.replayed, 0);
    assert.equal(twice.wal.lastLsn, 3);
    await twice.wal.close();
  });

  it('records LevelDB already holds are never replayed over newer state (a compaction after them); negative control: without the stored LSN the deleted key comes back', async () => {
    const run = async (dropLsn: boolean): Promise<string | undefined> => {
      const d = mkdtempSync(join(dir, 'run-'));
      const mem = new MemoryEngine();
      const { wal } = await LogWal.open(d, mem);
      const w = new LogWriter(mem, wal);
      await w.write([put('entry-5', 'old')], true);
      // A direct, later write to the same key (what a log compaction or a snapshot install does).
      await mem.write([del('entry-5')]);
      await wal.close();
      const restarted = mem.reopen(); // process crash: every write reached the OS
      if (dropLsn) await restarted.write([{ type: 'del', key: WAL_LSN_KEY }]);
      const again = await LogWal.open(d, restarted);
      await again.wal.close();
      return value(restarted, 'entry-5');
    };
    assert.equal(await run(false), undefined, 'not resurrected');
    assert.equal(await run(true), 'old', 'negative control: replaying everything resurrects it');
  });

  it('a torn last record (crash during its write) is dropped, the records before it replayed; a gap in the LSNs refuses the start', async () => {
    const mem = new MemoryEngine();
    {
      const { wal } = await Wal.open(dir, { segmentBytes: 1 << 16 });
      await wal.append(1, 0, encodeLogRecord(1, [put('a', '1')]));
      await wal.append(1, 0, encodeLogRecord(2, [put('b', '2')]));
      await wal.close();
    }
    // Tear the second record: zero its last bytes (as a half-written page would).
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.wal'))!);
    const first = 8 + 9 + encodeLogRecord(1, [put('a', '1')]).length;
    const second = 8 + 9 + encodeLogRecord(2, [put('b', '2')]).length;
    const fd = openSync(seg, 'r+');
    writeSync(fd, Buffer.from([0xff, 0xff, 0xff]), 0, 3, first + second - 3);
    closeSync(fd);
    const r = await LogWal.open(dir, mem, { segmentBytes: 1 << 16 });
    assert.equal(r.replayed, 1);
    assert.equal(await value(mem, 'a'), '1');
    assert.equal(await value(mem, 'b'), undefined, 'the torn record was never acknowledged');
    await r.wal.close();

    const gapDir = join(dir, 'gap');
    const { wal } = await Wal.open(gapDir, { segmentBytes: 1 << 16 });
    await wal.append(1, 0, encodeLogRecord(1, [put('a', '1')]));
    await wal.append(1, 0, encodeLogRecord(3, [put('c', '3')]));
    await wal.close();
    await assert.rejects(LogWal.open(gapDir, new MemoryEngine(), { segmentBytes: 1 << 16 }), (e: unknown) => e instanceof WalCorruptError && /record 3 follows 1/.test((e as Error).message));
  });

  it('a checkpoint deletes the segments LevelDB covers; the current one stays', async () => {
    const mem = new MemoryEngine();
    const { wal } = await LogWal.open(dir, mem, { segmentBytes: 4096 });
    const w = new LogWriter(mem, wal);
    for (let i = 0; i < 60; i++) await w.write([put(`k${i}`, 'v'.repeat(200))], true);
    const segments = () => readdirSync(dir).filter((f) => f.endsWith('.wal')).length;
    assert.ok(segments() >= 3, `rotated (${segments()} segments)`);
    await w.checkpoint();
    assert.ok(segments() <= 2, `old segments deleted (${segments()} left: the current one, maybe the one preallocated next)`);
    // Still recoverable after a power loss: the checkpoint synced LevelDB.
    await wal.close();
    const crashed = mem.crash();
    const again = await LogWal.open(dir, crashed, { segmentBytes: 4096 });
    assert.equal(again.replayed, 0);
    for (let i = 0; i < 60; i++) assert.equal(await value(crashed, `k${i}`), 'v'.repeat(200));
    await again.wal.close();
  });

  it('disk full: the log write fails with the WAL\'s error and so does every later one; unsynced writes go on', async () => {
    let full = false;
    const fs: WalFs = {
      write: async (fd, buf, pos) => {
        if (full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        const { writeSync } = await import('node:fs');
        writeSync(fd, buf, 0, buf.length, pos);
      },
      datasync: (fd) => new Promise((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res()))),
    };
    const mem = new MemoryEngine();
    const { wal } = await LogWal.open(dir, mem, { fs });
    const w = new LogWriter(mem, wal);
    await w.write([put('a', '1')], true);
    full = true;
    await assert.rejects(w.write([put('b', '2')], true), (e: unknown) => e instanceof WalFailedError && /ENOSPC/.test((e as Error).message));
    full = false;
    await assert.rejects(w.write([put('c', '3')], true), WalFailedError);
    await w.writeApply([put('d', '4')]);
    assert.equal(await value(mem, 'd'), '4');
    await wal.close();
  });

  it('a store on a power loss: every acknowledged put survives through the WAL; also restarted with the WAL turned off; negative control: without the WAL directory they are lost', async () => {
    const open = (engine: MemoryEngine, dataDir: string, raftWal = true) =>
      RaftNode.open({ raftId: 1, peers: new Map([[1, '127.0.0.1:1']]), clientAddress: '127.0.0.1:2', raftAddress: '127.0.0.1:1', engine, dataDir, raftWal, logger: silentLogger(), tickMs: 10, walCheckpointMs: 60_000 });
    const run = async (dropWal: boolean, restartWal = true): Promise<number> => {
      const dataDir = mkdtempSync(join(dir, 'store-'));
      const engine = new MemoryEngine();
      const node = await open(engine, dataDir);
      assert.ok(await node.peer.waitFor(() => node.peer.isLeader, 5000));
      assert.ok(existsSync(join(dataDir, RAFT_WAL_DIR)));
      await Promise.all(Array.from({ length: 100 }, (_, i) => node.kvStore.put(b(`key${i}`), b(`v${i}`))));
      const crashed = engine.crash(); // before any checkpoint: LevelDB kept only its synced writes
      await node.close().catch(() => undefined);
      if (dropWal) rmSync(join(dataDir, RAFT_WAL_DIR), { recursive: true, force: true });
      const again = await open(crashed, dataDir, restartWal);
      try {
        assert.ok(await again.peer.waitFor(() => again.peer.isLeader, 5000));
        let found = 0;
        for (let i = 0; i < 100; i++) if ((await again.kvStore.get(b(`key${i}`))).value?.toString() === `v${i}`) found++;
        return found;
      } finally {
        await again.close();
      }
    };
    assert.equal(await run(false), 100, 'every acknowledged put');
    assert.equal(await run(false, false), 100, 'also when the restart has --raft-wal=false: an existing WAL is replayed');
    assert.ok((await run(true)) < 100, 'negative control: LevelDB alone lost acknowledged puts');
  });
});
