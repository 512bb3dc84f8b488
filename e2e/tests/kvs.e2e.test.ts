// End-to-end checks on a real local cluster after e2e/run-e2e.sh installed the chart and the sample:
// a replicated (Raft) kvs cluster run by the operator. The client library talks to the pod IPs from
// the host. Scenarios: create → Ready (leader elected, members/raft ids/leader in status); writes from
// the host readable on every replica; kill the leader pod (writes continue, the pod rejoins under its
// raft id); scale 3→5→3 with every acknowledged write still readable, the operator killed in the middle
// of the scale-in; rolling upgrade to kvs/node:dev2 with a retrying client that sees no failed request;
// a member's PVC and pod deleted under a writing client (the node comes back on an empty volume, is
// refused by the group and replaced under a new raft id); a transient restart within
// spec.failover.downTimeout is no replacement, a member kept down past it is replaced;
// graceful delete of the leader pod (leadership handed over before exit: write pause; delete → Ready) and
// of a follower pod (delete → Ready); reconciles per minute of a steady cluster under a writer; rollback
// of an upgrade to an image that cannot be pulled; delete with each pvcRetentionPolicy. Each scenario
// prints its run time ([e2e-time] lines).
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { getJson, kubectl, sleep, waitFor, waitRunning } from './k8s.js';

const NS = process.env.KVS_E2E_NAMESPACE ?? 'kvs-e2e';
const KUBECTL = process.env.KVS_KUBECTL ?? 'kubectl';
const UPGRADE_IMAGE = process.env.KVS_E2E_UPGRADE_IMAGE ?? 'kvs/node:dev2';
/**
 * A restarted pod's node must be ready (/readyz: a member that knows the leader) within this long after it
 * serves (/healthz): the rejoin itself — reconnects, leader found. Before the fix a peer could keep dialing
 * the old pod IP for minutes (no connect timeout in grpc-js; 44–72 s seen, the issue saw 70 s). Allowed:
 * a stale DNS answer for the pod's name (CoreDNS cache/TTL 5 s) plus one 2 s connect deadline.
 */
const REJOIN_BOUND_MS = Number(process.env.KVS_E2E_REJOIN_BOUND_MS ?? 7000);
/**
 * `kubectl delete pod` → Ready, end to end: the target, ≤ 10 s on this machine (before: 13–26 s,
 * the old pod's drain alone took up to the 10 s drain timeout). It includes the node process start, which
 * in a pod with a 50m CPU request takes 1–9 s depending on the machine's load.
 */
const READY_BOUND_MS = Number(process.env.KVS_E2E_READY_BOUND_MS ?? 10_000);

async function podIps(instance = 'demo'): Promise<Map<string, string>> {
  const pods = await getJson('pods', '-n', NS, '-l', `app.kubernetes.io/name=kvs,app.kubernetes.io/instance=${instance}`);
  return new Map(pods.items.filter((p: any) => p.status?.podIP && !p.metadata.deletionTimestamp).map((p: any) => [p.metadata.name, p.status.podIP]));
}
const status = async () => (await getJson('kvscluster', 'demo', '-n', NS)).status;

/** Running with n ready members, n voters (Leader/Follower) and a leader. */
const waitSettled = (n: number, timeoutMs = 240_000): Promise<any> => waitRunning(NS, 'demo', n, timeoutMs);

async function events(reason: string): Promise<any[]> {
  const list = await getJson('events.events.k8s.io', '-n', NS, '--field-selector', `regarding.name=demo,reason=${reason}`);
  return list.items;
}

/**
 * A client that keeps writing keys (prefix/i) with retries, refreshing the endpoints (pod IPs change on
 * restarts). Records acknowledged keys and failed requests.
 */
class Writer {
  acked: string[] = [];
  /** performance.now() of each acknowledgement (write pauses). */
  ackTimes: number[] = [];
  failures: string[] = [];
  private stopped = false;
  private done?: Promise<void>;
  private client?: KvClient;
  private endpoints = '';
  /** eager: retry every 10–100 ms, so a measured pause is the cluster's, not the client's backoff. */
  constructor(private readonly prefix: string, private readonly pauseMs = 20, private readonly eager = false) {}

