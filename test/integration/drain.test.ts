// Store drain on real node processes (`kvsctl store drain`, client/drain.ts): 4 stores, four ranges
// (three splits), the three split ranges on 3 stores each; store 2 leads three ranges and is drained
// while clients write (one move was left half done by an earlier, interrupted drain): its leaderships
// and its replicas of the ranges some other store lacks move away,
// range 1 (every store holds it) keeps its replica there; no write fails, every acknowledged write is
// readable. An unknown store is refused and nothing changes. With 3 stores (replicas == stores) only
// leaderships move.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminClient, KEPT_NO_TARGET, KvClient, drainStore, removeReplica } from '../../node/src/client/index.js';
import { ProcessCluster, collectLogsOnFailure, sleep, until, raftClusterForSuite, startRaftCluster } from '../helpers/cluster-process.js';

const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const run = promisify(execFile);
const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
const KEYS = 200;

interface RangeRow {
  id: number;
  start: string;
  end: string;
  epoch: { confVer: number; version: number };
  replicas: Array<{ storeId: number; role: string }>;
  leader: number;
}

/** Bounded writers over the whole key space (one write in flight each) until `stop()` or 1500 writes each. */
function writeLoad(client: KvClient, workers = 4): { acked: Map<string, string>; failures: string[]; writes: () => number; stop: () => Promise<void> } {
  const acked = new Map<string, string>();
  const failures: string[] = [];
  let writes = 0;
  let stopped = false;
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; n < 1500 && !stopped; n++) {
      // One writer per key (w + 4n), so each key's last acknowledged value is known.
      const k = key((n * workers + w) % KEYS);
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
  const all = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    acked,
    failures,
    writes: () => writes,
    stop: async () => {
      stopped = true;
      await all;
    },
  };
}

const storesOf = (r: RangeRow): string => r.replicas.map((x) => x.storeId).sort((a, b) => a - b).join(',');

