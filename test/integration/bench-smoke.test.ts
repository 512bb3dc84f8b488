// Keeps `make bench` from rotting: every workload runs briefly against a real kvs-node (and etcd when
// installed) through the same drivers and load generator, without errors; the key choosers behave.
import assert from 'node:assert/strict';
import { KvsDriver } from '../../bench/drivers/kvs.js';
import { EtcdDriver } from '../../bench/drivers/etcd.js';
import { EtcdCluster, etcdBinary } from '../../bench/lib/etcd-process.js';
import { keyName, makeValue, prng, scrambledZipfian, uniform } from '../../bench/lib/keys.js';
import { runWorkload } from '../../bench/lib/loadgen.js';
import { WORKLOADS } from '../../bench/lib/workloads.js';
import type { BenchDriver } from '../../bench/lib/driver.js';
import { useNode } from './support/fixture.js';

const RECORDS = 500;

async function smoke(driver: BenchDriver): Promise<void> {
  const rand = prng(1);
  await driver.load(
    Array.from({ length: RECORDS }, (_, i) => keyName(i)),
    () => makeValue(100, rand),
    16,
  );
  for (const spec of Object.values(WORKLOADS)) {
    // 1.5 s windows: a 4-key transaction on a busy 2-core machine can take longer than a 400 ms window,
    // and an empty window would make this smoke test flaky rather than informative. maxOps bounds it.
    const r = await runWorkload(driver, spec, { concurrency: 4, durationMs: 1500, warmupMs: 100, maxOps: 5000, records: RECORDS, valueSize: 100, dist: 'zipfian', seed: 7 });
    assert.equal(r.errors, 0, `${driver.name} ${spec.id}: ${r.errorSamples.join('; ')}`);
    assert.ok(r.ops > 0, `${driver.name} ${spec.id}: no operation completed`);
    assert.ok(r.all.p50Us > 0 && r.all.p99Us >= r.all.p50Us);
  }
}

describe('benchmark harness smoke test', function () {
  this.timeout(90_000);
  const f = useNode();

  it('key choosers: zipfian is skewed and in range, uniform is flat', function () {
    const n = 1000;
    const z = scrambledZipfian(n, prng(3));
    const u = uniform(n, prng(4));
    const zc = new Map<number, number>();
    const uc = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const a = z.next();
      const b = u.next();
      assert.ok(a >= 0 && a < n && b >= 0 && b < n);
      zc.set(a, (zc.get(a) ?? 0) + 1);
      uc.set(b, (uc.get(b) ?? 0) + 1);
    }
    const top = (m: Map<number, number>): number => Math.max(...m.values()) / 50_000;
    assert.ok(top(zc) > 0.05, `zipfian hottest key share ${top(zc)}`);
    assert.ok(top(uc) < 0.01, `uniform hottest key share ${top(uc)}`);
  });

  it('runs every workload against kvs-node via KvClient', async function () {
    const d = new KvsDriver([f.node.address]);
    try {
      await smoke(d);
    } finally {
      await d.close();
    }
  });

  it('runs every workload against etcd (when etcd-server is installed)', async function () {
    const bin = etcdBinary();
    if (!bin) this.skip();
    const cluster = await EtcdCluster.start(1, bin);
    const d = new EtcdDriver(cluster.endpoints);
    try {
      await smoke(d);
    } finally {
      await d.close();
      await cluster.stop();
    }
  });
});
