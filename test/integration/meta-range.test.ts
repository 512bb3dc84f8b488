// The meta range on real node processes (docs/sharding.md "Meta range and timestamps"): after splits and
// leader moves every store's meta directory (Kv.Routes) lists exactly the cluster's ranges with their
// current epochs, replicas and leaders; the TSO (Kv.Timestamp) hands out strictly increasing timestamps
// across a leader transfer and a kill -9 of the meta range's leader. Negative control: with publishing
// disabled (KVS_TEST_DISABLE_META_PUBLISH=1) the directory never learns a split of a non-meta range.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import type { RouteInfo } from '../../node/src/client/kv-client.js';
import { ProcessCluster, collectLogsOnFailure, sleep, until, startRaftCluster } from '../helpers/cluster-process.js';

const b = (s: string) => Buffer.from(s);
const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const kvsctl = async (endpoints: string[], ...args: string[]): Promise<unknown> => {
  const r = await promisify(execFile)(process.execPath, [KVSCTL, '--endpoints', endpoints.join(','), '--json', ...args], { timeout: 20_000, env: { ...process.env, KVS_ENDPOINTS: '' } });
  return JSON.parse(r.stdout) as unknown;
};
const show = (rs: RouteInfo[]) => rs.map((r) => `${r.rangeId}[${r.start.toString()},${r.end.toString()})v${r.version}c${r.confVer}@${r.leaderId}`).join(' ');

async function split(admin: AdminClient, key: string): Promise<number> {
  const out = await until(`split at ${key}`, async () => {
    try {
      return await admin.splitRange(b(key));
    } catch {
      return undefined; // electing, or not the leader yet: ask again
    }
  });
  return Number(out.right.rangeId);
}

/** What the ranges' own replicas say (Admin.Ranges on every store, newest epoch and the leader's view). */
async function truth(admin: AdminClient, addresses: string[]): Promise<Map<number, { version: number; confVer: number; leaderId: number }>> {
  const m = new Map<number, { version: number; confVer: number; leaderId: number }>();
  for (const a of addresses) {
    const r = await admin.ranges(a);
    for (const x of r.ranges) {
      const cur = m.get(Number(x.rangeId));
      const v = { version: Number(x.version), confVer: Number(x.confVer), leaderId: Number(x.leaderId) };
      if (cur === undefined || v.version > cur.version || (x.role === 'Leader' && v.version === cur.version)) m.set(Number(x.rangeId), v);
    }
  }
  return m;
}

