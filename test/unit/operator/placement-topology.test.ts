// spec.placement.topologyKey from node labels (issue 13): zones are labels of the Kubernetes nodes the
// store pods run on (pods → spec.nodeName → Node labels), read by the runtime (NodeLabelCache) and
// overlaid on the pods' own labels; the planner spreads a range's replicas across those values.
import assert from 'node:assert/strict';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { silentLogger } from '../../../node/src/common/logger.js';
import { podNodeNames, storeEndpoints, storeLabels } from '../../../operator/src/controller/placement.js';
import { reconcile } from '../../../operator/src/controller/reconcile.js';
import { planPlacement } from '../../../operator/src/placement/planner.js';
import type { PlacementSpec } from '../../../operator/src/placement/types.js';
import { NodeLabelCache } from '../../../operator/src/runtime/node-labels.js';
import type { PreparedPass } from '../../../operator/src/runtime/placement-driver.js';
import { PlacementDriver } from '../../../operator/src/runtime/placement-driver.js';
import { observeShardMap } from '../../../operator/src/runtime/placement-observe.js';
import { cluster, healthyStatus, membersCm, pods, StaticCache, sts } from './fixtures.js';
import { FakeClusterAdmin, FakeRangeAdmin, RecordingWriter } from './placement-fake-admin.js';
import { ZONE } from './placement-fixtures.js';

/** Stores 1-4 on nodes n1..n4: n1-n3 in zone a, n4 in zone b (node labels only; pods carry no zone). */
const ZONES: Record<string, string> = { n1: 'a', n2: 'a', n3: 'a', n4: 'b' };
const nodeLabelsOf = (names: readonly string[]) => new Map(names.filter((n) => ZONES[n]).map((n) => [n, { [ZONE]: ZONES[n]!, 'kubernetes.io/hostname': n }]));
const onNodes = (ps: V1Pod[]): V1Pod[] => ps.map((p, i) => ({ ...p, spec: { ...(p.spec ?? { containers: [] }), nodeName: `n${i + 1}` }, status: { ...p.status!, podIP: `10.0.0.${i + 1}` } }));

/** Ranges 10-13 on stores 1-3 (all in zone a by node labels). */
function fourStores(): FakeRangeAdmin {
  const a = new FakeRangeAdmin([1, 2, 3, 4]);
  for (const id of [10, 11, 12, 13]) a.addRange(id, [1, 2, 3]);
  return a;
}

