// e2e of the operator as placement driver (issue 13) on the real local Kubernetes: a KvsCluster `place`
// with replicationFactor 3 (its own cluster next to `demo`, same namespace): 3 stores split into 30 ranges
// under a writing client, then scaled out to 6: the operator moves replicas and leaderships onto the new
// stores until each range has 3 voters on 3 distinct stores and the stores are balanced. Checked from the stores
// themselves (Admin.Ranges on every pod, not only status): every range has 3 voters on distinct stores,
// no learner, a leader; replica and leader counts per store within ±20 % of the mean; status.shardMap,
// the Balanced condition, the printer columns, the placement events and gauges; the writer saw no failed
// write and every acknowledged write is readable. Then a store's pod and PVC are deleted (it comes back
// empty under a new store id; the lost store's replicas are re-replicated), a rolling upgrade of all six
// (each store's leaderships moved off it before its pod restarts), and scale-in 6→3 under the
// writer with the operator force-killed mid-drain: the replicas leave the removed stores before their
// pods and PVCs go, every range ends with 3 voters on the 3 stores left, no write fails. The cluster is
// deleted at the end.
import { strict as assert } from 'node:assert';
import { AdminClient } from '../../node/src/client/index.js';
import { PodWriter, applyManifest, getJson, kubectl, podIps as podIpsOf, sleep, waitFor } from './k8s.js';

const NS = process.env.KVS_E2E_NAMESPACE ?? 'kvs-e2e';
const NAME = 'place';
const STORES = 6;
const RANGES = 30;
const UPGRADE_IMAGE = process.env.KVS_E2E_UPGRADE_IMAGE ?? 'kvs/node:dev2';

const podIps = (): Promise<Map<string, string>> => podIpsOf(NS, NAME);
/** Admin is on the pods' own admin port (7381; the NetworkPolicy is not enforced on this local cluster). */
const adminEndpoints = async (): Promise<string[]> => [...(await podIps()).values()].map((ip) => `${ip}:7381`).sort();

/** Replicas and leaders per store of every range but range 1 (the membership range, on every store), from the stores. */
async function shardMap(): Promise<{ ranges: number; wellFormed: boolean; replicas: Map<number, number>; leaders: Map<number, number>; problems: string[] }> {
  const eps = await adminEndpoints();
  const admin = new AdminClient(eps, { followAnyLeaderHint: false });
  try {
    const best = new Map<number, { confVer: number; version: number; replicas: Array<{ storeId: number; role: string }>; leader: number }>();
    for (const e of eps) {
      const r = await admin.ranges(e);
      for (const x of r.ranges) {
        const cur = best.get(x.rangeId);
        const newer = !cur || x.version > cur.version || (x.version === cur.version && x.confVer > cur.confVer) || (x.version === cur.version && x.confVer === cur.confVer && x.role === 'Leader');
        if (newer) best.set(x.rangeId, { confVer: x.confVer, version: x.version, replicas: x.replicas, leader: x.role === 'Leader' ? r.storeId : x.leaderId });
      }
    }
    const replicas = new Map<number, number>();
    const leaders = new Map<number, number>();
    const problems: string[] = [];
    for (const [id, r] of best) {
      if (id === 1) continue;
      const voters = r.replicas.filter((x) => x.role === 'voter').map((x) => x.storeId);
      if (voters.length !== 3 || new Set(voters).size !== 3 || r.replicas.length !== 3 || !(r.leader > 0)) problems.push(`range ${id}: ${r.replicas.map((x) => `${x.storeId}${x.role === 'learner' ? 'L' : ''}`).join(',')} leader ${r.leader}`);
      for (const x of r.replicas) replicas.set(x.storeId, (replicas.get(x.storeId) ?? 0) + 1);
      if (r.leader > 0) leaders.set(r.leader, (leaders.get(r.leader) ?? 0) + 1);
    }
    return { ranges: best.size - 1, wellFormed: problems.length === 0, replicas, leaders, problems };
  } finally {
    admin.close();
  }
}

