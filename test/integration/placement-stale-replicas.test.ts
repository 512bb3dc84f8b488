// A store that returns after its ranges were re-replicated elsewhere (issue 13) on real node processes,
// without Kubernetes: 4 stores (127.0.0.240-243), 4 ranges besides range 1 placed on stores 1-3. Store 3
// is stopped; the operator's PlacementDriver (storeDownTimeout 1.5 s) re-replicates its ranges onto
// store 4 and removes store 3 from them. Store 3 restarts: it still holds its old replicas (it never
// applied its removal) — a dry-run pass plans RemoveStalePeer for each and they stay (negative control:
// the store does not clean them up by itself, with the notices below off). Admin.DestroyStaleReplica
// refuses what is not provably stale (a store the descriptor lists; an epoch not newer than the
// replica's). The driver then destroys
// them on store 3; a restart of store 3 does not bring them back; the full driver then places replicas on
// store 3 again (new replicas, created after the destroy) and every acknowledged write stays readable.
// Also: a per-range call carrying a stale epoch is refused by the real node (EPOCH_NOT_MATCH) and the
// driver re-plans instead of failing.
// The stores run with --test-disable-stale-notices: otherwise the ranges' members answer store 3's
// campaigning replicas with stale-replica notices and they destroy themselves (stale-replica.test.ts).
// This file tests the driver's RemoveStalePeer path, which is what cleans up when no notice comes (a
// replica that sends nothing: hibernating, or its range's members gone).
import assert from 'node:assert/strict';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { AdminEpochNotMatchError } from '../../node/src/client/admin-client.js';
import { GrpcNodeAdmin } from '../../operator/src/runtime/admin.js';
import { PlacementDriver, type PreparedPass } from '../../operator/src/runtime/placement-driver.js';
import { observeShardMap, type ObservedShardMap, type StoreEndpoint } from '../../operator/src/runtime/placement-observe.js';
import type { PlacementSpec } from '../../operator/src/placement/types.js';
import { ProcessCluster, collectLogsOnFailure, sleep, startRaftCluster, until } from '../helpers/cluster-process.js';

const RANGES = 4;
const KEYS = (RANGES + 1) * 10;
const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
const SPEC: PlacementSpec = { replicationFactor: 3, maxConcurrentMoves: 4, storeDownTimeoutMs: 1500 };
const STALE_STORE = 3;

