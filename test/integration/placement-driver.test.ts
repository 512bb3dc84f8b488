// The operator's placement loop (issue 13) on real node processes, without Kubernetes: 5 stores
// (127.0.0.200-204), 25 ranges besides range 1 (the membership range, on every store, not placed), all
// on stores 1-3 with every leadership on one store. The operator's PlacementDriver (observe → plan →
// apply, called in a loop as the reconciler would) balances replicas and leaders across the 5 stores
// within ±20 % while 4 writers run: no write fails, every acknowledged write is readable, every range
// ends with 3 voters on 3 distinct stores. The driver is replaced by a fresh one (the operator killed,
// its memory lost) right after its first AddLearners: the new one promotes those learners, never adds
// another replica to those ranges first. Negative control: the same loop with the apply layer disabled
// (dry run) leaves the shard map as it was and the balance check fails.
import assert from 'node:assert/strict';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { GrpcNodeAdmin } from '../../operator/src/runtime/admin.js';
import { PlacementDriver, type PassOutcome, type PreparedPass } from '../../operator/src/runtime/placement-driver.js';
import { observeShardMap, type StoreEndpoint } from '../../operator/src/runtime/placement-observe.js';
import type { PlacementSpec } from '../../operator/src/placement/types.js';
import { ProcessCluster, collectLogsOnFailure, sleep, startRaftCluster, until } from '../helpers/cluster-process.js';

const RANGES = 25;
const KEYS = (RANGES + 1) * 10;
const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
const SPEC: PlacementSpec = { replicationFactor: 3, maxConcurrentMoves: 4, storeDownTimeoutMs: 5 * 60_000 };

