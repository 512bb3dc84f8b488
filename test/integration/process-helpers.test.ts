// The multi-process harness itself (test/helpers/cluster-process.ts) against real kvs-node processes:
// several nodes on distinct 127.0.0.x addresses, graceful stop (exit 0), restart on the same data dir,
// SIGSTOP/SIGCONT, and a clear error when a node cannot start.
import assert from 'node:assert/strict';
import { KvClient } from '../../node/src/client/index.js';
import { NodeProcess, ProcessCluster, collectLogsOnFailure } from '../helpers/cluster-process.js';

describe('process helpers (multi-process harness)', function () {
  this.timeout(90_000);
  let cluster: ProcessCluster | undefined;
  const clients: KvClient[] = [];

  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    clients.forEach((c) => c.close());
    await cluster?.cleanup();
  });

  it('starts 3 nodes on 127.0.0.10-12, stops them gracefully and restarts one on its data dir', async function () {
    cluster = await ProcessCluster.start({ size: 3, env: { KVS_LOG_LEVEL: 'warn' } });
    assert.deepEqual(
      cluster.nodes.map((n) => n.host),
      ['127.0.0.10', '127.0.0.11', '127.0.0.12'],
    );
    for (const [i, n] of cluster.nodes.entries()) {
      const c = new KvClient({ endpoints: [n.address] });
      clients.push(c);
      await c.put('who', n.nodeId);
      assert.equal((await c.status()).nodeId, n.nodeId, `node ${i} answers with its id`);
    }
    await cluster.stopAll();
    for (const n of cluster.nodes) assert.deepEqual(n.exitInfo, { code: 0, signal: null }, `${n.nodeId} exits 0 on SIGTERM`);
    const n2 = cluster.node(1);
    const ports = [n2.grpcPort, n2.httpPort];
    await n2.start();
    assert.deepEqual([n2.grpcPort, n2.httpPort], ports, 'restart keeps the ports');
    assert.equal((await clients[1]!.get('who')).value?.toString(), 'n2', 'data survives a restart');
  });

  it('SIGSTOP makes a node unresponsive without killing it; SIGCONT brings it back', async function () {
    const n = cluster!.node(1);
    const pid = n.pid;
    n.pause();
    try {
      assert.equal(await n.healthz(), false, '/healthz must time out while stopped');
      await assert.rejects(clients[1]!.get('who', { timeoutMs: 500 }));
    } finally {
      n.resume();
    }
    assert.equal(await n.healthz(), true);
    assert.equal(n.pid, pid);
    assert.equal((await clients[1]!.get('who')).value?.toString(), 'n2');
  });

  it('graceful stop under write load: exit 0, acknowledged writes survive the restart', async function () {
    const n = cluster!.node(1); // the node running since the restart above
    const writer = new KvClient({ endpoints: [n.address], sessions: false, maxAttempts: 1, timeoutMs: 3000 });
    clients.push(writer);
    const acked = new Map<string, string>();
    let stop = false;
    let failures = 0;
    const loops = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 5000 && !stop; i++) {
        const k = `graceful/${w}/${i}`;
        try {
          await writer.put(k, String(i));
          acked.set(k, String(i));
        } catch {
          failures++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 800));
    const exit = await n.stop(15_000);
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM under load exits 0 (drained, store closed)');
    await n.start();
    const seen = new Map((await clients[1]!.scanPrefix('graceful/')).map((kv) => [kv.key.toString(), kv.value.toString()]));
    const lost = [...acked].filter(([k, v]) => seen.get(k) !== v);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${acked.size} acknowledged writes lost across a graceful stop`);
    assert.ok(acked.size > 50, `enough load (${acked.size} acknowledged, ${failures} failed)`);
  });

  it('reports a node that exits at start-up with its log tail', async function () {
    const bad = new NodeProcess({ nodeId: 'bad', extraArgs: ['--max-key-bytes', 'not-a-size'], readyTimeoutMs: 15_000 });
    try {
      await assert.rejects(bad.start(), (e: Error) => /exited before ready/.test(e.message) && /max-key-bytes|size/i.test(e.message));
    } finally {
      await bad.cleanup();
    }
  });
});
