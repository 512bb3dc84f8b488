// kvs_disk_free_bytes / kvs_disk_size_bytes: the filesystem of the data directory, read at scrape time.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerMetrics } from '../../../node/src/server/metrics.js';

describe('server metrics: disk free / size of the data directory', () => {
  it('reports the statfs numbers of the data directory filesystem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvs-disk-'));
    try {
      const m = new ServerMetrics({ defaultMetrics: false });
      m.setDataDir(dir);
      const text = await m.registry.metrics();
      const free = Number(/^kvs_disk_free_bytes (\S+)$/m.exec(text)?.[1]);
      const size = Number(/^kvs_disk_size_bytes (\S+)$/m.exec(text)?.[1]);
      const s = await statfs(dir);
      assert.equal(size, s.blocks * s.bsize);
      assert.ok(free > 0 && free <= size, `free ${free} size ${size}`);
      // Within 1 GiB of what statfs says now (other processes write meanwhile).
      assert.ok(Math.abs(free - s.bavail * s.bsize) < 2 ** 30);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an in-memory node (no data directory) exports no disk series', async () => {
    const text = await new ServerMetrics({ defaultMetrics: false }).registry.metrics();
    assert.doesNotMatch(text, /kvs_disk_(free|size)_bytes/);
  });
});
