// Sharding on real node processes (issue 12): three stores, ranges split with `kvsctl range split`
// while a client writes with exactly-once sessions across the whole key space; every acknowledged
// write stays readable, a scan across ranges returns every key exactly once and in order, `kvsctl range
// list --json` shows the shard map, a store killed with -9 reopens every range, and a batch across a
// range boundary commits atomically.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { peersOf, NodeProcess, ProcessCluster, collectLogsOnFailure, sleep, until, raftClusterForSuite, startRaftCluster } from '../helpers/cluster-process.js';

const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const run = promisify(execFile);
const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
const KEYS = 200;

interface RangeRow {
  id: number;
  start: string;
  end: string;
  replicas: Array<{ storeId: number; role: string }>;
  leader: number;
  approximateBytes: number;
}

describe('ranges on real processes (split under load, shard map, crash, cross-range batch)', function () {
  this.timeout(120_000);
  let cluster: ProcessCluster;
  let client: KvClient;
  let eps: string;

  before(async function () {
    cluster = await startRaftCluster(70);
    eps = cluster.addresses.join(',');
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    client?.close();
    await cluster?.cleanup();
  });

  const kvsctl = async (...args: string[]): Promise<string> => (await run(process.execPath, [KVSCTL, '--endpoints', eps, ...args], { timeout: 30_000 })).stdout;
  const rangeList = async (): Promise<RangeRow[]> => JSON.parse(await kvsctl('--json', 'range', 'list')) as RangeRow[];

  it('splits while a client writes: no acknowledged write lost, the shard map is contiguous and fully replicated', async function () {
    const acked = new Map<string, string>();
    let stop = false;
    let writes = 0;
    const failures: string[] = [];
    // Bounded writer: round-robin over the key space, one write in flight per worker.
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; n < 400 && !stop; n++) {
        const k = key((n * 4 + w) % KEYS);
        const v = `${w}-${n}`;
        try {
          await client.put(k, v);
          acked.set(k, v);
          writes++;
        } catch (e) {
          failures.push(`${k}: ${(e as Error).message}`);
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await sleep(300);
    for (const at of ['k050', 'k100', 'k150']) {
      const out = await kvsctl('range', 'split', at);
      assert.match(out, /^split: range \d+ \[.*\) and range \d+ \[/);
      await sleep(200);
    }
    stop = true;
    await load;
    assert.deepEqual(failures, [], 'every write succeeded (splits are invisible to clients)');
    assert.ok(writes > 100, `the load ran (${writes} writes)`);

    const ranges = await until('4 ranges with leaders', async () => {
      const r = await rangeList();
      return r.length === 4 && r.every((x) => x.leader > 0) ? r : undefined;
    });
    assert.deepEqual(
      ranges.map((r) => [r.start, r.end]),
      [
        ['', 'k050'],
        ['k050', 'k100'],
        ['k100', 'k150'],
        ['k150', ''],
      ],
    );
    for (const r of ranges) assert.deepEqual(r.replicas.map((x) => x.storeId).sort(), [1, 2, 3], `range ${r.id} is on every store`);
    // Every range holds data, none of it flushed to a table file yet: the sizes count it (they read 0 before).
    for (const r of ranges) assert.ok(r.approximateBytes > 0, `range ${r.id} reports its size (${r.approximateBytes} bytes)`);
    assert.equal(new Set(ranges.map((r) => r.id)).size, 4);
    // Every acknowledged write is readable (each key's last acknowledged value: one writer per key).
    for (const [k, v] of acked) assert.equal((await client.get(k)).value?.toString(), v, k);
    // A scan across the four ranges returns every key once, in order, forward and reverse.
    const all = await client.scan({ start: 'k', end: 'l', limit: 1000 });
    const seen = all.kvs.map((x) => x.key.toString());
    assert.deepEqual(seen, [...acked.keys()].sort());
    const rev = await client.scan({ start: 'k', end: 'l', limit: 1000, reverse: true });
    assert.deepEqual(rev.kvs.map((x) => x.key.toString()), [...seen].reverse());
    const store = JSON.parse(await kvsctl('--json', 'store', 'list')) as Array<{ storeId: number; ranges: number }>;
    assert.deepEqual(store.map((s) => s.ranges), [4, 4, 4]);
  });

  it('kvsctl range transfer-leader moves one range\'s leadership and nothing else', async function () {
    const before = await rangeList();
    const r = before[2]!;
    const to = [1, 2, 3].find((x) => x !== r.leader)!;
    await kvsctl('range', 'transfer-leader', String(r.id), String(to));
    const after = await until('the moved leader is reported', async () => {
      const l = await rangeList();
      return l.find((x) => x.id === r.id)?.leader === to ? l : undefined;
    });
    for (const x of after) if (x.id !== r.id) assert.equal(x.leader, before.find((y) => y.id === x.id)!.leader, `range ${x.id} kept its leader`);
    // An unknown range is refused as bad input (exit 2), not as a retryable "no replica here".
    for (const args of [['range', 'transfer-leader', '999999', '1'], ['range', 'move', '999999', '--from', '1', '--to', '2']]) {
      await assert.rejects(kvsctl(...args), (e: { stderr?: string; code?: number }) => /range 999999 does not exist \(ranges: [\d, ]+\); nothing was changed/.test(e.stderr ?? '') && e.code === 2, args.join(' '));
    }
  });

  it('a batch across a range boundary commits atomically (one commit ts on both ranges); within one range it is one command', async function () {
    const r = await client.batch([
      { op: 'put', key: 'k049', value: 'x' },
      { op: 'put', key: 'k051', value: 'x' },
    ]);
    const a = await client.get('k049');
    const c = await client.get('k051');
    assert.equal(a.value?.toString(), 'x');
    assert.equal(c.value?.toString(), 'x');
    assert.equal(a.version, r.version);
    assert.equal(c.version, r.version);
    await client.batch([
      { op: 'put', key: 'k051', value: 'b' },
      { op: 'put', key: 'k052', value: 'b' },
    ]);
    assert.equal((await client.get('k052')).value?.toString(), 'b');
  });

  it('a store killed with -9 reopens every range and catches up; writes to every range go on', async function () {
    const victim = cluster.node(2);
    await victim.kill9();
    for (let i = 0; i < KEYS; i += 10) await client.put(key(i), `after-kill-${i}`);
    await victim.restart();
    await victim.waitReady(30_000);
    const admin = new AdminClient([victim.address]);
    try {
      const mine = await until('the restarted store holds 4 ranges, each knowing its leader', async () => {
        const r = await admin.ranges();
        return r.ranges.length === 4 && r.ranges.every((x) => x.leaderId > 0) ? r : undefined;
      });
      assert.equal(mine.storeId, 3);
      // Its replicas catch up: a read served by the restarted node sees the writes made while it was down.
      const local = new KvClient({ endpoints: [victim.address], timeoutMs: 15_000 });
      try {
        for (let i = 0; i < KEYS; i += 10) assert.equal((await local.get(key(i))).value?.toString(), `after-kill-${i}`);
      } finally {
        local.close();
      }
    } finally {
      admin.close();
    }
    for (let i = 5; i < KEYS; i += 10) await client.put(key(i), 'last');
  });
});

describe('clients go straight to the leader of each range (Kv.Routes)', function () {
  this.timeout(90_000);
  const suite = raftClusterForSuite(80);

  it('after a split, puts reach each range\'s leader directly (followers propose nothing)', async function () {
    const admin = new AdminClient(suite.cluster.addresses);
    let client = new KvClient({ endpoints: suite.cluster.addresses, timeoutMs: 15_000 });
    let plain: KvClient | undefined;
    try {
      await client.put('a', '0');
      await admin.splitRange(Buffer.from('m'));
      await until('range leaders known', async () => {
        const r = await admin.ranges();
        return r.ranges.length === 2 && r.ranges.every((x) => x.leaderId > 0) ? r : undefined;
      });
      // A fresh client: the first one's table may predate the split (fetched in the background while
      // 'a' was put), and a request a follower forwards succeeds, so nothing would mark it stale for
      // up to the table's 10 s maximum age.
      client.close();
      client = new KvClient({ endpoints: suite.cluster.addresses, timeoutMs: 15_000 });
      const proposals = async (): Promise<Map<string, number>> => {
        const m = new Map<string, number>();
        for (const [i, a] of suite.cluster.addresses.entries()) {
          const ac = new AdminClient([a]);
          try {
            for (const r of (await ac.ranges()).ranges) m.set(`${i + 1}/${r.rangeId}`, r.proposals);
          } finally {
            ac.close();
          }
        }
        return m;
      };
      // Warm the table, then measure.
      for (let i = 0; i < 5; i++) await client.put(`b${i}`, 'w');
      await sleep(700);
      await client.put('warm', '1');
      const before = await proposals();
      const routedBefore = client.routedToLeader;
      for (let i = 0; i < 30; i++) {
        await client.put(`c${i}`, 'x'); // range 1
        await client.put(`n${i}`, 'y'); // the right range
      }
      const after = await proposals();
      assert.ok(client.routedToLeader - routedBefore >= 55, `routed to leaders: ${client.routedToLeader - routedBefore} of 60`);
      const ranges = (await admin.ranges()).ranges;
      for (const r of ranges) {
        for (const store of [1, 2, 3]) {
          const k = `${store}/${r.rangeId}`;
          const delta = (after.get(k) ?? 0) - (before.get(k) ?? 0);
          if (store === r.leaderId) assert.ok(delta >= 30, `leader store ${store} proposed ${delta} for range ${r.rangeId}`);
          else assert.ok(delta <= 2, `follower store ${store} proposed ${delta} for range ${r.rangeId} (writes should go to the leader)`);
        }
      }
      // Negative control: the same writes without leader routing land on followers too (forwarded).
      const l = ranges.find((x) => x.rangeId === 1)!.leaderId;
      const follower = [1, 2, 3].find((x) => x !== l)!;
      plain = new KvClient({ endpoints: [suite.cluster.addresses[follower - 1]!], timeoutMs: 15_000, routeToLeaders: false });
      const b2 = await proposals();
      for (let i = 0; i < 30; i++) await plain.put(`c${i}`, 'z');
      const a2 = await proposals();
      const followerProposals = (a2.get(`${follower}/1`) ?? 0) - (b2.get(`${follower}/1`) ?? 0);
      assert.ok(followerProposals >= 25, `without routing, the follower proposed ${followerProposals} (forwarded)`);
    } finally {
      client.close();
      plain?.close();
      admin.close();
    }
  });

  it('concurrent gets go to their range\'s leader too (lease reads, no ReadIndex round via a follower); a finite slack spills some to the preferred node', async function () {
    const admin = new AdminClient(suite.cluster.addresses);
    const clients: KvClient[] = [];
    try {
      const leader = await until('range 1 has a leader', async () => (await admin.ranges()).ranges.find((x) => x.rangeId === 1)?.leaderId || undefined);
      const follower = [1, 2, 3].find((x) => x !== leader)!;
      // The follower first in the list: without leader routing every get would go there.
      const order = [suite.cluster.addresses[follower - 1]!, ...suite.cluster.addresses.filter((_, i) => i !== follower - 1)];
      const writer = new KvClient({ endpoints: suite.cluster.addresses, timeoutMs: 15_000 });
      clients.push(writer);
      for (let i = 0; i < 20; i++) await writer.put(`g${i}`, `v${i}`); // range 1 (keys below 'm')
      const measure = async (c: KvClient): Promise<number> => {
        await c.get('g0');
        await sleep(700); // the Routes table, fetched in the background by the first get
        await c.get('g0');
        const before = c.routedToLeader;
        for (let wave = 0; wave < 5; wave++) {
          const got = await Promise.all(Array.from({ length: 40 }, (_, j) => c.get(`g${j % 20}`)));
          got.forEach((r, j) => assert.equal(r.value?.toString(), `v${j % 20}`));
        }
        return c.routedToLeader - before;
      };
      const byDefault = new KvClient({ endpoints: order, start: 'first', timeoutMs: 15_000 });
      clients.push(byDefault);
      assert.equal(await measure(byDefault), 200, 'every get at 40 in flight routed to the leader');
      // Control: with slack 0 a get goes to the leader only while its node has no more of this client's
      // requests in flight than the follower: about half of them spill.
      const spilling = new KvClient({ endpoints: order, start: 'first', timeoutMs: 15_000, readLeaderSlack: 0 });
      clients.push(spilling);
      const routed = await measure(spilling);
      assert.ok(routed > 0 && routed < 180, `slack 0: ${routed} of 200 routed to the leader`);
    } finally {
      for (const c of clients) c.close();
      admin.close();
    }
  });
});

describe('a store that joins after splits gets a replica of every range (created on demand, filled by snapshot)', function () {
  this.timeout(120_000);
  let cluster: ProcessCluster;
  let extra: NodeProcess | undefined;
  before(async function () {
    cluster = await startRaftCluster(90);
  });
  afterEach(function () {
    collectLogsOnFailure(this, [...(cluster?.nodes ?? []), extra]);
  });
  after(async function () {
    await extra?.cleanup();
    await cluster?.cleanup();
  });

  it('member add + promote of a 4th store after two splits: it serves all three ranges; removing an old store leaves every range whole', async function () {
    const admin = new AdminClient(cluster.addresses);
    const client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    try {
      for (const k of ['a', 'h', 'p', 'x']) await client.put(k, `v-${k}`);
      await admin.splitRange(Buffer.from('g'));
      await admin.splitRange(Buffer.from('o'));
      for (const k of ['b', 'i', 'q']) await client.put(k, `after-${k}`);
      const probe = new NodeProcess({ nodeId: 'n4', host: '127.0.0.94' });
      await probe.allocatePorts();
      extra = new NodeProcess({ nodeId: 'n4', host: '127.0.0.94', grpcPort: probe.grpcPort, httpPort: probe.httpPort, extraArgs: ['--raft-id', '4', '--join', '--peers', peersOf(cluster.nodes.map((n) => n.spec))] });
      await extra.start();
      await admin.addLearner(4, extra.address);
      const mine = new AdminClient([extra.address]);
      try {
        const ranges = await until(
          'the new store holds 3 initialized ranges',
          async () => {
            const r = await mine.ranges();
            return r.ranges.length === 3 ? r.ranges : undefined;
          },
          30_000,
          200,
        );
        assert.deepEqual(ranges.map((r) => [r.start.toString(), r.end.toString()]), [['', 'g'], ['g', 'o'], ['o', '']]);
        // Promote once caught up (Promote checks range 1's progress; the others follow).
        await until('promoted', async () => ((await admin.promote(4).catch(() => undefined))?.ok ? true : undefined), 30_000, 300);
        await until(
          'store 4 is a voter of every range',
          async () => {
            const r = await mine.ranges();
            return r.ranges.every((x) => x.replicas.some((y) => y.storeId === 4 && y.role === 'voter')) ? true : undefined;
          },
          30_000,
          200,
        );
      } finally {
        mine.close();
      }
      const local = new KvClient({ endpoints: [extra.address], timeoutMs: 20_000 });
      try {
        for (const k of ['a', 'h', 'p', 'x']) assert.equal((await local.get(k)).value?.toString(), `v-${k}`);
        for (const k of ['b', 'i', 'q']) assert.equal((await local.get(k)).value?.toString(), `after-${k}`);
      } finally {
        local.close();
      }
      // An old store leaves (every range): the remaining three keep serving every range.
      const res = await admin.removeMember(1);
      assert.ok(res.ok, res.message);
      await cluster.node(0).stop();
      const rest = new KvClient({ endpoints: [cluster.addresses[1]!, cluster.addresses[2]!, extra.address], timeoutMs: 20_000 });
      try {
        for (const k of ['a', 'i', 'x']) await rest.put(k, 'final');
        for (const k of ['a', 'i', 'x']) assert.equal((await rest.get(k)).value?.toString(), 'final');
      } finally {
        rest.close();
      }
    } finally {
      client.close();
      admin.close();
    }
  });
});

describe('a store added for a placement driver joins the membership range only (AddLearner/Promote membership_only)', function () {
  this.timeout(120_000);
  let cluster: ProcessCluster;
  let extra: NodeProcess | undefined;
  before(async function () {
    cluster = await startRaftCluster(95);
  });
  afterEach(function () {
    collectLogsOnFailure(this, [...(cluster?.nodes ?? []), extra]);
  });
  after(async function () {
    await extra?.cleanup();
    await cluster?.cleanup();
  });

  it('the new store holds range 1 alone, as a voter after the promotion; a range then placed on it (learner → promote) serves there', async function () {
    const admin = new AdminClient(cluster.addresses);
    const client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    try {
      for (const k of ['a', 'p']) await client.put(k, `v-${k}`);
      const { right } = await admin.splitRange(Buffer.from('g'));
      const probe = new NodeProcess({ nodeId: 'n4', host: '127.0.0.95' });
      await probe.allocatePorts();
      extra = new NodeProcess({ nodeId: 'n4', host: '127.0.0.95', grpcPort: probe.grpcPort, httpPort: probe.httpPort, extraArgs: ['--raft-id', '4', '--join', '--peers', peersOf(cluster.nodes.map((n) => n.spec))] });
      await extra.start();
      const added = await admin.addLearner(4, extra.address, 0, true);
      assert.match(added.message, /membership range only/);
      const mine = new AdminClient([extra.address]);
      try {
        await until('the new store holds range 1', async () => ((await mine.ranges()).ranges.some((r) => r.rangeId === 1) ? true : undefined), 30_000, 200);
        await until('promoted in range 1', async () => ((await admin.promote(4, 0, 0, true).catch(() => undefined))?.ok ? true : undefined), 30_000, 300);
        // Give a fan-out (the default) time to have happened: none may.
        await sleep(1000);
        const held = (await mine.ranges()).ranges;
        assert.deepEqual(held.map((r) => r.rangeId), [1], 'only the membership range');
        assert.ok(held[0]!.replicas.some((x) => x.storeId === 4 && x.role === 'voter'), 'a voter of range 1');
        const other = (await admin.ranges(cluster.addresses[0]!)).ranges.find((r) => r.rangeId === Number(right.rangeId))!;
        assert.ok(!other.replicas.some((x) => x.storeId === 4), `range ${right.rangeId} does not list store 4: ${JSON.stringify(other.replicas)}`);
        // What the placement driver does next, range by range.
        await admin.addLearner(4, '', Number(right.rangeId));
        await until(`promoted in range ${right.rangeId}`, async () => ((await admin.promote(4, 0, Number(right.rangeId)).catch(() => undefined))?.ok ? true : undefined), 30_000, 300);
        const local = new KvClient({ endpoints: [extra.address], timeoutMs: 20_000 });
        try {
          assert.equal((await local.get('p')).value?.toString(), 'v-p');
        } finally {
          local.close();
        }
      } finally {
        mine.close();
      }
    } finally {
      client.close();
      admin.close();
    }
  });
});

describe('moving one range\'s replica between stores (kvsctl range move)', function () {
  this.timeout(120_000);
  const suite = raftClusterForSuite(100);

  it('a removed replica is destroyed; a move adds a learner (snapshot), promotes it and removes the source; data intact', async function () {
    const eps = suite.cluster.addresses.join(',');
    const kvsctl = async (...args: string[]): Promise<string> => (await run(process.execPath, [KVSCTL, '--endpoints', eps, ...args], { timeout: 90_000 })).stdout;
    const admin = new AdminClient(suite.cluster.addresses);
    const client = new KvClient({ endpoints: suite.cluster.addresses, timeoutMs: 20_000 });
    const byStore = (i: number) => new AdminClient([suite.cluster.addresses[i - 1]!]);
    try {
      for (let i = 0; i < 50; i++) await client.put(`m${String(i).padStart(2, '0')}`, `v${i}`);
      await client.put('a', 'left');
      const { right } = await admin.splitRange(Buffer.from('m'));
      const R = right.rangeId;
      // Store 3 gives up its replica of R (2 replicas left): it destroys it and no longer routes R's keys.
      await admin.removeMember(3, false, R);
      const s3 = byStore(3);
      try {
        await until('store 3 dropped range R', async () => ((await s3.ranges()).ranges.some((r) => r.rangeId === R) ? undefined : true));
      } finally {
        s3.close();
      }
      // Move R from store 1 to store 3.
      const out = await kvsctl('range', 'move', String(R), '--from', '1', '--to', '3');
      assert.match(out, /added learner 3 to range/);
      assert.match(out, /promoted 3 in range/);
      const list = await until('R on stores 2 and 3 with a leader', async () => {
        const l = JSON.parse(await kvsctl('--json', 'range', 'list')) as Array<{ id: number; replicas: Array<{ storeId: number; role: string }>; leader: number }>;
        const r = l.find((x) => x.id === R);
        return r && r.leader > 0 && r.replicas.map((x) => x.storeId).sort().join() === '2,3' && r.replicas.every((x) => x.role === 'voter') ? l : undefined;
      }, 30_000, 200);
      assert.equal(list.find((x) => x.id === 1)!.replicas.length, 3, 'range 1 untouched');
      const s1 = byStore(1);
      try {
        await until('store 1 destroyed its replica of R', async () => ((await s1.ranges()).ranges.some((r) => r.rangeId === R) ? undefined : true));
      } finally {
        s1.close();
      }
      // Every key readable; store 3 serves R's keys itself (it received them by snapshot).
      for (let i = 0; i < 50; i++) assert.equal((await client.get(`m${String(i).padStart(2, '0')}`)).value?.toString(), `v${i}`);
      const local3 = new KvClient({ endpoints: [suite.cluster.addresses[2]!], timeoutMs: 20_000 });
      try {
        assert.equal((await local3.get('m07')).value?.toString(), 'v7');
        await local3.put('m99', 'written-after-move');
      } finally {
        local3.close();
      }
      assert.equal((await client.get('m99')).value?.toString(), 'written-after-move');
      assert.equal((await client.get('a')).value?.toString(), 'left');
    } finally {
      client.close();
      admin.close();
    }
  });
});