/** Bounded writers over the whole key space, one writer per key (its last acknowledged value is known). */
function writeLoad(client: KvClient, workers = 4): { acked: Map<string, string>; failures: string[]; writes: () => number; stop: () => Promise<void> } {
  const acked = new Map<string, string>();
  const failures: string[] = [];
  let writes = 0;
  let stopped = false;
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; !stopped; n++) {
      const k = key((n * workers + w) % KEYS);
      const v = `${w}-${n}`;
      try {
        await client.put(k, v);
        acked.set(k, v);
        writes++;
      } catch (e) {
        failures.push(`${k}: ${(e as Error).message}`);
      }
      await sleep(5);
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

interface Balance {
  replicas: Map<number, number>;
  leaders: Map<number, number>;
  /** Max |x − mean| / mean over the 5 stores. */
  replicaSpread: number;
  leaderSpread: number;
  /** Every placed range: 3 voters on 3 distinct stores, no learner, a leader. */
  wellFormed: boolean;
}

const spread = (m: Map<number, number>, stores: number[]): number => {
  const xs = stores.map((s) => m.get(s) ?? 0);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.max(...xs.map((x) => Math.abs(x - mean) / mean));
};

describe('placement driver on 5 real stores (ranges on 3 of them) under writes', function () {
  this.timeout(300_000);
  let cluster: ProcessCluster;
  let client: KvClient;
  let admin: AdminClient;
  let nodeAdmin: GrpcNodeAdmin;
  let endpoints: StoreEndpoint[];
  const STORES = [1, 2, 3, 4, 5];

  /** Replica and leader counts of the placed ranges as the stores report them (the operator's own observation). */
  const balance = async (): Promise<Balance> => {
    const m = await observeShardMap(nodeAdmin, endpoints, Date.now());
    const replicas = new Map<number, number>();
    const leaders = new Map<number, number>();
    let wellFormed = m.ranges.length === RANGES;
    for (const r of m.ranges) {
      const voters = r.descriptor.replicas.filter((x) => x.role === 'voter').map((x) => x.storeId);
      if (voters.length !== 3 || new Set(voters).size !== 3 || r.descriptor.replicas.length !== 3 || r.leaderStoreId === undefined) wellFormed = false;
      for (const x of r.descriptor.replicas) replicas.set(x.storeId, (replicas.get(x.storeId) ?? 0) + 1);
      if (r.leaderStoreId !== undefined) leaders.set(r.leaderStoreId, (leaders.get(r.leaderStoreId) ?? 0) + 1);
    }
    return { replicas, leaders, replicaSpread: spread(replicas, STORES), leaderSpread: spread(leaders, STORES), wellFormed };
  };
  const fmt = (b: Balance): string => `replicas ${STORES.map((s) => b.replicas.get(s) ?? 0).join('/')} (±${Math.round(b.replicaSpread * 100)} %), leaders ${STORES.map((s) => b.leaders.get(s) ?? 0).join('/')} (±${Math.round(b.leaderSpread * 100)} %)`;
  const balanced = (b: Balance): boolean => b.wellFormed && b.replicaSpread <= 0.2 && b.leaderSpread <= 0.2;

  before(async function () {
    cluster = await startRaftCluster(200, { size: 5 });
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    admin = new AdminClient(cluster.addresses);
    nodeAdmin = new GrpcNodeAdmin();
    endpoints = cluster.addresses.map((address, i) => ({ storeId: i + 1, pod: `n${i + 1}`, address }));
    for (let i = 0; i < KEYS; i += 3) await client.put(key(i), 'initial');
    for (let r = 1; r <= RANGES; r++) await admin.splitRange(Buffer.from(key(r * 10)));
    const placed = await until(`${RANGES + 1} ranges with leaders`, async () => {
      const l = await admin.ranges();
      return l.ranges.length === RANGES + 1 && l.ranges.every((x) => x.leaderId > 0) ? l.ranges.filter((x) => x.rangeId !== 1) : undefined;
    }, 60_000, 200);
    // Every placed range on stores 1-3 only, every leadership on store 1.
    for (const r of placed) {
      for (const s of [4, 5]) await admin.call('RemoveMember', { raftId: s, force: false, groupId: r.rangeId });
      if (r.leaderId !== 1) await admin.transferLeader(1, 5000, r.rangeId).catch(() => undefined);
    }
    await until('the arranged shard map (ranges on stores 1-3)', async () => {
      const b = await balance();
      return b.wellFormed && (b.replicas.get(4) ?? 0) === 0 && (b.replicas.get(5) ?? 0) === 0 ? b : undefined;
    }, 60_000, 300);
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    client?.close();
    admin?.close();
    nodeAdmin?.close();
    await cluster?.cleanup();
  });

  it('negative control: with the apply layer disabled the loop plans moves but the balance check fails', async function () {
    const dry = new PlacementDriver({ dryRun: true });
    let planned = 0;
    for (let i = 0; i < 3; i++) {
      const p = await dry.pass('test/placement', nodeAdmin, SPEC, endpoints);
      planned += p.executable;
      assert.equal(p.outcomes.length, 0, 'dry run: nothing executed');
      await sleep(300);
    }
    const b = await balance();
    console.log(`      dry run: ${planned} step(s) planned over 3 passes, nothing applied; ${fmt(b)}`);
    assert.ok(planned > 0, 'the planner wants to move replicas');
    assert.equal(balanced(b), false, 'without the apply layer the shard map stays unbalanced');
    assert.equal(b.replicas.get(4) ?? 0, 0);
  });

  it('balances replicas and leaders within ±20 % under writes; resumes after the driver is replaced between AddLearner and Promote', async function () {
    const start = await balance();
    console.log(`      start: ${fmt(start)}`);
    const load = writeLoad(client);
    await sleep(300);
    const t0 = Date.now();
    let driver = new PlacementDriver();
    const passes: Array<PreparedPass & PassOutcome> = [];
    const counts: Record<string, number> = {};
    let failedSteps = 0;
    const run = async (d: PlacementDriver): Promise<PreparedPass & PassOutcome> => {
      const p = await d.pass('test/placement', nodeAdmin, SPEC, endpoints);
      passes.push(p);
      for (const o of p.outcomes) {
        const k = `${o.step.type}:${o.ok ? 'ok' : o.event.type === 'Normal' ? 'waiting' : 'failed'}`;
        counts[k] = (counts[k] ?? 0) + 1;
        if (!o.ok && o.event.type === 'Warning') {
          failedSteps++;
          console.log(`      step failed: ${o.event.note}`);
        }
      }
      return p;
    };

    // First pass: AddLearners only (balance moves start with a learner on store 4 or 5).
    const first = await run(driver);
    const learnerRanges = first.outcomes.filter((o) => o.ok && o.step.type === 'AddLearner').map((o) => o.step.rangeId);
    assert.ok(learnerRanges.length > 0 && learnerRanges.length <= SPEC.maxConcurrentMoves, `first pass adds 1..${SPEC.maxConcurrentMoves} learner(s) (${learnerRanges.length})`);
    // The operator is killed here: its in-memory state is gone; a new driver continues from the shard map.
    driver = new PlacementDriver();
    const seen = new Map<number, string>();
    let converged: Balance | undefined;
    for (let i = 0; i < 400 && Date.now() - t0 < 200_000; i++) {
      const p = await run(driver);
      for (const o of p.outcomes) if (learnerRanges.includes(o.step.rangeId) && !seen.has(o.step.rangeId)) seen.set(o.step.rangeId, o.step.type);
      if (p.plan.summary.balanced && p.plan.steps.length === 0) {
        const b = await balance();
        if (balanced(b)) {
          converged = b;
          break;
        }
      }
      await sleep(250);
    }
    const tookMs = Date.now() - t0;
    await sleep(500);
    await load.stop();
    const end = converged ?? (await balance());
    console.log(`      converged=${converged !== undefined} after ${passes.length} passes, ${(tookMs / 1000).toFixed(1)} s; ${fmt(end)}`);
    console.log(`      steps: ${JSON.stringify(counts)}; writes: ${load.writes()} acknowledged, ${load.failures.length} failed`);
    for (const r of learnerRanges) assert.notEqual(seen.get(r), 'AddLearner', `range ${r}: the new driver finished the interrupted move (first step ${seen.get(r)})`);
    assert.ok(learnerRanges.some((r) => seen.get(r) === 'Promote'), 'the new driver promoted a learner the killed one added');
    assert.ok(converged, `balanced within ±20 %: ${fmt(end)}`);
    assert.equal(failedSteps, 0, 'no placement step failed');
    assert.deepEqual(load.failures.slice(0, 5), [], 'no write failed');
    assert.ok(load.writes() > 100, `the load ran (${load.writes()} writes)`);
    for (const [k, v] of load.acked) assert.equal((await client.get(k)).value?.toString(), v, k);
    // Every store holds (and destroyed) exactly what the descriptors say.
    for (const [i, address] of cluster.addresses.entries()) {
      const a = new AdminClient([address]);
      try {
        const mine = await until(`store ${i + 1} holds exactly its replicas`, async () => {
          const own = (await a.ranges()).ranges.filter((x) => x.rangeId !== 1).length;
          return own === (end.replicas.get(i + 1) ?? 0) ? own : undefined;
        }, 30_000, 300);
        assert.equal(mine, end.replicas.get(i + 1) ?? 0);
      } finally {
        a.close();
      }
    }
  });
});