describe('meta range: directory and TSO (multi-process)', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster | undefined;
  let client: KvClient | undefined;
  let admin: AdminClient | undefined;

  afterEach(async function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
    client?.close();
    admin?.close();
    await cluster?.cleanup();
    cluster = undefined;
    client = undefined;
    admin = undefined;
  });

  it('every store answers every range with its current epoch and leader, after splits and a leader move', async function () {
    cluster = await startRaftCluster(160);
    admin = new AdminClient(cluster.addresses, 10_000);
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
    const right = await split(admin, 'b'); // range 1 itself: recorded atomically by the split
    const second = await split(admin, 'd'); // the right half: published by its leader
    const third = await split(admin, 'f');
    // Range ids come from the meta range's counter (allocIds), not from chance: small, distinct, rising
    // (a split retried after a lost reply may skip an id, never reuse one).
    assert.ok(right >= 2 && right < second && second < third && third < 100, `range ids ${right}, ${second}, ${third}`);
    const converged = async (): Promise<string> =>
      until(
        'every store\'s directory matches the ranges',
        async () => {
          const want = await truth(admin!, cluster!.addresses);
          for (const a of cluster!.addresses) {
            const got = await client!.routes({ endpoint: a, directoryOnly: true });
            if (got.length !== want.size) return undefined;
            for (const r of got) {
              const w = want.get(r.rangeId);
              if (w === undefined || w.version !== r.version || w.confVer !== r.confVer || w.leaderId !== r.leaderId || r.leaderId === 0 || r.replicas.length !== 3) return undefined;
            }
          }
          return show(await client!.routes({ endpoint: cluster!.addresses[0]!, directoryOnly: true }));
        },
        15_000,
        100,
      );
    console.log(`      directory: ${await converged()}`);
    // The directory is contiguous: one record per key, from -inf to +inf.
    const all = await client.routes({ directoryOnly: true });
    assert.equal(all[0]!.start.length, 0);
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.start.equals(all[i - 1]!.end), 'no gap, no overlap');
    assert.equal(all[all.length - 1]!.end.length, 0);
    // Move the leadership of the range at 'b' and watch the directory follow.
    const before = all.find((r) => r.rangeId === right)!;
    const to = [1, 2, 3].find((id) => id !== before.leaderId)!;
    await admin.transferLeader(to, 5000, right);
    const moved = await until('the directory names the new leader on every store', async () => {
      for (const a of cluster!.addresses) {
        const r = (await client!.routes({ endpoint: a, directoryOnly: true })).find((x) => x.rangeId === right);
        if (r?.leaderId !== to) return undefined;
      }
      return true;
    }, 10_000, 100);
    assert.equal(moved, true);
    console.log(`      after the leader move: ${await converged()}`);
    // kvsctl range lookup / timestamp: what a user types.
    const found = (await kvsctl(cluster.addresses, 'range', 'lookup', 'c')) as { id: number; start: string; end: string; leader: number; replicas: unknown[] };
    assert.deepEqual([found.id, found.start, found.end, found.leader, found.replicas.length], [right, 'b', 'd', to, 3]);
    const t1 = (await kvsctl(cluster.addresses, 'timestamp', '--count', '10')) as { timestamp: number; count: number; physicalMs: number };
    const t2 = (await kvsctl(cluster.addresses, 'timestamp')) as { timestamp: number };
    assert.ok(t2.timestamp >= t1.timestamp + 10, 'the next call starts after the batch of 10');
    assert.ok(Math.abs(t1.physicalMs - Date.now()) < 10_000, 'the physical part is wall-clock milliseconds');
    await assert.rejects(kvsctl(cluster.addresses, 'timestamp', '--count', '0'), /count must be in/);
  });

  it('TSO timestamps increase strictly across a leader transfer and a kill -9 of the meta leader', async function () {
    cluster = await startRaftCluster(160);
    admin = new AdminClient(cluster.addresses, 10_000);
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    let last = 0;
    let n = 0;
    const take = async (k: number): Promise<void> => {
      for (let i = 0; i < k; i++) {
        const count = (i % 5) + 1;
        const ts = await client!.timestamp(count);
        assert.ok(ts > last, `timestamp ${ts} after ${last}`);
        last = ts + count - 1;
        n++;
      }
    };
    await take(100);
    const metaLeader = async (): Promise<number> => until('range 1 has a leader', async () => {
      const r = (await client!.routes()).find((x) => x.rangeId === 1);
      return r !== undefined && r.leaderId !== 0 ? r.leaderId : undefined;
    });
    const l1 = await metaLeader();
    const to = [1, 2, 3].find((id) => id !== l1)!;
    await admin.transferLeader(to, 5000, 1);
    await take(100);
    // kill -9 the current meta leader: the next leader starts above the persisted bound.
    const l2 = await metaLeader();
    const node = cluster.nodes[l2 - 1]!; // raft ids are 1-based node indexes (startRaftCluster)
    const t0 = Date.now();
    await node.kill9();
    await take(100);
    console.log(`      ${n} TSO calls strictly increasing; first call after kill -9 of the meta leader (store ${l2}) and 100 more took ${Date.now() - t0} ms`);
    await node.start();
    await take(50);
  });

  it('negative control: with publishing disabled the directory never learns a split of another range', async function () {
    cluster = await startRaftCluster(170, { env: { KVS_TEST_DISABLE_META_PUBLISH: '1' } });
    admin = new AdminClient(cluster.addresses, 10_000);
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
    await split(admin, 'b'); // range 1's own split: in the directory atomically, publisher or not
    const third = await split(admin, 'd'); // the right half's split: only its leader's publish records it
    await sleep(3000);
    for (const a of cluster.addresses) {
      const dir = await client.routes({ endpoint: a, directoryOnly: true });
      assert.ok(!dir.some((r) => r.rangeId === third), `store ${a}: the directory cannot know range ${third} without a publish`);
      assert.ok(dir.every((r) => r.leaderId === 0), 'and no leader was ever published');
      // The overlay of the store's own replicas still routes correctly.
      assert.ok((await client.routes({ endpoint: a })).some((r) => r.rangeId === third));
    }
  });
});
