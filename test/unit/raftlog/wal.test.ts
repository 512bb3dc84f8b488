// The store-wide Raft WAL: round trips, group commit, torn tails, corruption, rotation, failures, and a
// kill -9 during appends (every acknowledged record survives).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wal, WalArgumentError, WalCorruptError, WalFailedError, RECORD_HEADER, type WalFs } from '../../../node/src/raftlog/wal.js';
import { fdatasync, write } from 'node:fs';

const WAL_JS = fileURLToPath(new URL('../../../node/src/raftlog/wal.js', import.meta.url));

describe('raftlog/wal', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvs-wal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const payloads = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`entry-${i}-${'x'.repeat(i % 50)}`));

  it('round trip across reopen, in order, with types and group ids; appends of one turn share one sync', async () => {
    const { wal, records } = await Wal.open(dir, { segmentBytes: 1 << 20 });
    assert.equal(records.length, 0);
    const ps = payloads(100);
    await Promise.all(ps.map((p, i) => wal.append(i % 3, 1000 + (i % 7), p)));
    assert.equal(wal.stats.records, 100);
    assert.equal(wal.stats.flushes, 1, 'one write + one fdatasync for the whole turn');
    await wal.close();
    const again = await Wal.open(dir, { segmentBytes: 1 << 20 });
    assert.deepEqual(again.records.map((r) => [r.type, r.groupId, r.payload.toString()]), ps.map((p, i) => [i % 3, 1000 + (i % 7), p.toString()]));
    await again.wal.close();
  });

  it('appends arriving during a flush go into the next flush', async () => {
    let syncs = 0;
    let release: (() => void) | undefined;
    const slow: WalFs = {
      write: (fd, buf, pos) => new Promise((res, rej) => write(fd, buf, 0, buf.length, pos, (e) => (e ? rej(e) : res()))),
      datasync: (fd) =>
        new Promise((res, rej) => {
          syncs++;
          const done = () => fdatasync(fd, (e) => (e ? rej(e) : res()));
          if (syncs === 1) release = done;
          else done();
        }),
    };
    const { wal } = await Wal.open(dir, { segmentBytes: 1 << 20, fs: slow });
    const first = wal.append(1, 1, Buffer.from('a'));
    while (release === undefined) await new Promise((r) => setImmediate(r));
    const later = [wal.append(1, 1, Buffer.from('b')), wal.append(1, 2, Buffer.from('c'))];
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(syncs, 1, 'no second flush while the first one syncs');
    release();
    await Promise.all([first, ...later]);
    assert.equal(wal.stats.flushes, 2);
    await wal.close();
  });

  it('a torn last record is dropped, appending resumes at its place', async () => {
    const { wal } = await Wal.open(dir, { segmentBytes: 1 << 16 });
    for (const p of payloads(5)) await wal.append(1, 7, p);
    await wal.close();
    const seg = join(dir, readdirSync(dir).sort()[0]!);
    const data = readFileSync(seg);
    // Find the last record and corrupt its body (a write cut short by the crash).
    let off = 0;
    let last = 0;
    while (data.readUInt32BE(off) !== 0) {
      last = off;
      off += RECORD_HEADER + data.readUInt32BE(off);
    }
    data[last + RECORD_HEADER + 12] ^= 0xff;
    writeFileSync(seg, data);
    const r1 = await Wal.open(dir, { segmentBytes: 1 << 16 });
    assert.equal(r1.records.length, 4);
    await r1.wal.append(2, 8, Buffer.from('after'));
    await r1.wal.close();
    const r2 = await Wal.open(dir, { segmentBytes: 1 << 16 });
    assert.deepEqual(r2.records.map((r) => r.payload.toString()).slice(3), ['entry-3-xxx', 'after']);
    await r2.wal.close();
  });

  it('rotates segments, reads them all back, purges old ones; a bad record in an older segment is corruption', async () => {
    const { wal } = await Wal.open(dir, { segmentBytes: 4096 });
    const ps = payloads(300);
    for (let i = 0; i < ps.length; i += 30) await Promise.all(ps.slice(i, i + 30).map((p) => wal.append(1, 1, p)));
    assert.ok(wal.currentSegment > 3);
    await wal.close();
    // A bad record in a segment that is not the last one is corruption, never a torn tail.
    const oldest = join(dir, readdirSync(dir).filter((f) => f.endsWith('.wal')).sort()[0]!);
    const good = readFileSync(oldest);
    const bad = Buffer.from(good);
    bad[RECORD_HEADER + 10] ^= 1;
    writeFileSync(oldest, bad);
    await assert.rejects(Wal.open(dir, { segmentBytes: 4096 }), WalCorruptError);
    writeFileSync(oldest, good);
    const r = await Wal.open(dir, { segmentBytes: 4096 });
    assert.deepEqual(r.records.map((x) => x.payload.toString()), ps.map(String));
    // Callers purge by the segment numbers of records they no longer need (applied and snapshotted).
    const lastSeg = r.records.at(-1)!.segment;
    const removed = await r.wal.purgeBefore(lastSeg);
    assert.ok(removed >= 3);
    await r.wal.close();
    const after = await Wal.open(dir, { segmentBytes: 4096 });
    assert.ok(after.records.length > 0 && after.records.length < ps.length, 'purged segments are gone, the current one stays');
    assert.equal(after.records.at(-1)!.payload.toString(), ps.at(-1)!.toString());
    await after.wal.close();
  });

  it('a failed write (disk full) fails that flush and everything after with a typed error; durable records stay', async () => {
    let full = false;
    const fs: WalFs = {
      write: (fd, buf, pos) =>
        full ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) : new Promise((res, rej) => write(fd, buf, 0, buf.length, pos, (e) => (e ? rej(e) : res()))),
      datasync: (fd) => new Promise((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res()))),
    };
    const { wal } = await Wal.open(dir, { segmentBytes: 1 << 16, fs });
    await wal.append(1, 1, Buffer.from('kept'));
    full = true;
    await assert.rejects(wal.append(1, 1, Buffer.from('lost')), (e: unknown) => e instanceof WalFailedError && /ENOSPC/.test((e as Error).message));
    full = false;
    await assert.rejects(wal.append(1, 1, Buffer.from('refused')), WalFailedError);
    await wal.close();
    const r = await Wal.open(dir, { segmentBytes: 1 << 16 });
    assert.deepEqual(r.records.map((x) => x.payload.toString()), ['kept']);
    await r.wal.close();
  });

  it('refuses records larger than a segment and bad types/group ids', async () => {
    const { wal } = await Wal.open(dir, { segmentBytes: 4096 });
    await assert.rejects(wal.append(1, 1, Buffer.alloc(5000)), WalArgumentError);
    await assert.rejects(wal.append(300, 1, Buffer.alloc(1)), WalArgumentError);
    await assert.rejects(wal.append(1, -1, Buffer.alloc(1)), WalArgumentError);
    await wal.close();
  });

  it('kill -9 during appends: every acknowledged record is recovered', async () => {
    const script = `
      import { Wal } from ${JSON.stringify(WAL_JS)};
      const { wal } = await Wal.open(${JSON.stringify(dir)}, { segmentBytes: 1 << 16 });
      let i = 0;
      for (;;) {
        const batch = [];
        for (let k = 0; k < 1 + (i % 5); k++, i++) { const n = i; batch.push(wal.append(1, 1, Buffer.from('r' + n)).then(() => process.stdout.write(n + '\\n'))); }
        await Promise.all(batch);
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    while (out.split('\n').length < 400) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const acked = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    const { wal, records } = await Wal.open(dir, { segmentBytes: 1 << 16 });
    const got = new Set(records.map((r) => Number(r.payload.toString().slice(1))));
    for (const a of acked) assert.ok(got.has(a), `acknowledged record ${a} lost`);
    // Recovered records are a prefix of the append order (no holes).
    records.forEach((r, i) => assert.equal(r.payload.toString(), `r${i}`));
    await wal.close();
  });
});