function spread(m: Map<number, number>, stores: number[]): number {
  const xs = stores.map((s) => m.get(s) ?? 0);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean === 0 ? Infinity : Math.max(...xs.map((x) => Math.abs(x - mean) / mean));
}

/** A writer over the key space the splits cut (600 keys written over and over), following the pods' IPs. */
async function startWriter(): Promise<PodWriter> {
  const w = new PodWriter({ ns: NS, instance: NAME, prefix: 'p', cycle: 600, pauseMs: 10 });
  return w.start();
}

/** The cluster's events of one reason. */
async function eventsOf(reason: string): Promise<any[]> {
  const ev = await getJson('events.events.k8s.io', '-n', NS, '--field-selector', `regarding.name=${NAME}`);
  return ev.items.filter((e: any) => e.reason === reason);
}
/** No PlacementStepFailed event so far in the namespace; else which steps failed, and why (the event notes). */
function assertNoStepFailed(failed: any[]): void {
  const why = failed.map((e: any) => `${e.eventTime ?? e.deprecatedLastTimestamp ?? ''} ${e.note ?? ''}`.trim());
  assert.equal(failed.length, 0, `no placement step failed; failed: ${why.join(' | ')}`);
}
/** How many times the operator recorded `reason` (an event repeated as a series counts each time). */
const eventCount = async (reason: string): Promise<number> => (await eventsOf(reason)).reduce((n: number, e: any) => n + (e.series?.count ?? 1), 0);