describe('kvsctl store drain on 4 stores (ranges on 3 of them) under writes', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster;
  let client: KvClient;
  let admin: AdminClient;
  let eps: string;

  before(async function () {
    cluster = await startRaftCluster(110, { size: 4 });
    eps = cluster.addresses.join(',');
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    admin = new AdminClient(cluster.addresses);
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    client?.close();
    admin?.close();
    await cluster?.cleanup();
  });

  const kvsctl = async (...args: string[]): Promise<string> => (await run(process.execPath, [KVSCTL, '--endpoints', eps, '--timeout', '20s', ...args], { timeout: 150_000 })).stdout;
  const rangeList = async (): Promise<RangeRow[]> => JSON.parse(await kvsctl('--json', 'range', 'list')) as RangeRow[];

  it('moves store 2\'s leaderships and the replicas another store lacks; range 1 stays; no write fails', async function () {
    for (let i = 0; i < KEYS; i += 5) await client.put(key(i), 'initial');
    for (const at of ['k050', 'k100', 'k150']) await admin.splitRange(Buffer.from(at));
    let ranges = await until('4 ranges with leaders', async () => {
      const r = await rangeList();
      return r.length === 4 && r.every((x) => x.leader > 0) ? r : undefined;
    });
    const [r1, a, b, c] = ranges as [RangeRow, RangeRow, RangeRow, RangeRow];
    assert.equal(r1.id, 1);
    // Three replicas per split range: store 1 leaves A, store 3 leaves B, store 2 leaves C (range 1 is the
    // membership range: every store of the cluster holds it).
    for (const [r, s] of [[a, 1], [b, 3], [c, 2]] as const) await removeReplica(admin, r.id, s);
    // Store 2 leads range 1, A and B.
    for (const r of [r1, a, b]) await admin.transferLeader(2, 5000, r.id);
    // An earlier drain was interrupted after its first step for A: a learner on store 1 (the target).
    await admin.addLearner(1, '', a.id);
    ranges = await until('the arranged shard map', async () => {
      const l = await rangeList();
      const by = new Map(l.map((x) => [x.id, x]));
      const learner1 = by.get(a.id)!.replicas.some((x) => x.storeId === 1 && x.role === 'learner');
      const ok = learner1 && storesOf(by.get(a.id)!) === '1,2,3,4' && storesOf(by.get(b.id)!) === '1,2,4' && storesOf(by.get(c.id)!) === '1,3,4' && [r1, a, b].every((x) => by.get(x.id)!.leader === 2);
      return ok ? l : undefined;
    }, 30_000, 200);

    // Admin Status counts what the operator drains on (ranges led; replicas another store lacks as a voter:
    // A, whose move to store 1 is half done, and B).
    // Store 2 holds range 1, A and B (its replica of C was removed) and leads all three.
    await until('store 2 reports holding 3, leading 3, 2 movable', async () => {
      const st = await admin.status(cluster.addresses[1]!);
      return st.rangesHeld === 3 && st.rangesLed === 3 && st.rangesMovable === 2 ? st : undefined;
    }, 15_000, 200);

    // An unknown store: a typed, clear error, and nothing changes.
    await assert.rejects(kvsctl('store', 'drain', '9'), (e: { code?: number; stderr?: string }) => e.code === 1 && /store 9 is not in the cluster \(known stores: 1, 2, 3, 4\); nothing was changed/.test(e.stderr ?? ''));
    // The dry run prints the plan and changes nothing.
    const dry = JSON.parse(await kvsctl('--json', 'store', 'drain', '2', '--dry-run')) as { dryRun: boolean; plan: Array<Record<string, unknown>>; kept: Array<{ rangeId: number; reason: string }> };
    assert.equal(dry.dryRun, true);
    // Ranges in id order (split ranges have random ids): leaderships first, then the moves, then what stays.
    const [first, second] = [a, b].sort((x, y) => x.id - y.id) as [RangeRow, RangeRow];
    const target = (r: RangeRow): number => (r.id === a.id ? 1 : 3); // the one store lacking it
    assert.deepEqual(
      dry.plan.map((s) => `${String(s.type)} ${String(s.rangeId)}${s.type === 'move-replica' ? ` ${String(s.from)}→${String(s.to)}` : ''}`),
      ['transfer-leader 1', `transfer-leader ${first.id}`, `transfer-leader ${second.id}`, `move-replica ${first.id} 2→${target(first)}`, `move-replica ${second.id} 2→${target(second)}`, 'keep-replica 1'],
    );
    for (const s of dry.plan.filter((x) => x.type === 'transfer-leader')) assert.notEqual(s.to, 2);
    assert.equal(dry.plan.find((x) => x.type === 'move-replica' && x.rangeId === a.id)!.resumes, true, 'A\'s move finishes the interrupted one');
    assert.deepEqual(dry.kept, [{ rangeId: 1, reason: KEPT_NO_TARGET }]);
    const unchanged = await rangeList();
    assert.deepEqual(unchanged.map((x) => [x.id, x.epoch, storesOf(x)]), ranges.map((x) => [x.id, x.epoch, storesOf(x)]), 'the dry run and the refused drain changed nothing');

    // The drain, while four clients write over every range.
    const load = writeLoad(client);
    await sleep(300);
    const t0 = Date.now();
    const res = JSON.parse(await kvsctl('--json', 'store', 'drain', '2')) as { movedReplicas: number; movedLeaderships: number; removedLearners: number; kept: Array<{ rangeId: number; reason: string }>; events: Array<{ ok?: boolean }> };
    const drainMs = Date.now() - t0;
    await sleep(300);
    await load.stop();
    assert.deepEqual(load.failures, [], 'no write failed during the drain');
    assert.ok(load.writes() > 100, `the load ran (${load.writes()} writes)`);
    console.log(`      drain under load: ${drainMs} ms, ${load.writes()} writes acknowledged, ${load.failures.length} failed`);
    assert.equal(res.movedReplicas, 2);
    assert.equal(res.movedLeaderships, 3);
    assert.deepEqual(res.kept, [{ rangeId: 1, reason: KEPT_NO_TARGET }]);
    assert.ok(res.events.every((e) => e.ok !== false), 'no step failed');

    const after = await until('store 2 leads nothing; A and B moved', async () => {
      const l = await rangeList();
      const by = new Map(l.map((x) => [x.id, x]));
      return l.every((x) => x.leader > 0 && x.leader !== 2) && storesOf(by.get(a.id)!) === '1,3,4' && storesOf(by.get(b.id)!) === '1,3,4' ? by : undefined;
    }, 30_000, 200);
    assert.equal(storesOf(after.get(c.id)!), '1,3,4', 'range C (not on store 2) untouched');
    assert.equal(storesOf(after.get(1)!), '1,2,3,4', 'range 1 kept its replica on store 2');
    for (const r of after.values()) assert.ok(r.replicas.every((x) => x.role === 'voter'), `range ${r.id}: no learner left`);
    // Store 2 destroyed its moved replicas: it holds range 1 only, and leads nothing.
    const s2 = new AdminClient([cluster.addresses[1]!]);
    try {
      const mine = await until('store 2 holds range 1 only', async () => {
        const r = await s2.ranges();
        return r.ranges.length === 1 ? r.ranges : undefined;
      }, 30_000, 200);
      assert.equal(mine[0]!.rangeId, 1);
      assert.notEqual(mine[0]!.role, 'Leader');
      const st = await s2.status();
      assert.deepEqual([st.rangesHeld, st.rangesLed, st.rangesMovable], [1, 0, 0], 'store 2 after the drain: holds range 1, leads none, nothing movable');
    } finally {
      s2.close();
    }
    // Every acknowledged write is readable (each key's last acknowledged value: one writer per key).
    for (const [k, v] of load.acked) assert.equal((await client.get(k)).value?.toString(), v, k);
    const all = await client.scan({ start: 'k', end: 'l', limit: 1000 });
    const written = new Set([...Array.from({ length: KEYS / 5 }, (_, i) => key(i * 5)), ...load.acked.keys()]);
    assert.deepEqual(all.kvs.map((x) => x.key.toString()), [...written].sort(), 'a scan across the ranges sees every key once');

    // Running it again: nothing left to move (idempotent).
    const again = await kvsctl('store', 'drain', '2');
    assert.match(again, /drained store 2: moved 0 replica\(s\), moved 0 leadership\(s\), removed 0 learner\(s\), kept 1 \(range 1: no store to move it to\)/);
  });
});

