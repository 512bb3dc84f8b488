import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileDurablySync, type DurableFs } from '../../../node/src/common/durable-file.js';

/** A real fs that records the calls (and can fail one of them). */
function recordingFs(failOn?: keyof DurableFs): { f: DurableFs; calls: string[] } {
  const calls: string[] = [];
  const paths = new Map<number, string>();
  const f: DurableFs = {
    openSync: ((p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      const fd = fs.openSync(p, flags, mode);
      paths.set(fd, String(p));
      calls.push(`open ${String(p)} ${String(flags)}`);
      return fd;
    }) as DurableFs['openSync'],
    writeSync: ((fd: number, buf: Buffer, off: number, len: number) => {
      calls.push(`write ${paths.get(fd)}`);
      return fs.writeSync(fd, buf, off, len);
    }) as DurableFs['writeSync'],
    fsyncSync: (fd) => {
      calls.push(`fsync ${paths.get(fd)}`);
      fs.fsyncSync(fd);
    },
    closeSync: (fd) => {
      calls.push(`close ${paths.get(fd)}`);
      fs.closeSync(fd);
    },
    renameSync: (a, b) => {
      calls.push(`rename ${String(a)} -> ${String(b)}`);
      if (failOn === 'renameSync') throw new Error('injected rename failure');
      fs.renameSync(a, b);
    },
    rmSync: (p, o) => {
      calls.push(`rm ${String(p)}`);
      fs.rmSync(p, o);
    },
  };
  return { f, calls };
}

describe('common/durable-file: writeFileDurablySync', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvs-durable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a temp file, fsyncs it, renames it over the target, then fsyncs the directory', () => {
    const file = join(dir, 'KVS_RAFT_ID');
    const tmp = join(dir, '.KVS_RAFT_ID.tmp');
    const { f, calls } = recordingFs();
    writeFileDurablySync(file, '7\n', f);
    assert.deepEqual(calls, [`open ${tmp} w`, `write ${tmp}`, `fsync ${tmp}`, `close ${tmp}`, `rename ${tmp} -> ${file}`, `open ${dir} r`, `fsync ${dir}`, `close ${dir}`]);
    assert.equal(readFileSync(file, 'utf8'), '7\n');
    assert.deepEqual(readdirSync(dir), ['KVS_RAFT_ID'], 'no temp file left');
  });

  it('a failure before the rename leaves the old content and no temp file', () => {
    const file = join(dir, 'id');
    writeFileSync(file, 'old\n');
    const { f } = recordingFs('renameSync');
    assert.throws(() => writeFileDurablySync(file, 'new\n', f), /injected rename failure/);
    assert.equal(readFileSync(file, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['id']);
  });

  it('replaces a stale temp file left by a crash', () => {
    writeFileSync(join(dir, '.id.tmp'), 'garbage from a crash that is longer than the new content');
    writeFileDurablySync(join(dir, 'id'), '3\n');
    assert.equal(readFileSync(join(dir, 'id'), 'utf8'), '3\n');
    assert.deepEqual(readdirSync(dir), ['id']);
  });
});
