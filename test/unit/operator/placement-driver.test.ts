// The placement driver's observe and apply halves (issue 13) against an in-memory shard map behind the
// RangeAdmin interface (FakeRangeAdmin, placement-fake-admin.ts: the node's refusals — not a voter →
// NotLeader, a learner not caught up → Refused, a removal that would lose the quorum → Refused).
import assert from 'node:assert/strict';
import { silentLogger } from '../../../node/src/common/logger.js';
import { executeStep, reconcile } from '../../../operator/src/controller/reconcile.js';
import { NodeAdminError, type RangeAdmin } from '../../../operator/src/runtime/admin.js';
import { cluster, healthyStatus, membersCm, pods, StaticCache, sts } from './fixtures.js';
import { FakeClusterAdmin, FakeRangeAdmin, RecordingWriter } from './placement-fake-admin.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { PlacementDriver } from '../../../operator/src/runtime/placement-driver.js';
import { observeShardMap } from '../../../operator/src/runtime/placement-observe.js';
import { balancedCondition, effectiveReplicationFactor, placementSpecOf, storeEndpoints } from '../../../operator/src/controller/placement.js';
import type { PlacementSpec } from '../../../operator/src/placement/types.js';
import { planPlacement } from '../../../operator/src/placement/planner.js';
import { NOW_MS, range, stores as storesOf } from './placement-fixtures.js';

const SPEC: PlacementSpec = { replicationFactor: 3, maxConcurrentMoves: 2, storeDownTimeoutMs: 60_000 };

/** 4 stores, 4 ranges all on stores 1-3: balancing moves some to store 4. */
function fourStores(): FakeRangeAdmin {
  const a = new FakeRangeAdmin([1, 2, 3, 4]);
  for (const id of [10, 11, 12, 13]) a.addRange(id, [1, 2, 3]);
  return a;
}