describe('store drain when every store holds every range (3 stores): only leaderships move', function () {
  this.timeout(120_000);
  const suite = raftClusterForSuite(120);

  it('drainStore moves the three leaderships of store 1 and keeps its three replicas', async function () {
    const admin = new AdminClient(suite.cluster.addresses);
    const client = new KvClient({ endpoints: suite.cluster.addresses, timeoutMs: 20_000 });
    try {
      await admin.splitRange(Buffer.from('k080'));
      await admin.splitRange(Buffer.from('k160'));
      const ids = await until('3 ranges with leaders', async () => {
        const r = await admin.ranges();
        return r.ranges.length === 3 && r.ranges.every((x) => x.leaderId > 0) ? r.ranges.map((x) => x.rangeId) : undefined;
      });
      for (const id of ids) await admin.transferLeader(1, 5000, id);
      const st0 = await until('store 1 reports leading the 3 ranges', async () => {
        const st = await admin.status(suite.cluster.addresses[0]!);
        return st.rangesLed === 3 ? st : undefined;
      });
      assert.deepEqual([st0.rangesHeld, st0.rangesMovable], [3, 0], 'every store holds every range: nothing movable');
      const load = writeLoad(client, 3);
      await sleep(200);
      const lines: string[] = [];
      const res = await drainStore(admin, 1, { onEvent: (e) => lines.push(e.type === 'plan' ? `plan ${e.plan.steps.length}` : `${e.step.type} ${e.ok ? 'ok' : e.error}`) });
      await load.stop();
      assert.deepEqual(load.failures, []);
      assert.equal(res.movedReplicas, 0);
      assert.equal(res.movedLeaderships, 3, lines.join('\n'));
      assert.deepEqual(res.kept, ids.map((rangeId) => ({ rangeId, reason: KEPT_NO_TARGET })).sort((x, y) => x.rangeId - y.rangeId));
      assert.deepEqual(res.plan.steps.filter((s) => s.type === 'move-replica'), []);
      const s1 = new AdminClient([suite.cluster.addresses[0]!]);
      try {
        const mine = (await s1.ranges()).ranges;
        assert.equal(mine.length, 3, 'store 1 kept every replica');
        for (const r of mine) {
          assert.deepEqual(r.replicas.map((x) => x.storeId).sort(), [1, 2, 3]);
          assert.notEqual(r.role, 'Leader', `store 1 no longer leads range ${r.rangeId}`);
        }
        assert.equal((await s1.status()).rangesLed, 0, 'Admin Status: store 1 leads no range');
      } finally {
        s1.close();
      }
      for (const [k, v] of load.acked) assert.equal((await client.get(k)).value?.toString(), v, k);
    } finally {
      client.close();
      admin.close();
    }
  });

  it('leadershipsOnly (the operator before a pod restart): store 2 leads the 3 ranges, then none; no replica changes', async function () {
    const admin = new AdminClient(suite.cluster.addresses);
    try {
      const before = (await admin.ranges()).ranges;
      for (const r of before) await admin.transferLeader(2, 5000, r.rangeId);
      await until('store 2 reports leading the 3 ranges', async () => ((await admin.status(suite.cluster.addresses[1]!)).rangesLed === 3 ? true : undefined));
      const res = await drainStore(admin, 2, { leadershipsOnly: true });
      assert.equal(res.movedLeaderships, 3);
      assert.equal(res.movedReplicas + res.removedLearners, 0);
      const st = await until('store 2 leads no range', async () => {
        const x = await admin.status(suite.cluster.addresses[1]!);
        return x.rangesLed === 0 ? x : undefined;
      });
      assert.equal(st.rangesHeld, 3, 'store 2 kept every replica');
      const after = (await admin.ranges()).ranges;
      assert.deepEqual(after.map((r) => [r.rangeId, r.confVer]), before.map((r) => [r.rangeId, r.confVer]), 'no configuration change');
      // Nothing left to do: a rerun moves nothing and succeeds.
      assert.equal((await drainStore(admin, 2, { leadershipsOnly: true })).movedLeaderships, 0);
    } finally {
      admin.close();
    }
  });
});