describe('placement topology from node labels (issue 13)', function () {
  it('storeLabels: the pod labels overlaid with its node labels; no node (unscheduled or unread) adds nothing', () => {
    const p: V1Pod = { metadata: { name: 'demo-0', labels: { app: 'kvs', [ZONE]: 'pod-says' } }, spec: { containers: [], nodeName: 'n4' } };
    assert.deepEqual(storeLabels(p, nodeLabelsOf(['n4'])), { app: 'kvs', [ZONE]: 'b', 'kubernetes.io/hostname': 'n4' }, 'the node wins for the topology key');
    assert.deepEqual(storeLabels(p, new Map()), { app: 'kvs', [ZONE]: 'pod-says' });
    assert.deepEqual(storeLabels({ metadata: { name: 'x' } }, nodeLabelsOf(['n1'])), undefined);
    assert.deepEqual(podNodeNames([p, { ...p, spec: { containers: [], nodeName: 'n1' } }, { metadata: {} }, p]), ['n1', 'n4']);
  });

  it('storeEndpoints carry the zone of each pod\'s node', () => {
    const members = { nextRaftId: 5, retired: [], pods: Object.fromEntries([0, 1, 2, 3].map((i) => [`demo-${i}`, { raftId: i + 1, join: false, added: true }])) };
    const view = { leaderId: 1, term: 2, commit: 10, members: new Map([1, 2, 3, 4].map((id) => [id, { role: 'voter' as const, match: 10, state: 'Replicate', recentActive: true }])) };
    const ps = onNodes(pods(4));
    const eps = storeEndpoints(members as never, view, ps, 4, nodeLabelsOf(podNodeNames(ps)));
    assert.deepEqual(eps.map((e) => [e.storeId, e.labels?.[ZONE]]), [[1, 'a'], [2, 'a'], [3, 'a'], [4, 'b']]);
    assert.deepEqual(storeEndpoints(members as never, view, ps, 4).map((e) => e.labels?.[ZONE]), [undefined, undefined, undefined, undefined], 'pod labels alone: no zone');
  });

  it('a fake observed set: with node zones the planner spreads each range onto zone b (cause topology); without them it only balances (negative control)', async () => {
    const spec: PlacementSpec = { replicationFactor: 3, topologyKey: ZONE, maxConcurrentMoves: 4, storeDownTimeoutMs: 60_000 };
    const a = fourStores();
    const eps = a.endpoints().map((e) => ({ ...e, labels: nodeLabelsOf([`n${e.storeId}`]).get(`n${e.storeId}`)! }));
    const m = await observeShardMap(a, eps, 10_000);
    assert.deepEqual(m.stores.map((s) => s.labels?.[ZONE]), ['a', 'a', 'a', 'b']);
    const plan = planPlacement({ spec, stores: m.stores, ranges: m.ranges, nowMs: 10_000 });
    const adds = plan.steps.filter((s) => s.type === 'AddLearner');
    assert.equal(adds.length, 4, 'every range needs a replica in zone b (within maxConcurrentMoves 4)');
    for (const s of adds) assert.ok(s.type === 'AddLearner' && s.storeId === 4 && s.cause === 'topology', JSON.stringify(s));
    // Negative control: the same shard map without the node labels (one topology value for all).
    const m0 = await observeShardMap(a, a.endpoints(), 10_000);
    const plan0 = planPlacement({ spec, stores: m0.stores, ranges: m0.ranges, nowMs: 10_000 });
    assert.ok(!plan0.steps.some((s) => s.type === 'AddLearner' && s.cause === 'topology'), 'no topology move without zones');
    assert.ok(plan0.steps.filter((s) => s.type === 'AddLearner').length < 4, 'balancing alone moves fewer replicas (store 4 gets its share, not every range)');
  });

  describe('in the reconcile pass', () => {
    const setup = (topologyKey?: string) => {
      const ps = onNodes(pods(4));
      const placed = fourStores();
      const admin = new FakeClusterAdmin(placed);
      for (let i = 1; i <= 4; i++) admin.node.addNode(`10.0.0.${i}:7379`, i, 'voter');
      admin.node.leaderId = 1;
      const spec = { replicas: 4, placement: { maxConcurrentMoves: 4, ...(topologyKey ? { topologyKey } : {}) } };
      const cache = new StaticCache(cluster(spec, healthyStatus(4), 2), sts(4), ps);
      const asked: string[][] = [];
      const passes: PreparedPass[] = [];
      const deps = {
        cache,
        logger: silentLogger(),
        now: () => new Date(),
        admin,
        reader: { getConfigMapData: async () => membersCm(4) },
        placement: new PlacementDriver(),
        nodeLabels: async (names: readonly string[]) => {
          asked.push([...names]);
          return nodeLabelsOf(names);
        },
        onPlacement: (_k: string, p: PreparedPass) => passes.push(p),
      };
      return { placed, deps, asked, passes };
    };

    it('topologyKey set: the nodes of the pods are read, the stores carry their zones, replicas move to zone b for spread', async () => {
      const { placed, deps, asked, passes } = setup(ZONE);
      await reconcile('db/demo', { ...deps, writer: new RecordingWriter() });
      assert.deepEqual(asked, [['n1', 'n2', 'n3', 'n4']]);
      assert.deepEqual(passes[0]!.observed.stores.map((s) => s.labels?.[ZONE]), ['a', 'a', 'a', 'b']);
      const topo = passes[0]!.plan.steps.filter((s) => s.type === 'AddLearner' && s.cause === 'topology');
      assert.equal(topo.length, 4);
      assert.equal(placed.calls.filter((c) => c.startsWith('AddLearner ') && c.endsWith(' 4')).length, 4);
    });

    it('no topologyKey: no node is read and nothing moves for spread (negative control)', async () => {
      const { deps, asked, passes } = setup();
      await reconcile('db/demo', { ...deps, writer: new RecordingWriter() });
      assert.deepEqual(asked, []);
      assert.ok(!passes[0]!.plan.steps.some((s) => s.type === 'AddLearner' && s.cause === 'topology'));
    });
  });
});

describe('NodeLabelCache', () => {
  const node = (name: string, zone: string): V1Node => ({ metadata: { name, labels: { [ZONE]: zone } } });

  it('reads each node once per TTL, in parallel, only the names asked; re-reads after the TTL', async () => {
    let now = 0;
    const reads: string[] = [];
    const zones: Record<string, string> = { n1: 'a', n2: 'b' };
    const c = new NodeLabelCache(async (n) => {
      reads.push(n);
      return node(n, zones[n]!);
    }, { now: () => now, ttlMs: 1000 });
    const m = await c.labelsOf(['n1', 'n2', 'n1', '']);
    assert.deepEqual([...m].map(([k, v]) => [k, v[ZONE]]), [['n1', 'a'], ['n2', 'b']]);
    await c.labelsOf(['n1']);
    assert.deepEqual(reads.sort(), ['n1', 'n2'], 'cached');
    zones.n1 = 'c';
    now = 1500;
    assert.equal((await c.labelsOf(['n1'])).get('n1')?.[ZONE], 'c', 're-read after the TTL');
    assert.equal(reads.length, 3);
  });

  it('a failed read keeps the last known labels and is retried only after the retry interval; an unknown node is left out', async () => {
    let now = 0;
    let fail = false;
    let reads = 0;
    const c = new NodeLabelCache(async (n) => {
      reads++;
      if (fail || n === 'gone') throw new Error('nodes "x" is forbidden');
      return node(n, 'a');
    }, { now: () => now, ttlMs: 1000, retryMs: 300, logger: silentLogger() });
    await c.labelsOf(['n1']);
    fail = true;
    now = 2000;
    assert.equal((await c.labelsOf(['n1'])).get('n1')?.[ZONE], 'a', 'old labels kept');
    now = 2100;
    await c.labelsOf(['n1']);
    assert.equal(reads, 2, 'not retried before retryMs');
    assert.equal((await c.labelsOf(['gone'])).has('gone'), false);
    // Forgotten once no pod has been on it for two TTLs.
    now = 10_000;
    fail = false;
    await c.labelsOf(['n2']);
    assert.equal(c.size, 1);
  });
});