describe('placement: stale replicas of a returning store (4 real stores)', function () {
  this.timeout(300_000);
  let cluster: ProcessCluster;
  let client: KvClient;
  let admin: AdminClient;
  let nodeAdmin: GrpcNodeAdmin;
  let endpoints: StoreEndpoint[];
  const acked = new Map<string, string>();
  /** Placed range id → the confVer store 3's replica was at when it stopped. */
  const leftAt = new Map<number, number>();

  const observe = (eps = endpoints): Promise<ObservedShardMap> => observeShardMap(nodeAdmin, eps, Date.now());
  /** The ranges store 3 reports besides range 1, with the confVer each is at there. */
  const hostedBy3 = async (): Promise<Map<number, number>> => {
    const a = new AdminClient([cluster.addresses[STALE_STORE - 1]!]);
    try {
      return new Map((await a.ranges()).ranges.filter((r) => r.rangeId !== 1).map((r) => [r.rangeId, r.confVer]));
    } finally {
      a.close();
    }
  };
  const storesOf = (m: ObservedShardMap, rangeId: number): number[] => m.ranges.find((r) => r.descriptor.rangeId === rangeId)!.descriptor.replicas.map((x) => x.storeId).sort((x, y) => x - y);

  before(async function () {
    cluster = await startRaftCluster(240, { size: 4, env: { KVS_TEST_DISABLE_STALE_NOTICES: '1' } });
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    admin = new AdminClient(cluster.addresses);
    nodeAdmin = new GrpcNodeAdmin();
    endpoints = cluster.addresses.map((address, i) => ({ storeId: i + 1, pod: `n${i + 1}`, address }));
    for (let i = 0; i < KEYS; i += 2) {
      await client.put(key(i), 'initial');
      acked.set(key(i), 'initial');
    }
    for (let r = 1; r <= RANGES; r++) await admin.splitRange(Buffer.from(key(r * 10)));
    const placed = await until(`${RANGES + 1} ranges with leaders`, async () => {
      const l = await admin.ranges();
      return l.ranges.length === RANGES + 1 && l.ranges.every((x) => x.leaderId > 0) ? l.ranges.filter((x) => x.rangeId !== 1) : undefined;
    }, 60_000, 200);
    // Every placed range on stores 1-3 only.
    for (const r of placed) await admin.call('RemoveMember', { raftId: 4, force: false, groupId: r.rangeId });
    await until('the placed ranges on stores 1-3', async () => {
      const m = await observe();
      return m.ranges.length === RANGES && m.ranges.every((r) => storesOf(m, r.descriptor.rangeId).join() === '1,2,3' && r.leaderStoreId !== undefined) ? m : undefined;
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

  it('a per-range call with a stale epoch is refused by the node (EPOCH_NOT_MATCH, its epoch named) and changes nothing; the driver re-plans it', async function () {
    const m = await observe();
    const r = m.ranges[0]!;
    const leader = cluster.addresses[r.leaderStoreId! - 1]!;
    const a = new AdminClient([leader]);
    try {
      const stale = { confVer: r.descriptor.epoch.confVer - 1, version: r.descriptor.epoch.version };
      const e = await a.call('AddLearner', { raftId: 4, address: '', groupId: r.descriptor.rangeId, epoch: stale }).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(e instanceof AdminEpochNotMatchError, String(e));
      assert.deepEqual(e.current, r.descriptor.epoch);
    } finally {
      a.close();
    }
    assert.deepEqual(storesOf(await observe(), r.descriptor.rangeId), [1, 2, 3], 'nothing changed');
    // The driver: a plan made, then the range changes under it (a learner added by hand) → stale, re-planned.
    const d = new PlacementDriver();
    const p = await d.prepare('test/stale', nodeAdmin, SPEC, endpoints, Date.now());
    const step = p.plan.steps.find((s) => s.type === 'AddLearner');
    assert.ok(step, 'balancing plans a learner on store 4');
    await admin.addLearner(4, '', step.rangeId);
    const out = await d.execute(p, nodeAdmin);
    const o = out.outcomes.find((x) => x.step.rangeId === step.rangeId)!;
    assert.deepEqual([o.ok, o.stale, o.error?.code, o.event.reason], [false, true, 'EpochNotMatch', 'PlacementStepStale'], o.message);
    assert.ok(!out.failed.some((x) => x.step.rangeId === step.rangeId));
    // Leave the shard map as it was for the next case: the hand-added learner goes (no epoch: kvsctl's call).
    await admin.call('RemoveMember', { raftId: 4, force: false, groupId: step.rangeId });
    for (const x of out.outcomes.filter((y) => y.ok && y.step.type === 'AddLearner')) await admin.call('RemoveMember', { raftId: 4, force: false, groupId: x.step.rangeId });
    await until('back on stores 1-3', async () => {
      const n = await observe();
      return n.ranges.every((x) => storesOf(n, x.descriptor.rangeId).join() === '1,2,3') ? n : undefined;
    }, 30_000, 300);
  });

  it('store 3 lost: its ranges are re-replicated on store 4 and store 3 is removed from them', async function () {
    const before = await observe();
    for (const r of before.ranges) leftAt.set(r.descriptor.rangeId, r.descriptor.epoch.confVer);
    const down = Date.now();
    await cluster.node(STALE_STORE - 1).stop();
    const eps = endpoints.map((e) => (e.storeId === STALE_STORE ? { ...e, downSinceMs: down } : e));
    await sleep(SPEC.storeDownTimeoutMs + 200);
    // Writes while store 3 is away (its replicas miss them).
    for (let i = 1; i < KEYS; i += 2) {
      await client.put(key(i), 'while-3-down');
      acked.set(key(i), 'while-3-down');
    }
    const d = new PlacementDriver();
    const done = await until('every range on stores 1, 2, 4', async () => {
      const p = await d.pass('test/stale', nodeAdmin, SPEC, eps, Date.now());
      for (const o of p.failed) console.log(`      step failed: ${o.event.note}`);
      const m = await observe(eps);
      return m.ranges.length === RANGES && m.ranges.every((r) => storesOf(m, r.descriptor.rangeId).join() === '1,2,4' && r.descriptor.replicas.every((x) => x.role === 'voter')) ? m : undefined;
    }, 120_000, 300);
    for (const r of done.ranges) assert.ok(r.descriptor.epoch.confVer > leftAt.get(r.descriptor.rangeId)!, `range ${r.descriptor.rangeId}: its configuration moved on`);
  });

  it('store 3 returns: its old replicas stay until the driver destroys them on it; what is not provably stale is refused; the destroy survives a restart', async function () {
    await cluster.node(STALE_STORE - 1).start();
    await cluster.node(STALE_STORE - 1).waitReady(30_000).catch(() => undefined);
    const stale = await until('store 3 answers with its old replicas', async () => {
      const h = await hostedBy3().catch(() => undefined);
      return h && h.size === RANGES ? h : undefined;
    }, 30_000, 300);
    for (const [id, confVer] of stale) assert.equal(confVer, leftAt.get(id), `range ${id}: store 3 still has the configuration it stopped with`);

    // Negative control: planned (dry run), not applied — and the store does not drop them by itself.
    // (A stale peer is planned only while its range has a known leader: right after store 3's restart an
    // election may still be under way, so the dry pass is repeated until every range is planned.)
    const want = [...stale.keys()].sort((x, y) => x - y).join();
    const planned = await until('a dry pass plans every stale replica', async () => {
      const dry = await new PlacementDriver({ dryRun: true }).pass('test/stale', nodeAdmin, SPEC, endpoints, Date.now());
      const steps = dry.plan.steps.filter((s) => s.type === 'RemoveStalePeer');
      return steps.map((s) => s.rangeId).sort((x, y) => x - y).join() === want ? steps : undefined;
    }, 20_000, 300).catch(async () => (await new PlacementDriver({ dryRun: true }).pass('test/stale', nodeAdmin, SPEC, endpoints, Date.now())).plan.steps.filter((s) => s.type === 'RemoveStalePeer'));
    assert.deepEqual(planned.map((s) => s.rangeId).sort((x, y) => x - y), [...stale.keys()].sort((x, y) => x - y), 'one RemoveStalePeer per old replica');
    await sleep(3000);
    assert.equal((await hostedBy3()).size, RANGES, 'without the destroy the old replicas stay on store 3');

    // The node refuses what is not provably stale.
    const m = await observe();
    const r0 = m.ranges[0]!;
    const onStore = (s: number) => new AdminClient([cluster.addresses[s - 1]!]);
    const a1 = onStore(1);
    const a3 = onStore(STALE_STORE);
    try {
      const ids = r0.descriptor.replicas.map((x) => x.storeId);
      await assert.rejects(a1.destroyStaleReplica(cluster.addresses[0]!, r0.descriptor.rangeId, r0.descriptor.epoch, ids), /lists store 1/);
      await assert.rejects(a3.destroyStaleReplica(cluster.addresses[STALE_STORE - 1]!, r0.descriptor.rangeId, { confVer: leftAt.get(r0.descriptor.rangeId)!, version: r0.descriptor.epoch.version }, ids), /not older/);
      await assert.rejects(a3.destroyStaleReplica(cluster.addresses[STALE_STORE - 1]!, r0.descriptor.rangeId, r0.descriptor.epoch, [...ids, STALE_STORE]), /lists store 3/);
    } finally {
      a1.close();
      a3.close();
    }
    assert.equal((await hostedBy3()).size, RANGES, 'the refusals destroyed nothing');

    // The driver's stale-peer steps only (balancing would place new replicas on store 3 in the same loop).
    const d = new PlacementDriver();
    // Planned only while each range has a known leader (see above): prepare until all are.
    const p = await until(
      'every stale replica planned',
      async () => {
        const q = await d.prepare('test/stale', nodeAdmin, SPEC, endpoints, Date.now());
        return q.plan.steps.filter((s) => s.type === 'RemoveStalePeer').length === RANGES ? q : undefined;
      },
      20_000,
      300,
    );
    const only: PreparedPass = { ...p, plan: { ...p.plan, steps: p.plan.steps.filter((s) => s.type === 'RemoveStalePeer') } };
    only.executable = only.plan.steps.length;
    assert.equal(only.executable, RANGES);
    const out = await d.execute(only, nodeAdmin);
    for (const o of out.outcomes) assert.ok(o.ok && o.event.reason === 'StalePeerRemoved', `${o.event.note}`);
    await until('store 3 holds only range 1', async () => ((await hostedBy3()).size === 0 ? true : undefined), 15_000, 200);

    // Durable: a restart does not bring them back.
    await cluster.node(STALE_STORE - 1).restart();
    await until('store 3 answers again', async () => hostedBy3().catch(() => undefined), 30_000, 300);
    await sleep(1000);
    assert.equal((await hostedBy3()).size, 0, 'no old replica reopened after the restart');
    const again = await d.prepare('test/stale', nodeAdmin, SPEC, endpoints, Date.now());
    assert.ok(!again.plan.steps.some((s) => s.type === 'RemoveStalePeer'), 'nothing stale left');
  });

  it('the returned store takes replicas again (new ones, after the destroy); every acknowledged write is readable', async function () {
    const d = new PlacementDriver();
    const m = await until('store 3 holds replicas again, every range 3 voters', async () => {
      await d.pass('test/stale', nodeAdmin, SPEC, endpoints, Date.now());
      const n = await observe();
      const on3 = n.ranges.filter((r) => r.descriptor.replicas.some((x) => x.storeId === STALE_STORE && x.role === 'voter')).length;
      const ok = n.ranges.every((r) => r.descriptor.replicas.length === 3 && r.descriptor.replicas.every((x) => x.role === 'voter'));
      return on3 > 0 && ok ? n : undefined;
    }, 120_000, 300);
    const h = await until('store 3 caught up on its new replicas', async () => {
      const x = await hostedBy3();
      const want = m.ranges.filter((r) => r.descriptor.replicas.some((y) => y.storeId === STALE_STORE));
      return want.every((r) => x.get(r.descriptor.rangeId) === r.descriptor.epoch.confVer) ? x : undefined;
    }, 30_000, 300);
    assert.ok(h.size > 0);
    for (const [k, v] of acked) assert.equal((await client.get(k)).value?.toString(), v, k);
  });
});