  private async refresh(): Promise<void> {
    const eps = [...(await podIps()).values()].map((ip) => `${ip}:7379`).sort().join(',');
    if (eps && eps !== this.endpoints) {
      this.client?.close();
      this.endpoints = eps;
      this.client = new KvClient({ endpoints: eps, timeoutMs: 30_000, attemptTimeoutMs: 3000, ...(this.eager ? { backoff: { initialMs: 10, maxMs: 100 } } : {}) });
    }
  }

  /** The longest time without an acknowledgement from `since` (performance.now()) on. */
  maxPauseAfter(since: number): number {
    const after = this.ackTimes.filter((t) => t > since);
    let prev = this.ackTimes.filter((t) => t <= since).pop() ?? since;
    let max = 0;
    for (const t of after) {
      max = Math.max(max, t - prev);
      prev = t;
    }
    return max;
  }

  start(): this {
    this.done = (async () => {
      let i = 0;
      let lastRefresh = 0;
      while (!this.stopped) {
        if (Date.now() - lastRefresh > 2000) {
          await this.refresh().catch(() => undefined);
          lastRefresh = Date.now();
        }
        const key = `${this.prefix}/${String(i).padStart(6, '0')}`;
        try {
          await this.client!.put(key, `v${i}`);
          this.acked.push(key);
          this.ackTimes.push(performance.now());
        } catch (e) {
          this.failures.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
        }
        i++;
        await sleep(this.pauseMs);
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.client?.close();
  }
}

/** Every key is readable with its value on every node (ReadIndex reads on any replica). */
async function checkEveryNode(keys: string[], valueOf: (k: string) => string): Promise<void> {
  const ips = await podIps();
  for (const [pod, ip] of ips) {
    const c = new KvClient({ endpoints: [`${ip}:7379`], timeoutMs: 20_000 });
    try {
      for (const k of keys) {
        const r = await c.get(k);
        assert.equal(r.found, true, `${k} missing on ${pod}`);
        assert.equal(r.value?.toString(), valueOf(k), `${k} on ${pod}`);
      }
    } finally {
      c.close();
    }
  }
}
const writerValue = (k: string) => `v${Number(k.split('/').pop())}`;

const podReadyCondition = (p: any) => p?.status?.conditions?.find((c: any) => c.type === 'Ready');

/**
 * `kubectl delete pod` (graceful, as a drain or a user does) → the pod with the same name (new UID, new
 * IP, same PVC) Ready. Returns the time from the delete call and from its container's start to Ready
 * (the latter from the API timestamps, 1 s resolution).
 */
async function deletePodUntilReady(name: string): Promise<{ readyMs: number; startedToReadyS: number; servingToReadyMs: number }> {
  const old = await getJson('pod', name, '-n', NS);
  const t0 = performance.now();
  await kubectl('delete', 'pod', name, '-n', NS, '--wait=false');
  // The new pod's node from the host, every 100 ms: first /healthz 200 (serving) → first /readyz 200.
  const probe = (async () => {
    const ip = await waitForFast(
      `${name} recreated with an IP`,
      async () => {
        const x = await getJson('pod', name, '-n', NS).catch(() => undefined);
        return x && x.metadata.uid !== old.metadata.uid && x.status?.podIP ? (x.status.podIP as string) : undefined;
      },
      180_000,
    );
    const ok = async (path: string) => (await fetch(`http://${ip}:7380${path}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.status === 200;
    const deadline = Date.now() + 180_000;
    let serving = 0;
    while (Date.now() < deadline) {
      if (!serving && (await ok('/healthz'))) serving = performance.now();
      if (serving && (await ok('/readyz'))) return performance.now() - serving;
      await sleep(100);
    }
    throw new Error(`${name}: not ready within 180 s`);
  })();
  const p = await waitForFast(
    `${name} recreated and Ready`,
    async () => {
      const x = await getJson('pod', name, '-n', NS).catch(() => undefined);
      return x && x.metadata.uid !== old.metadata.uid && !x.metadata.deletionTimestamp && podReadyCondition(x)?.status === 'True' ? x : undefined;
    },
    180_000,
  );
  const readyMs = performance.now() - t0;
  const started = Date.parse(p.status.containerStatuses[0].state.running.startedAt);
  return { readyMs, startedToReadyS: (Date.parse(podReadyCondition(p).lastTransitionTime) - started) / 1000, servingToReadyMs: await probe };
}

/** waitFor with a 250 ms poll (timings). */
async function waitForFast<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Follows a pod's log until its container exits (or stop() is called); returns what was printed. */
function followLogs(pod: string): { stop(): Promise<string> } {
  const child = spawn(KUBECTL, ['logs', '-f', pod, '-n', NS, '--tail=5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    async stop() {
      await Promise.race([exited, sleep(5000)]);
      child.kill();
      return out;
    },
  };
}

async function operatorMetrics(): Promise<string> {
  const pods = await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator');
  const ip = pods.items.find((p: any) => p.status.podIP && !p.metadata.deletionTimestamp && podReadyCondition(p)?.status === 'True').status.podIP;
  return (await fetch(`http://${ip}:8080/metrics`)).text();
}
const reconcileTotals = (m: string) => Object.fromEntries([...m.matchAll(/^kvs_operator_reconcile_total\{result="([a-z]+)"\} (\d+)/gm)].map((x) => [x[1]!, Number(x[2])]));

describe('e2e: replicated kvs on a real Kubernetes', function () {
  this.timeout(600_000);
  let t0 = 0;
  beforeEach(() => {
    t0 = Date.now();
  });
  let dumped = false;
  afterEach(async function () {
    console.log(`[e2e-time] ${this.currentTest?.title}: ${((Date.now() - t0) / 1000).toFixed(1)} s (${this.currentTest?.state})`);
    // The first failure's surroundings, while they last (run-e2e.sh's dump at the end sees only the final state).
    if (this.currentTest?.state !== 'failed' || dumped) return;
    dumped = true;
    const show = async (...args: string[]) => console.log(await kubectl(...args).catch((e: unknown) => String(e)));
    await show('get', 'pods', '-n', NS, '-o', 'wide');
    await show('get', 'kvscluster', 'demo', '-n', NS, '-o', 'jsonpath={.status}');
    await show('logs', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator', '--tail=60');
  });

  it('create → Ready: a Raft leader is elected; status shows members with raft ids, roles and the leader', async () => {
    const c = await getJson('kvscluster', 'demo', '-n', NS);
    assert.equal(c.status.conditions.find((x: any) => x.type === 'Available').status, 'True');
    const st = await waitSettled(3, 180_000);
    assert.equal(st.observedGeneration, c.metadata.generation);
    assert.deepEqual(st.members.map((m: any) => [m.pod, m.raftId]), [['demo-0', '1'], ['demo-1', '2'], ['demo-2', '3']]);
    assert.equal(st.members.filter((m: any) => m.role === 'Leader').length, 1);
    assert.equal(st.members.find((m: any) => m.role === 'Leader').pod, st.leader);
    assert.ok(st.members.every((m: any) => typeof m.appliedIndex === 'number' && m.appliedIndex > 0));
    assert.equal(st.nextRaftId, 4);
    assert.equal(st.currentVersion, 'dev');
    const pvcs = await getJson('pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=demo');
    assert.equal(pvcs.items.length, 3);
    assert.ok(pvcs.items.every((p: any) => p.status.phase === 'Bound'));
    const out = await kubectl('get', 'kvsclusters', '-n', NS);
    assert.match(out.split('\n')[0]!, /^NAME\s+REPLICAS\s+READY\s+PHASE\s+LEADER\s+VERSION\s+RANGES\s+UNDERREPLICATED\s+AGE/);
    assert.match(out, new RegExp(`\\ndemo\\s+3\\s+3\\s+Running\\s+${st.leader}\\s+dev\\s+`));
    console.log(out);
  });

  it('writes from the host through the client library are replicated: every node serves every key', async () => {
    const ips = await podIps();
    const client = new KvClient({ endpoints: [...ips.values()].map((ip) => `${ip}:7379`), timeoutMs: 20_000 });
    const keys: string[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        await client.put(`e2e/basic/${i}`, `value-${i}`);
        keys.push(`e2e/basic/${i}`);
      }
    } finally {
      client.close();
    }
    await checkEveryNode(keys, (k) => `value-${k.split('/').pop()}`);
    // Scans too, on one follower.
    const st = await status();
    const follower = st.members.find((m: any) => m.role === 'Follower').pod;
    const c = new KvClient({ endpoints: [`${ips.get(follower)}:7379`], timeoutMs: 20_000 });
    try {
      assert.equal((await c.scan({ prefix: 'e2e/basic/' })).kvs.length, 50);
    } finally {
      c.close();
    }
  });

  it('kill the leader pod: writes continue, the pod rejoins under its raft id, no membership change', async () => {
    const before = await waitSettled(3);
    const leader = before.leader as string;
    const leaderId = before.members.find((m: any) => m.pod === leader).raftId;
    const w = new Writer('e2e/failover').start();
    await sleep(2000);
    const ackedBefore = w.acked.length;
    await kubectl('delete', 'pod', leader, '-n', NS, '--grace-period=0', '--force', '--wait=false');
    // Writes continue on the remaining majority (a new leader is elected).
    await waitFor('writes acknowledged after the kill', async () => w.acked.length > ackedBefore + 20, 60_000);
    const after = await waitSettled(3);
    await w.stop();
    assert.ok(after.leader, 'a leader');
    assert.equal(after.members.find((m: any) => m.pod === leader).raftId, leaderId, 'same raft id after the restart');
    assert.equal((await events('MemberRemoved')).length, 0, 'a restart is not a removal');
    assert.equal(after.nextRaftId, 4);
    console.log(`failover: ${w.acked.length} writes acknowledged, ${w.failures.length} failed (retrying client with a 30 s budget)`);
    assert.deepEqual(w.failures, []);
    await checkEveryNode(w.acked, writerValue);
  });

  it('scale 3→5 (learner → caught up → promote, one at a time) and 5→3 with the operator killed mid-way; every acknowledged write stays readable', async () => {
    const w = new Writer('e2e/scale').start();
    // Replication factor 5 while at 5 stores: every range on every store, as this scenario (issue 12's
    // drain of a store leading a range) expects; the placement driver would otherwise trim the split
    // range to 3 replicas, maybe off demo-4 (placement has its own scenario, placement.e2e.test.ts).
    await kubectl('patch', 'kvscluster/demo', '-n', NS, '--type=merge', '-p', '{"spec":{"replicas":5,"replicationFactor":5}}');
    let st = await waitSettled(5, 300_000);
    assert.deepEqual(st.members.map((m: any) => [m.pod, m.raftId]), [['demo-0', '1'], ['demo-1', '2'], ['demo-2', '3'], ['demo-3', '4'], ['demo-4', '5']]);
    assert.ok((await events('MemberAdded')).length >= 2, 'MemberAdded events');
    assert.ok((await events('MemberPromoted')).length >= 2, 'MemberPromoted events');
    const out = await kubectl('get', 'kvsclusters', '-n', NS);
    assert.match(out, /\ndemo\s+5\s+5\s+Running\s+/);

    // Issue 12 item 7: a second range (split under the writer), led by demo-4 — the first store the
    // scale-in removes. The operator must drain it (StoreDrained) and remove no store that still leads.
    const ips = await podIps();
    // Admin is on the pods' admin port (7381, the operator's NetworkPolicy would admit only the operator
    // under an enforcing CNI; this cluster's bridge CNI does not enforce it). Leader hints name Kv addresses.
    const admin = new AdminClient([...ips.values()].map((ip) => `${ip}:7381`), { followAnyLeaderHint: false });
    try {
      const { right } = await admin.splitRange(Buffer.from('e2e/scale/5'));
      await waitFor('demo-4 leads the split range', async () => {
        await admin.transferLeader(5, 5000, right.rangeId).catch(() => undefined);
        return (await admin.ranges(`${ips.get('demo-4')}:7381`)).ranges.some((r) => r.rangeId === right.rangeId && r.role === 'Leader');
      }, 60_000);
    } finally {
      admin.close();
    }

    await kubectl('patch', 'kvscluster/demo', '-n', NS, '--type=merge', '-p', '{"spec":{"replicas":3,"replicationFactor":null}}');
    // Kill the operator right after the first removal was committed; the new one must finish safely.
    await waitFor('first MemberRemoved event', async () => (await events('MemberRemoved')).length >= 1, 180_000);
    const ops = await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator');
    for (const p of ops.items) await kubectl('delete', 'pod', p.metadata.name, '-n', 'kvs-system', '--grace-period=0', '--force', '--wait=false');
    st = await waitSettled(3, 300_000);
    await w.stop();
    assert.deepEqual(st.members.map((m: any) => [m.pod, m.raftId]), [['demo-0', '1'], ['demo-1', '2'], ['demo-2', '3']]);
    assert.equal(st.nextRaftId, 6);
    await waitFor('PVCs of demo-3/demo-4 deleted', async () => (await getJson('pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=demo')).items.length === 3, 60_000);
    const cm = await getJson('configmap', 'demo-members', '-n', NS);
    assert.deepEqual(JSON.parse(cm.data['state.json']).retired, [4, 5]);
    const drained = await events('StoreDrained');
    assert.ok(drained.some((e: any) => /store 5: moved [1-9]\d* leadership/.test(e.note ?? '')), `demo-4 (store 5) was drained: ${drained.map((e: any) => e.note).join(' | ')}`);
    // What the removed stores' nodes reported on the pass that removed them (the operator's MemberRemoved notes).
    const removed = (await events('MemberRemoved')).filter((e: any) => /removing demo-[34] /.test(e.note ?? ''));
    assert.ok(removed.length >= 2, `MemberRemoved events of demo-3 and demo-4: ${removed.length}`);
    for (const e of removed) assert.match(e.note, /its node reports leading 0 range\(s\)/, 'no store was removed while it led a range');
    console.log(`scale: ${w.acked.length} writes acknowledged, ${w.failures.length} failed`);
    assert.deepEqual(w.failures, []);
    await checkEveryNode(w.acked, writerValue);
  });

  it('a scale-out after the scale-in hands out fresh raft ids (never 4 or 5 again)', async () => {
    await kubectl('scale', 'kvscluster/demo', '-n', NS, '--replicas=4');
    let st = await waitSettled(4, 240_000);
    assert.equal(st.members.find((m: any) => m.pod === 'demo-3').raftId, '6');
    await kubectl('scale', 'kvscluster/demo', '-n', NS, '--replicas=3');
    st = await waitSettled(3, 240_000);
    assert.equal(st.nextRaftId, 7);
  });

  it('rolling upgrade to a new image: one pod at a time, leadership moved first, a retrying client sees no failed request', async () => {
    const w = new Writer('e2e/upgrade').start();
    await sleep(1000);
    await kubectl('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { image: UPGRADE_IMAGE, version: 'dev2' } }));
    await waitFor(
      'every pod on the new image, currentVersion dev2, Running',
      async () => {
        const pods = await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=demo');
        if (pods.items.length !== 3 || !pods.items.every((p: any) => p.spec.containers[0].image === UPGRADE_IMAGE)) return undefined;
        const x = await status();
        return x.currentVersion === 'dev2' && x.phase === 'Running' && x.readyReplicas === 3 ? x : undefined;
      },
      400_000,
    );
    await waitSettled(3);
    await w.stop();
    const restarts = await events('PodRestarted');
    assert.ok(restarts.length >= 3, `PodRestarted events: ${restarts.length}`);
    assert.ok((await events('LeaderTransferred')).length >= 1, 'leadership moved away before the leader restarted');
    console.log(`upgrade: ${w.acked.length} writes acknowledged, ${w.failures.length} failed`);
    assert.deepEqual(w.failures, []);
    await checkEveryNode(w.acked, writerValue);
  });

  /** Every condition reason of MemberReplacement seen while `until` runs (polled every second). */
  async function watchReplacement(until: () => Promise<boolean>, timeoutMs: number): Promise<Set<string>> {
    const seen = new Set<string>();
    await waitFor(
      'replacement finished',
      async () => {
        const c = (await status()).conditions?.find((x: any) => x.type === 'MemberReplacement');
        if (c) seen.add(`${c.status}/${c.reason}`);
        return until();
      },
      timeoutMs,
    );
    return seen;
  }
  const membersState = async () => JSON.parse((await getJson('configmap', 'demo-members', '-n', NS)).data['state.json']);
  const setFailover = (failover: object | null) => kubectl('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { failover } }));

  it('lost volume: delete a member\'s PVC and pod under a writing client → it comes back empty, is refused and replaced under a new raft id; every acknowledged write stays readable', async () => {
    const before = await waitSettled(3);
    const victim = before.members.find((m: any) => m.role === 'Follower');
    const oldId = victim.raftId as string;
    const nextBefore = before.nextRaftId as number;
    const replacingBefore = (await events('MemberReplacing')).length;
    const w = new Writer('e2e/lostvolume').start();
    await sleep(2000);
    await kubectl('delete', 'pvc', `data-${victim.pod}`, '-n', NS, '--wait=false');
    await kubectl('delete', 'pod', victim.pod, '-n', NS, '--wait=false');
    const seen = await watchReplacement(async () => {
      const x = await status();
      const m = (x.members ?? []).find((y: any) => y.pod === victim.pod);
      const voters = (x.members ?? []).filter((y: any) => y.role === 'Leader' || y.role === 'Follower');
      return m && m.raftId !== oldId && m.role === 'Follower' && voters.length === 3 && x.phase === 'Running' && x.readyReplicas === 3;
    }, 420_000);
    const after = await waitSettled(3);
    await w.stop();
    const newId = after.members.find((m: any) => m.pod === victim.pod).raftId;
    console.log(`lost volume: ${victim.pod} raft id ${oldId} → ${newId}; MemberReplacement seen: ${[...seen].join(', ')}; ${w.acked.length} writes acknowledged, ${w.failures.length} failed`);
    assert.equal(Number(newId), nextBefore, 'the new id is the next never-used one');
    assert.ok(seen.has('True/VolumeLost'), `MemberReplacement said VolumeLost while replacing (seen ${[...seen].join(', ')})`);
    const cond = after.conditions.find((x: any) => x.type === 'MemberReplacement');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'Replaced');
    assert.match(cond.message, new RegExp(`${victim.pod} raft id ${oldId} → ${newId} \\(VolumeLost\\)`));
    assert.ok((await events('MemberReplacing')).length > replacingBefore, 'MemberReplacing event');
    assert.ok((await events('MemberReplaced')).length >= 1, 'MemberReplaced event');
    assert.ok((await membersState()).retired.includes(Number(oldId)), 'the old id is retired');
    assert.deepEqual(w.failures, []);
    await checkEveryNode(w.acked, writerValue);
  });

  it('failover: a follower restarted within spec.failover.downTimeout keeps its raft id (no replacement)', async () => {
    await setFailover({ downTimeout: '90s' });
    const before = await waitSettled(3);
    const victim = before.members.find((m: any) => m.role === 'Follower');
    const replacingBefore = (await events('MemberReplacing')).length;
    await kubectl('delete', 'pod', victim.pod, '-n', NS, '--wait=false');
    await waitFor('the pod restarting', async () => (await status()).readyReplicas < 3, 60_000).catch(() => undefined);
    const after = await waitSettled(3);
    assert.equal(after.members.find((m: any) => m.pod === victim.pod).raftId, victim.raftId, 'same raft id after a transient restart');
    assert.equal(after.nextRaftId, before.nextRaftId);
    assert.equal((await events('MemberReplacing')).length, replacingBefore, 'a transient restart is not a replacement');
  });

  it('failover: a member kept down past spec.failover.downTimeout is replaced (new raft id, learner → voter); acknowledged writes stay readable', async () => {
    await setFailover({ downTimeout: '20s' });
    const before = await waitSettled(3);
    const victim = before.members.find((m: any) => m.role === 'Follower');
    const oldId = victim.raftId as string;
    const w = new Writer('e2e/memberdown').start();
    await sleep(1000);
    // A broken disk: the identity file now names another raft id, so the node refuses to start
    // (crash loop) until the volume is replaced.
    await kubectl('exec', victim.pod, '-n', NS, '--', 'node', '-e', "require('fs').writeFileSync('/data/KVS_RAFT_ID', '999'); process.kill(1, 'SIGTERM')");
    const seen = await watchReplacement(async () => {
      const x = await status();
      const m = (x.members ?? []).find((y: any) => y.pod === victim.pod);
      return m && m.raftId !== oldId && m.role === 'Follower' && x.phase === 'Running' && x.readyReplicas === 3;
    }, 420_000);
    const after = await waitSettled(3);
    await w.stop();
    await setFailover(null);
    const newId = after.members.find((m: any) => m.pod === victim.pod).raftId;
    console.log(`member down: ${victim.pod} raft id ${oldId} → ${newId}; MemberReplacement seen: ${[...seen].join(', ')}; ${w.acked.length} writes acknowledged, ${w.failures.length} failed`);
    assert.ok(seen.has('True/MemberDown'), `MemberReplacement said MemberDown (seen ${[...seen].join(', ')})`);
    assert.match(after.conditions.find((x: any) => x.type === 'MemberReplacement').message, new RegExp(`raft id ${oldId} → ${newId} \\(MemberDown\\)`));
    assert.deepEqual(w.failures, []);
    await checkEveryNode(w.acked, writerValue);
  });

  it('delete the leader pod (graceful): it hands leadership over before it exits (write pause printed), and rejoins within seconds of serving', async () => {
    const before = await waitSettled(3);
    const leader = before.leader as string;
    const w = new Writer('e2e/handover', 5, true).start();
    await sleep(3000);
    const logs = followLogs(leader);
    await sleep(500);
    const tDelete = performance.now();
    const { readyMs, startedToReadyS, servingToReadyMs } = await deletePodUntilReady(leader);
    const log = await logs.stop();
    await waitSettled(3);
    await sleep(1000);
    await w.stop();
    const pause = w.maxPauseAfter(tDelete);
    console.log(
      `leader pod ${leader} delete → Ready: ${(readyMs / 1000).toFixed(1)} s (container start → Ready ${startedToReadyS} s, node serving → ready ${servingToReadyMs.toFixed(0)} ms); ` +
        `write pause ${pause.toFixed(0)} ms; ${w.acked.length} writes acknowledged, ${w.failures.length} failed`,
    );
    // The pause itself is printed, not bounded: on this shared machine a single write takes 0.1–0.7 s
    // even with no fault; the multi-process test (test/integration/shutdown-leadership) bounds it.
    assert.match(log, /leadership handed over before shutdown/, 'the leader handed leadership over before it exited');
    assert.deepEqual(w.failures, []);
    assert.ok(servingToReadyMs <= REJOIN_BOUND_MS, `the restarted leader's node took ${servingToReadyMs.toFixed(0)} ms from serving to ready (bound ${REJOIN_BOUND_MS} ms)`);
    assert.ok(readyMs <= READY_BOUND_MS, `leader pod delete → Ready took ${readyMs.toFixed(0)} ms (bound ${READY_BOUND_MS} ms)`);
    await checkEveryNode(w.acked, writerValue);
  });

  it('delete a follower pod (graceful): it rejoins within seconds of serving', async () => {
    const st = await waitSettled(3);
    const follower = st.members.find((m: any) => m.role === 'Follower').pod as string;
    const { readyMs, startedToReadyS, servingToReadyMs } = await deletePodUntilReady(follower);
    console.log(`follower pod ${follower} delete → Ready: ${(readyMs / 1000).toFixed(1)} s (container start → Ready ${startedToReadyS} s, node serving → ready ${servingToReadyMs.toFixed(0)} ms)`);
    await waitSettled(3);
    assert.ok(servingToReadyMs <= REJOIN_BOUND_MS, `the restarted follower's node took ${servingToReadyMs.toFixed(0)} ms from serving to ready (bound ${REJOIN_BOUND_MS} ms)`);
    assert.ok(readyMs <= READY_BOUND_MS, `follower pod delete → Ready took ${readyMs.toFixed(0)} ms (bound ${READY_BOUND_MS} ms)`);
  });

  it('reconciles per minute of a steady cluster under a writing client (printed for the issue note)', async () => {
    await waitSettled(3);
    const w = new Writer('e2e/steady', 20).start();
    await sleep(5000);
    const a = reconcileTotals(await operatorMetrics());
    const t = performance.now();
    // Half a minute is enough for a per-minute rate (the resync is seconds); a longer window only adds e2e time.
    await sleep(30_000);
    const b = reconcileTotals(await operatorMetrics());
    const minutes = (performance.now() - t) / 60_000;
    await w.stop();
    const rate = Object.fromEntries(Object.keys(b).map((k) => [k, Number((((b[k] ?? 0) - (a[k] ?? 0)) / minutes).toFixed(1))]));
    console.log(`reconciles per minute, steady under a writer (${w.acked.length} writes): ${JSON.stringify(rate)}`);
    assert.deepEqual(w.failures, []);
  });

  it('a failed upgrade (an image that cannot be pulled) is rolled back by re-applying the good spec: the stuck pod is restarted', async () => {
    await waitSettled(3);
    const good = (await getJson('kvscluster', 'demo', '-n', NS)).spec.image as string;
    const bad = 'kvs/node:no-such-tag';
    await kubectl('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { image: bad } }));
    const stuck = await waitFor(
      'a pod stuck pulling the bad image',
      async () => {
        const pods = await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=demo');
        const p = pods.items.find((x: any) => x.spec.containers[0].image === bad && /ErrImagePull|ImagePullBackOff/.test(x.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ''));
        return p?.metadata.name as string | undefined;
      },
      180_000,
    );
    // The operator stops the rollout there: one pod on the bad image, the other two serve.
    await sleep(5000);
    const onBad = (await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=demo')).items.filter((x: any) => x.spec.containers[0].image === bad);
    assert.deepEqual(onBad.map((x: any) => x.metadata.name), [stuck], 'only one pod restarted onto the bad image');
    const t0 = performance.now();
    await kubectl('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { image: good } }));
    await waitFor(
      'every pod back on the good image and ready',
      async () => {
        const pods = await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=demo');
        return pods.items.length === 3 && pods.items.every((x: any) => x.spec.containers[0].image === good && podReadyCondition(x)?.status === 'True' && !x.metadata.deletionTimestamp) ? true : undefined;
      },
      120_000,
    );
    const st = await waitSettled(3);
    console.log(`rollback: ${stuck} restarted onto ${good} and every node ready ${((performance.now() - t0) / 1000).toFixed(1)} s after re-applying the good spec`);
    assert.ok((await events('PodRestarted')).some((e: any) => /rollback/.test(e.note ?? '')), 'a PodRestarted event for the rollback');
    assert.equal(st.conditions.find((c: any) => c.type === 'Degraded').status, 'False');
  });

  it('the operator reports metrics (membership steps) and leads', async () => {
    const pods = await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator');
    const ip = pods.items.find((p: any) => p.status.podIP && !p.metadata.deletionTimestamp).status.podIP;
    const m = await (await fetch(`http://${ip}:8080/metrics`)).text();
    assert.match(m, /^kvs_operator_leader 1$/m);
    assert.match(m, /kvs_operator_reconcile_total\{result="(success|requeue)"\} [1-9]/);
  });

  it('deleting a KvsCluster removes its objects; PVCs follow pvcRetentionPolicy (Delete here)', async () => {
    await kubectl('delete', 'kvscluster', 'demo', '-n', NS, '--wait=true', '--timeout=60s');
    await waitFor(
      'children garbage-collected',
      async () => {
        const left = await kubectl('get', 'statefulsets,services,configmaps,poddisruptionbudgets,pods,pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=demo', '-o', 'name');
        return left.trim() === '' ? true : undefined;
      },
      120_000,
    );
  });

  it('with the default pvcRetentionPolicy (Retain) the data volumes outlive the KvsCluster', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'kvs.dev/v1alpha1',
      kind: 'KvsCluster',
      metadata: { name: 'keep', namespace: NS },
      spec: { replicas: 1, storage: { size: '64Mi' } },
    });
    await new Promise<void>((resolve, reject) => {
      const p = execFile(KUBECTL, ['apply', '-f', '-'], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve()));
      p.stdin?.end(manifest);
    });
    await waitFor('keep Available with a leader', async () => {
      const x = (await getJson('kvscluster', 'keep', '-n', NS)).status;
      return x?.conditions?.some((c: any) => c.type === 'Available' && c.status === 'True') && x.leader === 'keep-0';
    }, 180_000);
    await kubectl('delete', 'kvscluster', 'keep', '-n', NS, '--wait=true', '--timeout=60s');
    await waitFor('pods of keep gone', async () => (await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=keep')).items.length === 0, 120_000);
    const pvcs = await getJson('pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=keep');
    assert.equal(pvcs.items.length, 1, 'PVC retained');
    assert.equal(pvcs.items[0].metadata.deletionTimestamp, undefined);
    await kubectl('delete', 'pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=keep', '--wait=false');
  });
});