describe('e2e: the operator places range replicas (issue 13)', function () {
  this.timeout(600_000);

  after(async () => {
    await kubectl('delete', 'kvscluster', NAME, '-n', NS, '--ignore-not-found', '--wait=false').catch(() => undefined);
  });

  it('3 stores, RF 3, split into 30 ranges, then scaled out to 6 under a writer: the new stores get replicas and leaders until every range has 3 voters on 3 distinct stores and replicas and leaders are within ±20 %, no failed write', async () => {
    const t0 = Date.now();
    await applyManifest({
      apiVersion: 'kvs.dev/v1alpha1',
      kind: 'KvsCluster',
      metadata: { name: NAME, namespace: NS },
      spec: {
        replicas: 3,
        replicationFactor: 3,
        // 8 moves at a time: the scale-out 3→6 moves 42 replicas (about 110 s at 4).
        placement: { maxConcurrentMoves: 8 },
        // storeDownTimeout (one clock with member replacement): a store lost longer than this has its
        // ranges re-replicated (the lost-volume scenario below; 5m by default).
        failover: { downTimeout: '30s' },
        image: 'kvs/node:dev',
        version: 'dev',
        storage: { size: '128Mi' },
        resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '384Mi' } },
        pvcRetentionPolicy: 'Delete',
      },
    });
    const running = (n: number) =>
      waitFor(
        `${NAME}: ${n} voters, a leader`,
        async () => {
          const x = (await getJson('kvscluster', NAME, '-n', NS)).status ?? {};
          const voters = (x.members ?? []).filter((m: any) => m.role === 'Leader' || m.role === 'Follower');
          return x.phase === 'Running' && voters.length === n && x.leader ? x : undefined;
        },
        240_000,
      );
    await running(3);
    const tReady = Date.now();

    const w = await startWriter();
    const { last: acked, failures } = w;
    try {
      const admin = new AdminClient(await adminEndpoints(), { followAnyLeaderHint: false });
      try {
        // The operator trims and moves leaderships while the splits run: a split answered "led elsewhere"
        // (no hint yet) is retried.
        for (let r = 1; r <= RANGES; r++) {
          const at = Buffer.from(`p/${String(r * 20).padStart(3, '0')}`);
          await waitFor(`split at ${at.toString()}`, async () => (await admin.splitRange(at), true), 30_000);
        }
      } finally {
        admin.close();
      }
      const tSplit = Date.now();
      // Every range is on the 3 first stores. Scale out: the new stores join range 1 (membership), then
      // placement moves replicas and leaderships onto them.
      await kubectl('patch', `kvscluster/${NAME}`, '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { replicas: STORES } }));
      const st6 = await running(STORES);
      const stores = st6.members.map((m: any) => Number(m.raftId)).sort((a: number, b: number) => a - b);
      const done = await waitFor(
        'status.shardMap: 30 ranges placed, Balanced',
        async () => {
          const x = (await getJson('kvscluster', NAME, '-n', NS)).status ?? {};
          const bal = (x.conditions ?? []).find((c: any) => c.type === 'Balanced');
          if (!(x.shardMap?.ranges === RANGES && x.shardMap.underReplicated === 0 && bal?.status === 'True')) return undefined;
          const m = await shardMap();
          return m.ranges === RANGES && m.wellFormed && spread(m.replicas, stores) <= 0.2 && spread(m.leaders, stores) <= 0.2 ? { status: x, map: m } : undefined;
        },
        240_000,
      );
      const tBalanced = Date.now();
      await sleep(1000);
      await w.stop();
      const m = done.map;
      const fmt = (c: Map<number, number>) => stores.map((s: number) => c.get(s) ?? 0).join('/');
      console.log(
        `placement: 3 stores ready ${((tReady - t0) / 1000).toFixed(0)} s, 30 splits ${((tSplit - tReady) / 1000).toFixed(0)} s, scaled out to ${STORES} and balanced ${((tBalanced - tSplit) / 1000).toFixed(0)} s after the patch; ` +
          `replicas ${fmt(m.replicas)} (±${Math.round(spread(m.replicas, stores) * 100)} %), leaders ${fmt(m.leaders)} (±${Math.round(spread(m.leaders, stores) * 100)} %); ` +
          `${acked.size} keys, ${failures.length} failed writes`,
      );
      assert.deepEqual(m.problems, []);
      assert.equal(done.status.shardMap.replicationFactor, 3);
      assert.equal(done.status.shardMap.stores.length, STORES);
      assert.ok(done.status.shardMap.stores.every((s: any) => s.state === 'up' && /^place-\d$/.test(s.pod)), JSON.stringify(done.status.shardMap.stores));
      const out = await kubectl('get', 'kvsclusters', NAME, '-n', NS);
      assert.match(out.split('\n')[0]!, /\bRANGES\s+UNDERREPLICATED\b/);
      assert.match(out, new RegExp(`\\n${NAME}\\s+${STORES}\\s+${STORES}\\s+Running\\s+\\S+\\s+dev\\s+${RANGES}\\s+0\\s+`));
      console.log(out);
      console.log(`per store (pod: ranges, leaders, req/s led): ${done.status.shardMap.stores.map((s: any) => `${s.pod}: ${s.ranges}, ${s.leaders}, ${s.qps}`).join('; ')}`);
      const ev = await getJson('events.events.k8s.io', '-n', NS, '--field-selector', `regarding.name=${NAME}`);
      const reasons = new Map<string, number>();
      for (const e of ev.items) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
      console.log(`placement events: ${JSON.stringify(Object.fromEntries(reasons))}`);
      assert.ok((reasons.get('ReplicaAdded') ?? 0) > 0 && (reasons.get('ReplicaRemoved') ?? 0) > 0, 'replicas moved to the new stores (ReplicaAdded, ReplicaRemoved)');
      assert.ok((reasons.get('LeaderTransferred') ?? 0) > 0, 'leaderships moved');
      assertNoStepFailed(await eventsOf('PlacementStepFailed'));
      const ops = await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator');
      const ip = ops.items.find((p: any) => p.status.podIP && !p.metadata.deletionTimestamp)?.status.podIP;
      const metrics = await (await fetch(`http://${ip}:8080/metrics`)).text();
      assert.match(metrics, new RegExp(`kvs_operator_placement_under_replicated_ranges\\{kvs_namespace="${NS}",kvs_cluster="${NAME}"\\} 0`));
      assert.match(metrics, /kvs_operator_placement_steps_total\{type="RemoveReplica",result="ok"\} [1-9]/);
      assert.match(metrics, /kvs_operator_placement_steps_total\{type="AddLearner",result="ok"\} [1-9]/);
      assert.deepEqual(failures.slice(0, 5), [], 'no failed write');
      await w.checkLast();
    } finally {
      await w.stop();
    }
  });

  it('a store\'s pod and PVC deleted under a writer: it comes back empty under a new store id, the lost store\'s replicas are re-replicated (3 voters on 3 distinct stores, none on the lost id), no failed write', async () => {
    const before = (await getJson('kvscluster', NAME, '-n', NS)).status;
    const victim = before.members.find((m: any) => m.pod === `${NAME}-5`);
    const oldId = Number(victim.raftId);
    const w = await startWriter();
    try {
      const t0 = Date.now();
      await kubectl('delete', 'pvc', `data-${victim.pod}`, '-n', NS, '--wait=false');
      await kubectl('delete', 'pod', victim.pod, '-n', NS, '--wait=false');
      const done = await waitFor(
        `${victim.pod} replaced, its ranges re-replicated, Balanced`,
        async () => {
          const x = (await getJson('kvscluster', NAME, '-n', NS)).status ?? {};
          const m5 = (x.members ?? []).find((m: any) => m.pod === victim.pod);
          const voters = (x.members ?? []).filter((m: any) => m.role === 'Leader' || m.role === 'Follower');
          const bal = (x.conditions ?? []).find((c: any) => c.type === 'Balanced');
          if (!(m5 && Number(m5.raftId) !== oldId && voters.length === STORES && x.shardMap?.underReplicated === 0 && bal?.status === 'True')) return undefined;
          const m = await shardMap();
          return m.ranges === RANGES && m.wellFormed && (m.replicas.get(oldId) ?? 0) === 0 ? { status: x, map: m, newId: Number(m5.raftId) } : undefined;
        },
        600_000,
      );
      const tDone = Date.now();
      await sleep(1000);
      await w.stop();
      console.log(`lost store: ${victim.pod} store ${oldId} → ${done.newId}, re-replicated and balanced ${((tDone - t0) / 1000).toFixed(0)} s after the delete; replicas per store ${JSON.stringify(Object.fromEntries(done.map.replicas))}; ${w.last.size} keys, ${w.failures.length} failed writes`);
      assert.deepEqual(done.map.problems, []);
      assert.deepEqual(w.failures.slice(0, 5), [], 'no failed write');
      await w.checkLast();
    } finally {
      await w.stop();
    }
  });

  it('rolling upgrade of 6 stores (RF 3) under a writer: each store\'s leaderships move off it before its pod restarts, one pod at a time; afterwards every range 3 voters, leaders rebalanced, no failed write', async () => {
    const before = (await getJson('kvscluster', NAME, '-n', NS)).status;
    const stores = before.members.map((m: any) => Number(m.raftId)).sort((a: number, b: number) => a - b);
    const w = await startWriter();
    try {
      const t0 = Date.now();
      await kubectl('patch', `kvscluster/${NAME}`, '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { image: UPGRADE_IMAGE, version: 'dev2' } }));
      // What the wait saw last: on a timeout it says which condition never held (a flake once left no trace).
      let lastSeen = 'nothing yet';
      const done = await waitFor(
        `${NAME}: every pod on ${UPGRADE_IMAGE}, dev2, leaders rebalanced`,
        async () => {
          const pods = await getJson('pods', '-n', NS, '-l', `app.kubernetes.io/name=kvs,app.kubernetes.io/instance=${NAME}`);
          lastSeen = `pods ${pods.items.map((p: any) => `${p.metadata.name}=${p.spec.containers[0].image}`).join(' ')}`;
          if (pods.items.length !== STORES || !pods.items.every((p: any) => p.spec.containers[0].image === UPGRADE_IMAGE)) return undefined;
          const x = (await getJson('kvscluster', NAME, '-n', NS)).status ?? {};
          const bal = (x.conditions ?? []).find((c: any) => c.type === 'Balanced');
          lastSeen = `status ${JSON.stringify({ currentVersion: x.currentVersion, phase: x.phase, readyReplicas: x.readyReplicas, shardMap: x.shardMap, balanced: bal, conditions: (x.conditions ?? []).map((c: any) => `${c.type}=${c.status}/${c.reason}`) })}`;
          if (!(x.currentVersion === 'dev2' && x.phase === 'Running' && x.readyReplicas === STORES && x.shardMap?.underReplicated === 0 && bal?.status === 'True')) return undefined;
          const m = await shardMap();
          lastSeen = `shard map: ${m.ranges} ranges, well formed ${m.wellFormed}, leaders ${stores.map((st: number) => `${st}:${m.leaders.get(st) ?? 0}`).join(' ')} (spread ${spread(m.leaders, stores).toFixed(2)}), problems ${m.problems.slice(0, 5).join('; ')}`;
          return m.ranges === RANGES && m.wellFormed && spread(m.leaders, stores) <= 0.2 ? { status: x, map: m } : undefined;
        },
        480_000,
      ).catch(async (e: unknown) => {
        const events = await getJson('events', '-n', NS).catch(() => ({ items: [] }));
        const recent = (events.items as any[]).slice(-30).map((ev) => `${ev.reason}: ${ev.note ?? ev.message ?? ''}`);
        throw new Error(`${(e as Error).message}; last seen: ${lastSeen}; recent events: ${recent.join(' | ')}`);
      });
      const tDone = Date.now();
      await sleep(1000);
      await w.stop();
      // The operator's own record, in order: every pod's leaderships moved off it (StoreDrained, a
      // leaderships-only drain) before the pod was deleted (PodRestarted). The planner deletes a pod
      // only once its store reports leading nothing; a store still leading would make its ranges wait
      // for an election (or a graceful handover) while the writer writes to them.
      const at = (e: any): number => Date.parse(e.eventTime ?? e.metadata.creationTimestamp);
      const drained = (await eventsOf('StoreDrained')).filter((e: any) => /leadership/.test(e.note) && at(e) >= t0 - 1000);
      const restarted = (await eventsOf('PodRestarted')).filter((e: any) => /upgrade/.test(e.note) && at(e) >= t0 - 1000);
      const order: string[] = [];
      for (let i = 0; i < STORES; i++) {
        const pod = `${NAME}-${i}`;
        const r = restarted.find((e: any) => new RegExp(`restarting ${pod}:`).test(e.note));
        const d = drained.find((e: any) => new RegExp(`off ${pod} `).test(e.note) || new RegExp(`${pod} \\(store`).test(e.note));
        assert.ok(r, `${pod} restarted for the upgrade (PodRestarted events: ${restarted.map((e: any) => e.note).join(' | ')})`);
        assert.ok(d, `${pod}'s leaderships moved before its restart (StoreDrained events: ${drained.map((e: any) => e.note).join(' | ')})`);
        assert.ok(at(d) <= at(r), `${pod}: leaderships moved (${d.eventTime}) before the restart (${r.eventTime})`);
        order.push(`${pod} ${((at(r) - t0) / 1000).toFixed(0)} s`);
      }
      const fmt = (c: Map<number, number>) => stores.map((s: number) => c.get(s) ?? 0).join('/');
      console.log(
        `rolling upgrade of ${STORES} stores: done ${((tDone - t0) / 1000).toFixed(0)} s after the patch (restarts at ${order.join(', ')}); ` +
          `leaders after ${fmt(done.map.leaders)}; ${w.last.size} keys, ${w.failures.length} failed writes, slowest write ${w.maxMs} ms`,
      );
      assert.deepEqual(done.map.problems, []);
      assertNoStepFailed(await eventsOf('PlacementStepFailed'));
      assert.deepEqual(w.failures.slice(0, 5), [], 'no failed write');
      await w.checkLast();
    } finally {
      await w.stop();
    }
  });

  it('scale 6→3 under a writer, the operator force-killed mid-drain: every range moves off the removed stores before their pods go (3 voters on the 3 stores left), no failed write, every acknowledged write readable', async () => {
    const before = (await getJson('kvscluster', NAME, '-n', NS)).status;
    const kept = before.members.filter((m: any) => /-[012]$/.test(m.pod)).map((m: any) => Number(m.raftId)).sort((a: number, b: number) => a - b);
    const removed = before.members.filter((m: any) => !/-[012]$/.test(m.pod)).map((m: any) => Number(m.raftId));
    assert.equal(kept.length, 3);
    // The scale-in drains each store it removes (StoreDraining, the membership step that moves its
    // replicas and leaderships away), and placement adds the replicas it still misses (ReplicaAdded).
    const drainSteps = async (): Promise<number> => (await eventCount('StoreDraining')) + (await eventCount('ReplicaAdded'));
    const stepsBefore = await drainSteps();
    const w = await startWriter();
    try {
      const t0 = Date.now();
      await kubectl('patch', `kvscluster/${NAME}`, '-n', NS, '--type=merge', '-p', '{"spec":{"replicas":3}}');
      // The drain has started moving replicas onto the stores that stay: kill the operator now; the new
      // one must resume from what the stores report (nothing in the old one's memory is needed).
      await waitFor('the drain under way', async () => (await drainSteps()) > stepsBefore, 180_000);
      const ops = await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator');
      for (const p of ops.items) await kubectl('delete', 'pod', p.metadata.name, '-n', 'kvs-system', '--grace-period=0', '--force', '--wait=false');
      const tKilled = Date.now();
      const done = await waitFor(
        `${NAME}: 3 stores, 30 ranges on them, Balanced`,
        async () => {
          const x = (await getJson('kvscluster', NAME, '-n', NS)).status ?? {};
          const bal = (x.conditions ?? []).find((c: any) => c.type === 'Balanced');
          const voters = (x.members ?? []).filter((m: any) => m.role === 'Leader' || m.role === 'Follower');
          if (!(voters.length === 3 && x.shardMap?.ranges === RANGES && x.shardMap.underReplicated === 0 && bal?.status === 'True')) return undefined;
          if ((await podIps()).size !== 3) return undefined;
          const m = await shardMap();
          return m.ranges === RANGES && m.wellFormed && removed.every((s: number) => (m.replicas.get(s) ?? 0) === 0) ? { status: x, map: m } : undefined;
        },
        600_000,
      );
      const tDone = Date.now();
      await sleep(1000);
      await w.stop();
      const fmt = (c: Map<number, number>) => kept.map((s: number) => c.get(s) ?? 0).join('/');
      console.log(
        `scale-in 6→3: operator killed ${((tKilled - t0) / 1000).toFixed(0)} s after the patch, settled ${((tDone - t0) / 1000).toFixed(0)} s after it; ` +
          `replicas ${fmt(done.map.replicas)}, leaders ${fmt(done.map.leaders)}; ${w.last.size} keys, ${w.failures.length} failed writes`,
      );
      assert.deepEqual(done.map.problems, []);
      assert.deepEqual(done.status.members.map((m: any) => m.pod).sort(), [`${NAME}-0`, `${NAME}-1`, `${NAME}-2`]);
      await waitFor(`PVCs of ${NAME}-3..5 deleted`, async () => (await getJson('pvc', '-n', NS, '-l', `app.kubernetes.io/instance=${NAME}`)).items.length === 3, 120_000);
      assertNoStepFailed(await eventsOf('PlacementStepFailed'));
      assert.deepEqual(w.failures.slice(0, 5), [], 'no failed write');
      await w.checkLast();
    } finally {
      await w.stop();
    }
  });
});