describe('placement driver: observe (issue 13)', function () {
  it('builds the planner input: range 1 excluded, leader, pending learner, hosted peers, a silent store down since its clock', async function () {
    const a = fourStores();
    a.ranges_.get(11)!.replicas.push({ storeId: 4, role: 'learner' });
    a.lagging.add(4);
    a.down.add(3);
    const eps = a.endpoints().map((e) => (e.storeId === 3 ? { ...e, downSinceMs: 1000 } : e));
    const m = await observeShardMap(a, eps, 5000);
    assert.deepEqual(m.ranges.map((r) => r.descriptor.rangeId), [10, 11, 12, 13], 'range 1 is not placed');
    assert.equal(m.ranges[0]!.leaderStoreId, 1);
    assert.deepEqual(m.ranges[1]!.pendingLearners, [4], 'the learner on store 4 has not applied the range yet');
    assert.equal(m.ranges[0]!.pendingLearners, undefined);
    const s3 = m.stores.find((s) => s.storeId === 3)!;
    assert.deepEqual([s3.state, s3.lastSeenMs], ['down', 1000]);
    assert.deepEqual(m.unreachable.map((u) => u.storeId), [3]);
    const s4 = m.stores.find((s) => s.storeId === 4)!;
    assert.deepEqual(s4.hostedPeers?.map((p) => p.rangeId), [1, 11]);
    assert.equal(m.addresses.has(3), false);
    // Caught up once its store reports the range applied.
    a.lagging.delete(4);
    const m2 = await observeShardMap(a, eps, 5000);
    assert.equal(m2.ranges[1]!.pendingLearners, undefined);
  });

  it('load: a range\'s requests per second (summed over its replicas\' reports) reach the planner, and leaderships follow it when the counts are even; without the reports, or under light load, nothing moves', async function () {
    // 3 stores, RF 3 (every range everywhere): leaders 4/4/4 by count, but store 1 leads both hot ranges.
    const hot = (withLoad: boolean, hotQps = 100): FakeRangeAdmin => {
      const a = new FakeRangeAdmin([1, 2, 3]);
      [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3].forEach((leader, i) => a.addRange(20 + i, [1, 2, 3], leader));
      if (withLoad) for (const r of a.ranges_.values()) r.qps = r.id === 20 || r.id === 21 ? hotQps : 1;
      return a;
    };
    const m = await observeShardMap(hot(true), hot(true).endpoints(), 5000);
    assert.deepEqual(m.ranges.map((r) => r.qps), [100, 100, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal((await observeShardMap(hot(false), hot(false).endpoints(), 5000)).ranges[0]!.qps, undefined, 'not reported: not measured');
    const run = async (withLoad: boolean, hotQps = 100): Promise<{ hotOn1: number; calls: string[]; leaders: number[] }> => {
      const a = hot(withLoad, hotQps);
      const d = new PlacementDriver();
      for (let i = 0; i < 8; i++) await d.prepare('ns/demo', a, { ...SPEC, maxConcurrentMoves: 1 }, a.endpoints(), 10_000 + i * 1000).then((p) => d.execute(p, a));
      const led = [...a.ranges_.values()].filter((r) => r.id !== 1);
      return { hotOn1: led.filter((r) => r.leader === 1 && r.qps === hotQps).length, calls: a.calls.filter((c) => c.startsWith('TransferLeader')), leaders: [1, 2, 3].map((s) => led.filter((r) => r.leader === s).length) };
    };
    const withLoad = await run(true);
    assert.equal(withLoad.hotOn1, 1, `one hot range's leadership left store 1 (${withLoad.calls.join('; ')})`);
    assert.ok(withLoad.leaders.every((n) => Math.abs(n - 4) <= 1), `leader counts stay within one of the mean: ${withLoad.leaders.join('/')}`);
    // Negative control: the same cluster without load reports is balanced by count, and nothing moves.
    const without = await run(false);
    assert.deepEqual(without.calls, []);
    assert.equal(without.hotOn1, 0, 'no qps: the ranges are not "hot" to the planner');
    // Light load is noise, not a reason to move: store 1 is only 28 req/s above the mean (band: 100 req/s).
    const light = await run(true, 20);
    assert.deepEqual(light.calls, [], 'within max(25 %, 100 req/s) of the mean nothing moves');
  });

  it('a retired store id still named by a descriptor (its volume was lost, or it was scaled in) is removed: its replicas are replaced at once; unlisted it would stay a replica short', async function () {
    const run = async (retired: number[]): Promise<number[]> => {
      const a = fourStores();
      a.addRange(14, [1, 2, 5]); // store 5: retired, no pod, no endpoint
      const d = new PlacementDriver();
      for (let i = 0; i < 12; i++) await d.prepare('ns/demo', a, SPEC, a.endpoints(), 10_000 + i * 1000, retired).then((p) => d.execute(p, a));
      return a.placement().get(14)!;
    };
    const m = await observeShardMap(fourStores(), fourStores().endpoints(), 5000, [5, 6]);
    assert.deepEqual(m.stores.map((s) => s.storeId), [1, 2, 3, 4], 'a retired id no descriptor names is not listed');
    const withRetired = await run([5]);
    assert.equal(withRetired.length, 3);
    assert.ok(!withRetired.includes(5), `range 14 replaced store 5: ${withRetired.join(',')}`);
    // Negative control: without the retired list the store counts as down, never lost, well within the
    // down timeout, and range 14 keeps a replica on a store that is gone.
    assert.ok((await run([])).includes(5), 'without the retired ids store 5 is kept');
  });

  it('a store\'s reported free space bounds what placement moves onto it (capacity = its ranges + free bytes); a store that reports none is not limited', async function () {
    const run = async (diskOn4: number | undefined): Promise<number> => {
      const a = fourStores();
      if (diskOn4 !== undefined) a.disk.set(4, diskOn4);
      const d = new PlacementDriver();
      for (let i = 0; i < 20; i++) await d.pass('ns/demo', a, SPEC, a.endpoints(), 10_000 + i * 40_000);
      return [...a.placement().values()].filter((s) => s.includes(4)).length;
    };
    const a = fourStores();
    a.disk.set(4, 5 << 20);
    const m = await observeShardMap(a, a.endpoints(), 5000);
    const s4 = m.stores.find((s) => s.storeId === 4)!;
    assert.equal(s4.capacityBytes, 5 << 20, 'capacity: its ranges plus the free bytes — what its data could grow to');
    assert.equal(m.stores.find((s) => s.storeId === 1)!.capacityBytes, 0, 'not reported: no limit');
    // Each range is 1 MiB: room for 1.5 MiB takes one replica (a second would pass 95 % of it).
    assert.equal(await run(1.5 * (1 << 20)), 1, 'a nearly full store gets only what fits below 95 %');
    assert.ok((await run(undefined)) >= 2, 'unlimited (no report): store 4 gets its share');
    // A full disk (0 bytes free: its ranges already fill it) is reported, not unknown: it gets nothing.
    assert.equal(await run(1000), 0, 'a full store gets no replica');
  });

  it('a pod answering as another store (new raft id, not yet restarted) is that store down', async function () {
    const a = fourStores();
    const eps = a.endpoints().map((e) => (e.storeId === 4 ? { ...e, storeId: 9 } : e));
    const m = await observeShardMap(a, eps, 5000);
    assert.equal(m.stores.find((s) => s.storeId === 9)!.state, 'down');
    assert.match(m.unreachable[0]!.error, /answers as store 4/);
  });
});

describe('placement driver: apply (issue 13)', function () {
  it('converges: every range at 3 voters on distinct stores, store 4 gets its share; one step per range per pass', async function () {
    const a = fourStores();
    const d = new PlacementDriver();
    let passes = 0;
    for (; passes < 40; passes++) {
      const p = await d.pass('ns/demo', a, SPEC, a.endpoints(), 10_000 + passes * 40_000);
      const ranges = p.outcomes.map((o) => o.step.rangeId);
      assert.equal(new Set(ranges).size, ranges.length, 'at most one step per range per pass');
      assert.ok(p.outcomes.filter((o) => o.step.type === 'AddLearner').length <= SPEC.maxConcurrentMoves);
      assert.deepEqual(p.failed, []);
      if (p.plan.summary.balanced && p.executable === 0) break;
    }
    const placed = a.placement();
    for (const [id, stores] of placed) assert.equal(new Set(stores).size, 3, `range ${id}: ${stores.join(',')}`);
    const on4 = [...placed.values()].filter((s) => s.includes(4)).length;
    assert.ok(on4 >= 2 && on4 <= 4, `store 4 holds ${on4} of the 4 ranges (mean 3)`);
    assert.ok(passes < 40, 'converged');
  });

  it('operator killed between AddLearner and Promote: a new driver promotes the learner (never adds another)', async function () {
    const a = fourStores();
    const first = await new PlacementDriver().pass('ns/demo', a, SPEC, a.endpoints(), 10_000);
    const added = first.outcomes.filter((o) => o.ok && o.step.type === 'AddLearner');
    assert.ok(added.length > 0);
    const r = added[0]!.step.rangeId;
    a.calls.length = 0;
    // A fresh driver: no memory of what the killed one issued.
    const next = await new PlacementDriver().pass('ns/demo', a, SPEC, a.endpoints(), 50_000);
    const mine = next.outcomes.filter((o) => o.step.rangeId === r);
    assert.deepEqual(mine.map((o) => o.step.type), ['Promote']);
    assert.ok(!a.calls.some((c) => c.startsWith(`AddLearner ${r} `)), 'no second learner on that range');
    // And once promoted, the extra voter goes (its leadership first, if it leads), still no new learner.
    const after: string[] = [];
    for (let i = 0; i < 3 && a.placement().get(r)!.length > 3; i++) {
      const p = await new PlacementDriver().pass('ns/demo', a, SPEC, a.endpoints(), 90_000 + i * 40_000);
      after.push(...p.outcomes.filter((o) => o.step.rangeId === r).map((o) => o.step.type));
    }
    assert.ok(['RemoveReplica', 'TransferLeader,RemoveReplica'].includes(after.join(',')), after.join(','));
    assert.equal(a.placement().get(r)!.length, 3);
  });

  it('a learner still catching up: Promote answers "not caught up" → a Normal waiting event, no failure, retried next pass', async function () {
    const a = fourStores();
    const d = new PlacementDriver();
    await d.pass('ns/demo', a, SPEC, a.endpoints(), 10_000);
    // Observation says caught up (applied), the node still refuses (its own, stricter check).
    const ranges = [...a.ranges_.values()].filter((r) => r.replicas.some((x) => x.storeId === 4 && x.role === 'learner'));
    assert.ok(ranges.length > 0);
    a.failOnce.set(`Promote ${ranges[0]!.id}`, new NodeAdminError('Refused', `Promote: learner 4 is not caught up in range ${ranges[0]!.id}; retry later`));
    const p = await d.pass('ns/demo', a, SPEC, a.endpoints(), 50_000);
    const o = p.outcomes.find((x) => x.step.rangeId === ranges[0]!.id)!;
    assert.equal(o.ok, false);
    assert.deepEqual([o.event.type, o.event.reason], ['Normal', 'PlacementStepWaiting']);
    assert.deepEqual(p.failed, []);
    const again = await d.pass('ns/demo', a, SPEC, a.endpoints(), 50_500);
    assert.deepEqual(again.outcomes.filter((x) => x.step.rangeId === ranges[0]!.id).map((x) => [x.step.type, x.ok]), [['Promote', true]]);
  });

  it('a failing step: Warning event, Balanced=False PlacementStepFailed, and no second step on that range until the cool-down ends', async function () {
    const a = fourStores();
    const d = new PlacementDriver();
    const plan0 = await d.prepare('ns/demo', a, SPEC, a.endpoints(), Date.now());
    const target = plan0.plan.steps.find((s) => s.type === 'AddLearner')!;
    a.failOnce.set(`AddLearner ${target.rangeId}`, new NodeAdminError('Refused', 'store 4 has no known raft address'));
    const out = await d.execute(plan0, a);
    const failed = out.failed.find((o) => o.step.rangeId === target.rangeId)!;
    assert.ok(failed, 'the failure is reported');
    assert.deepEqual([failed.event.type, failed.event.reason], ['Warning', 'PlacementStepFailed']);
    assert.match(failed.event.note, /Refused: store 4 has no known raft address/);
    const cond = balancedCondition(undefined, { summary: plan0.plan.summary, failed: out.failed.map((o) => o.event.note) }, 1, '2026-12-03T00:00:00Z');
    assert.deepEqual([cond.type, cond.status, cond.reason], ['Balanced', 'False', 'PlacementStepFailed']);
    a.calls.length = 0;
    const next = await d.pass('ns/demo', a, SPEC, a.endpoints(), Date.now());
    assert.ok(!next.outcomes.some((o) => o.step.rangeId === target.rangeId), 'the failed range gets no step during the cool-down');
    assert.ok(!a.calls.some((c) => c.includes(` ${target.rangeId} `)));
    // Control: a fresh driver (no cool-down memory) would try that range again.
    const fresh = await new PlacementDriver().prepare('ns/demo', a, SPEC, a.endpoints(), Date.now());
    assert.ok(fresh.plan.steps.some((s) => s.rangeId === target.rangeId));
  });

  it('a lost store (down past the timeout) has its ranges re-replicated; a NotLeader answer moves the call to the next voter, a refusal stops', async function () {
    const a = fourStores();
    a.down.add(1);
    // The ranges elected new leaders on store 2 (store 1 is gone).
    for (const id of [10, 11, 12, 13]) a.ranges_.get(id)!.leader = 2;
    a.failOnce.set('AddLearner 10', new NodeAdminError('NotLeader', 'leadership moved'));
    a.failOnce.set('AddLearner 11', new NodeAdminError('Refused', 'refused for the test'));
    const eps = a.endpoints().map((e) => (e.storeId === 1 ? { ...e, downSinceMs: 0 } : e));
    const d = new PlacementDriver();
    const p = await d.pass('ns/demo', a, { ...SPEC, maxConcurrentMoves: 4 }, eps, 120_000);
    const byRange = new Map(p.outcomes.map((o) => [o.step.rangeId, o]));
    for (const id of [10, 11, 12, 13]) assert.deepEqual([byRange.get(id)?.step.type, byRange.get(id)?.step.cause], ['AddLearner', 'replace-lost'], `range ${id}`);
    assert.equal(byRange.get(10)!.ok, true, 'retried on the next voter');
    assert.equal(a.calls.filter((c) => c === 'AddLearner 10 4').length, 2);
    assert.equal(byRange.get(11)!.ok, false);
    assert.equal(a.calls.filter((c) => c === 'AddLearner 11 4').length, 1, 'a refusal is not retried elsewhere');
    assert.deepEqual(p.failed.map((o) => o.step.rangeId), [11]);
  });
});

describe('placement driver: epochs and stale replicas (issue 13)', function () {
  it('a step planned against an older epoch (the range changed meanwhile): EpochNotMatch → stale, a Normal event, no failure, no cool-down; the next pass re-plans from the new descriptor', async function () {
    const a = fourStores();
    const d = new PlacementDriver();
    const prepared = await d.prepare('ns/demo', a, SPEC, a.endpoints(), Date.now());
    const step = prepared.plan.steps.find((s) => s.type === 'AddLearner')!;
    assert.ok(step && step.type === 'AddLearner' && step.storeId === 4, JSON.stringify(step));
    // Someone else (kvsctl range move) moved the range's replica from store 3 to store 4 in between.
    const r = a.ranges_.get(step.rangeId)!;
    r.replicas = [...r.replicas.filter((x) => x.storeId !== 3), { storeId: 4, role: 'voter' }];
    r.confVer += 2;
    const out = await d.execute(prepared, a);
    const o = out.outcomes.find((x) => x.step.rangeId === step.rangeId)!;
    assert.equal(o.ok, false);
    assert.equal(o.stale, true);
    assert.equal(o.error?.code, 'EpochNotMatch');
    assert.deepEqual(o.error?.currentEpoch, { confVer: r.confVer, version: 2 });
    assert.deepEqual([o.event.type, o.event.reason], ['Normal', 'PlacementStepStale']);
    assert.equal(out.failed.length, 0, 'a stale plan is not a failure');
    assert.deepEqual(out.stale.map((x) => x.step.rangeId), [step.rangeId]);
    assert.equal(a.calls.filter((c) => c === `AddLearner ${step.rangeId} 4`).length, 1, 'tried once, on the leader: every voter would say the same');
    const cond = balancedCondition(undefined, { summary: prepared.plan.summary, failed: out.failed.map((x) => x.event.note) }, 1, '2026-12-03T00:00:00Z');
    assert.notEqual(cond.reason, 'PlacementStepFailed');
    const metrics = new OperatorMetrics(false);
    metrics.recordPlacement('ns/demo', { ...prepared, ...out });
    assert.match(await metrics.registry.metrics(), /^kvs_operator_placement_steps_total\{type="AddLearner",result="stale"\} 1$/m);
    // No cool-down: the very next pass observes the range again and plans from its new descriptor.
    const next = await d.prepare('ns/demo', a, SPEC, a.endpoints(), Date.now());
    const again = next.plan.steps.filter((s) => s.rangeId === step.rangeId);
    for (const s of again) assert.ok('epoch' in s && s.epoch.confVer === r.confVer, `re-planned at the new epoch: ${JSON.stringify(s)}`);
    assert.ok(!again.some((s) => s.type === 'AddLearner' && s.storeId === 4), 'store 4 already holds it: no learner planned there');
  });

  it('negative control: without the epoch the same stale step "succeeds" against the changed range (what the check prevents)', async function () {
    const a = fourStores();
    const prepared = await new PlacementDriver().prepare('ns/demo', a, SPEC, a.endpoints(), Date.now());
    const step = prepared.plan.steps.find((s) => s.type === 'AddLearner')!;
    const r = a.ranges_.get(step.rangeId)!;
    r.replicas = [...r.replicas.filter((x) => x.storeId !== 3), { storeId: 4, role: 'voter' }];
    r.confVer += 2;
    assert.equal(await a.changeRangeReplica(a.addr(r.leader), step.rangeId, 'AddLearner', 4), 'already a member');
    await assert.rejects(a.changeRangeReplica(a.addr(r.leader), step.rangeId, 'AddLearner', 4, step.type === 'AddLearner' ? step.epoch : undefined), (e: NodeAdminError) => e.code === 'EpochNotMatch');
  });

  it('every step of a pass carries the epoch of the descriptor it was planned against, and the calls pass it on', async function () {
    const a = fourStores();
    const seen: Array<[string, unknown]> = [];
    const spy: RangeAdmin = {
      ranges: (x) => a.ranges(x),
      changeRangeReplica: async (x, id, c, s, e) => {
        seen.push([`${c} ${id}`, e]);
        return a.changeRangeReplica(x, id, c, s, e);
      },
      transferRangeLeader: async (x, id, to, e) => {
        seen.push([`TransferLeader ${id}`, e]);
        return a.transferRangeLeader(x, id, to, e);
      },
      destroyStaleReplica: (x, id, e, s) => a.destroyStaleReplica(x, id, e, s),
    };
    const p = await new PlacementDriver().pass('ns/demo', spy, SPEC, a.endpoints(), 10_000);
    assert.ok(p.outcomes.length >= 2, 'moves and leader transfers were issued');
    assert.ok(seen.some(([k]) => k.startsWith('TransferLeader')), 'a leader transfer was issued');
    for (const [k, e] of seen) assert.deepEqual(e, { confVer: 5, version: 2 }, k);
    assert.ok(p.outcomes.every((o) => o.ok));
  });

  it('a store that returns with replicas its ranges no longer list: they are destroyed on that store (DestroyStaleReplica with the current descriptor); a peer not provably stale is left', async function () {
    const a = new FakeRangeAdmin([1, 2, 3, 4]);
    a.addRange(10, [1, 2, 4]);
    a.addRange(11, [1, 2, 4]);
    a.addRange(12, [1, 2, 3]);
    // Store 3 was down while ranges 10 and 11 were re-replicated onto store 4 (confVer 5 now).
    a.stale.set('10/3', { confVer: 3, replicas: [1, 2, 3].map((s) => ({ storeId: s, role: 'voter' as const })) });
    // Range 11's copy on store 3 reports an epoch as new as the leader's (meta lag, a learner just added): kept.
    a.stale.set('11/3', { confVer: 5, replicas: [1, 2, 3].map((s) => ({ storeId: s, role: 'voter' as const })) });
    const d = new PlacementDriver();
    const p = await d.pass('ns/demo', a, SPEC, a.endpoints(), 10_000);
    const stale = p.outcomes.filter((o) => o.step.type === 'RemoveStalePeer');
    assert.deepEqual(stale.map((o) => [o.step.rangeId, o.ok, o.event.reason]), [[10, true, 'StalePeerRemoved']]);
    const st = stale[0]!.step;
    assert.ok(st.type === 'RemoveStalePeer' && st.storeId === 3 && st.epoch.confVer === 5);
    assert.deepEqual(st.type === 'RemoveStalePeer' && st.descriptorStores, [1, 2, 4]);
    assert.ok(a.calls.includes('DestroyStaleReplica 10 3'), 'called on store 3 itself');
    assert.equal(a.stale.has('10/3'), false, 'destroyed');
    assert.equal(a.stale.has('11/3'), true, 'not provably stale: kept');
    assert.ok(!a.calls.includes('DestroyStaleReplica 11 3'));
    const m = await observeShardMap(a, a.endpoints(), 20_000);
    assert.deepEqual(m.stores.find((s) => s.storeId === 3)!.hostedPeers!.map((h) => h.rangeId).sort((x, y) => x - y), [1, 11, 12]);
    // Nothing planned twice: the next pass has no stale-peer step for range 10.
    const next = await d.prepare('ns/demo', a, SPEC, a.endpoints(), 20_000);
    assert.ok(!next.plan.steps.some((s) => s.type === 'RemoveStalePeer' && s.rangeId === 10));
  });

  it('planner: a stale peer is removed only while its range has a known leader (the descriptor is the leader\'s), a newer confVer and no listing of the store', function () {
    const stale = (leader: number | null, peerConfVer: number, voters = [1, 2, 4]) =>
      planPlacement({
        spec: { replicationFactor: 3, maxConcurrentMoves: 2, storeDownTimeoutMs: 60_000 },
        stores: storesOf(4, ['a']).map((s) => (s.storeId === 3 ? { ...s, hostedPeers: [{ rangeId: 10, peerId: 3, confVer: peerConfVer }] } : s)),
        ranges: [{ ...range(10, voters, { leader, confVer: 7 }), descriptor: { ...range(10, voters, { confVer: 7 }).descriptor, replicas: voters.map((x) => ({ storeId: x, peerId: x, role: 'voter' as const })) } }],
        nowMs: NOW_MS,
      }).steps.filter((s) => s.type === 'RemoveStalePeer');
    assert.equal(stale(1, 4).length, 1, 'leader known, older confVer, not listed: removed');
    assert.equal(stale(null, 4).length, 0, 'no leader known: kept');
    assert.equal(stale(1, 7).length, 0, 'not older: kept');
    assert.equal(stale(1, 4, [1, 2, 3]).length, 0, 'listed: kept');
  });

  it('a stale-peer step on a store that no longer answers: not executed anywhere else (Unavailable)', async function () {
    const a = new FakeRangeAdmin([1, 2, 3, 4]);
    a.addRange(10, [1, 2, 4]);
    a.stale.set('10/3', { confVer: 3, replicas: [1, 2, 3].map((s) => ({ storeId: s, role: 'voter' as const })) });
    const d = new PlacementDriver();
    const prepared = await d.prepare('ns/demo', a, SPEC, a.endpoints(), 10_000);
    assert.ok(prepared.plan.steps.some((s) => s.type === 'RemoveStalePeer'));
    a.down.add(3);
    const out = await d.execute(prepared, a);
    const o = out.outcomes.find((x) => x.step.type === 'RemoveStalePeer')!;
    assert.equal(o.ok, false);
    assert.equal(o.error?.code, 'Unavailable');
    assert.ok(!a.calls.some((c) => c.startsWith('DestroyStaleReplica 10 ') && !c.endsWith(' 3')), 'never on another store');
  });
});

describe('placement planner: many over-replicated ranges in one pass (splits that inherited every store)', function () {
  it('the removals of one pass spread over the stores (each sees the ones before it), not all from one store', function () {
    const ranges = Array.from({ length: 12 }, (_, i) => range(10 + i, [1, 2, 3, 4, 5, 6], { leader: 1 }));
    const plan = planPlacement({ spec: { replicationFactor: 3, maxConcurrentMoves: 12, storeDownTimeoutMs: 60_000 }, stores: storesOf(6, ['a']), ranges, nowMs: NOW_MS });
    const from = new Map<number, number>();
    for (const s of plan.steps) {
      const store = s.type === 'RemoveReplica' ? s.storeId : s.type === 'TransferLeader' ? s.fromStoreId : 0;
      from.set(store, (from.get(store) ?? 0) + 1);
    }
    assert.equal(plan.steps.length, 12, 'one step per range');
    assert.ok(Math.max(...from.values()) <= 3, `removals (or the transfers before them) per store: ${JSON.stringify([...from])}`);
  });
});

describe('placement: spec and stores from the KvsCluster (issue 13)', function () {
  it('replication factor: 3 by default, capped at the largest odd number of stores', function () {
    assert.equal(effectiveReplicationFactor({}, 6), 3);
    assert.equal(effectiveReplicationFactor({}, 2), 1);
    assert.equal(effectiveReplicationFactor({ replicationFactor: 5 }, 4), 3);
    assert.equal(effectiveReplicationFactor({ replicationFactor: 5 }, 7), 5);
  });

  it('storeDownTimeout is failover.downTimeout (one clock); failover disabled: never lost', function () {
    const base = { replicas: 6, storage: { size: '1Gi' } };
    assert.equal(placementSpecOf({ ...base, failover: { downTimeout: '90s' } }, 6).storeDownTimeoutMs, 90_000);
    assert.equal(placementSpecOf({ ...base, failover: { enabled: false } }, 6).storeDownTimeoutMs, Number.MAX_SAFE_INTEGER);
    assert.equal(placementSpecOf({ ...base, placement: { maxConcurrentMoves: 5, topologyKey: 'zone' } }, 6).maxConcurrentMoves, 5);
  });

  it('stores: voters of range 1 from the members table; above the desired replicas draining; downSince carried', function () {
    const members = {
      nextRaftId: 5,
      retired: [],
      pods: {
        'demo-0': { raftId: 1, join: false, added: true },
        'demo-1': { raftId: 2, join: false, added: true, downSince: '2026-12-03T00:00:00Z' },
        'demo-2': { raftId: 3, join: true, added: true },
        'demo-3': { raftId: 4, join: true, added: false },
      },
    };
    const view = { leaderId: 1, term: 2, commit: 10, members: new Map([1, 2, 3].map((id) => [id, { role: 'voter' as const, match: 10, state: 'Replicate', recentActive: true }])) };
    const pods = [0, 1, 2, 3].map((i) => ({ metadata: { name: `demo-${i}` }, status: i === 1 ? {} : { podIP: `10.0.0.${i}` } }));
    const eps = storeEndpoints(members as never, view, pods, 2);
    assert.deepEqual(
      eps.map((e) => [e.pod, e.storeId, e.address ?? '-', e.draining ?? false, e.downSinceMs ?? 0]),
      [
        ['demo-0', 1, '10.0.0.0:7379', false, 0],
        ['demo-1', 2, '-', false, Date.parse('2026-12-03T00:00:00Z')],
        ['demo-2', 3, '10.0.0.2:7379', true, 0],
      ],
    );
  });
});

describe('placement in the reconcile pass (issue 13)', function () {
  const setup = (replicas: number, stores: number) => {
    const ps = pods(stores).map((p, i) => ({ ...p, status: { ...p.status!, podIP: `10.0.0.${i + 1}` } }));
    const placed = fourStores();
    const admin = new FakeClusterAdmin(placed);
    for (let i = 1; i <= stores; i++) admin.node.addNode(`10.0.0.${i}:7379`, i, 'voter');
    admin.node.leaderId = 1;
    const cache = new StaticCache(cluster({ replicas }, healthyStatus(stores), 2), sts(stores), ps);
    const deps = { cache, logger: silentLogger(), now: () => new Date(), admin, reader: { getConfigMapData: async () => membersCm(stores) }, placement: new PlacementDriver() };
    return { placed, deps };
  };

  it('settled membership: the pass moves replicas, writes status.shardMap and Balanced, records the events, requeues soon', async function () {
    const { placed, deps } = setup(4, 4);
    const w = new RecordingWriter();
    const r = await reconcile('db/demo', { ...deps, writer: w });
    assert.equal(r.stepError, undefined);
    const added = w.events.filter((e) => e.reason === 'ReplicaAdded');
    assert.ok(added.length >= 1 && added.length <= 2, `ReplicaAdded events: ${w.events.map((e) => e.reason).join(',')}`);
    assert.ok(placed.calls.some((c) => c.startsWith('AddLearner ')));
    const st = w.statuses.at(-1)!;
    assert.equal(st.shardMap?.ranges, 4);
    assert.equal(st.shardMap?.replicationFactor, 3);
    assert.deepEqual(st.shardMap?.stores.map((s) => [s.pod, s.storeId, s.ranges, s.state]), [['demo-0', 1, 4, 'up'], ['demo-1', 2, 4, 'up'], ['demo-2', 3, 4, 'up'], ['demo-3', 4, 0, 'up']]);
    const bal = st.conditions?.find((c) => c.type === 'Balanced');
    assert.deepEqual([bal?.status, bal?.reason], ['False', 'Rebalancing']);
    assert.equal(r.requeueAfterMs, 500);
  });

  it('a membership change in flight (scale-in 4→3): no placement step, Balanced Unknown MembershipChanging', async function () {
    const { placed, deps } = setup(3, 4);
    const w = new RecordingWriter();
    await reconcile('db/demo', { ...deps, writer: w });
    assert.deepEqual(placed.calls, [], 'no per-range call while membership changes');
    assert.ok(!w.events.some((e) => /^Replica|PlacementStep/.test(e.reason)));
    const bal = w.statuses.at(-1)?.conditions?.find((c) => c.type === 'Balanced');
    assert.deepEqual([bal?.status, bal?.reason], ['Unknown', 'MembershipChanging']);
  });

  it('with a placement driver a new store joins the membership range only (AddLearner/Promote membership-only): placement gives it its replicas; without one it joins every range', async function () {
    const step = async (withPlacement: boolean): Promise<string[]> => {
      const { deps } = setup(4, 4);
      const { placement, ...rest } = deps;
      const d = withPlacement ? { ...rest, placement } : rest;
      deps.admin.node.addNode('10.0.0.5:7379', 5, 'learner');
      for (const st of [{ type: 'AddLearner' as const, pod: 'demo-4', raftId: 6, address: '10.0.0.6:7380' }, { type: 'Promote' as const, pod: 'demo-4', raftId: 5 }]) {
        await executeStep(st, '10.0.0.1:7379', 'db', { ...d, writer: new RecordingWriter() });
      }
      return deps.admin.node.calls.filter((c) => /^(AddLearner|Promote)/.test(c));
    };
    assert.deepEqual(await step(true), ['AddLearner 6 10.0.0.6:7380 membership-only', 'Promote 5 membership-only']);
    assert.deepEqual(await step(false), ['AddLearner 6 10.0.0.6:7380', 'Promote 5']);
  });

  it('without a placement driver the shard map is not touched (the existing reconcile)', async function () {
    const { placed, deps } = setup(4, 4);
    const { placement: _p, ...noPlacement } = deps;
    void _p;
    const w = new RecordingWriter();
    await reconcile('db/demo', { ...noPlacement, writer: w });
    assert.deepEqual(placed.calls, []);
    assert.equal(w.statuses.at(-1)?.shardMap, undefined);
  });
});
