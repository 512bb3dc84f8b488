// Work queue, error mapping, leader election (fake Lease API) and reconcile (fake cache/writer).
import { strict as assert } from 'node:assert';
import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger } from '../../../node/src/common/logger.js';
import { WorkQueue, type Clock } from '../../../operator/src/runtime/workqueue.js';
import { ConflictError, InvalidSpecError, requeueDecision, toOperatorError, SLOW_RETRY_MS } from '../../../operator/src/errors.js';
import { LeaderElector, type LeaseApi, type LeaseRecord } from '../../../operator/src/runtime/leader.js';
import { executeStep, reconcile } from '../../../operator/src/controller/reconcile.js';
import type { ClusterCache } from '../../../operator/src/runtime/informers.js';
import { ownerKey } from '../../../operator/src/runtime/informers.js';
import type { Writer } from '../../../operator/src/runtime/kube.js';
import type { KvsCluster, KvsClusterStatus } from '../../../operator/src/api/types.js';
import type { PlannedEvent } from '../../../operator/src/controller/plan.js';
import { FakeNodeAdmin } from '../../../operator/src/runtime/admin.js';
import { MembershipStepError } from '../../../operator/src/errors.js';
import { cluster, healthyStatus, membersCm, pods, StaticCache, sts } from './fixtures.js';

class FakeClock implements Clock {
  t = 0;
  timers: { at: number; fn: () => void; id: number }[] = [];
  private id = 0;
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = ++this.id;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  advance(ms: number) {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
}

describe('operator work queue', () => {
  it('deduplicates waiting keys', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.depth, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('never hands out a key being processed; an add meanwhile requeues it after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    assert.equal(q.depth, 0, 'dirty, not queued');
    q.add('b');
    assert.equal(await q.get(), 'b');
    q.done(k!);
    assert.equal(q.depth, 1);
    assert.equal(await q.get(), 'a');
  });

  it('a waiting getter receives the next add', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.add('x');
    assert.equal(await p, 'x');
  });

  it('rate-limited requeue backs off exponentially, capped, and forget resets', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000, clock });
    const delays = [1, 2, 3, 4, 5, 6].map(() => q.nextDelay('k'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    q.forget('k');
    assert.equal(q.addRateLimited('k'), 100);
    assert.equal(q.depth, 0);
    clock.advance(99);
    assert.equal(q.depth, 0);
    clock.advance(1);
    assert.equal(q.depth, 1);
  });

  it('addAfter keeps the earliest pending time', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('k', 500);
    q.addAfter('k', 100);
    q.addAfter('k', 900);
    assert.equal(q.delayedCount, 1);
    clock.advance(100);
    assert.equal(q.depth, 1);
  });

  it('shutDown releases waiting getters', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.shutDown();
    assert.equal(await p, undefined);
  });
});

describe('operator errors', () => {
  it('maps API statuses to typed errors and requeue decisions in one place', () => {
    const api = (code: number) => Object.assign(new Error('HTTP-Code: ' + code), { code, body: JSON.stringify({ message: `m${code}` }) });
    assert.equal(toOperatorError(api(409)).code, 'Conflict');
    assert.equal(toOperatorError(api(404)).code, 'NotFound');
    assert.equal(toOperatorError(api(403)).code, 'Forbidden');
    assert.equal(toOperatorError(api(422)).code, 'Invalid');
    assert.equal(toOperatorError(api(503)).code, 'Transient');
    assert.equal(toOperatorError(api(429)).code, 'Transient');
    assert.match(toOperatorError(api(422), 'apply x').message, /apply x: m422/);
    assert.equal(toOperatorError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).code, 'Transient');
    assert.deepEqual(requeueDecision(new ConflictError('c')), { requeue: 'backoff', reason: 'Conflict' });
    assert.deepEqual(requeueDecision(api(404)), { requeue: 'none', reason: 'NotFound' });
    assert.deepEqual(requeueDecision(new InvalidSpecError('bad')), { requeue: 'none', reason: 'InvalidSpec' });
    assert.deepEqual(requeueDecision(api(403)), { requeue: 'after', afterMs: SLOW_RETRY_MS, reason: 'Forbidden' });
    assert.deepEqual(requeueDecision(new Error('boom')), { requeue: 'backoff', reason: 'Internal' });
  });
});

class FakeLeases implements LeaseApi {
  rec?: LeaseRecord;
  rv = 0;
  async get() {
    return this.rec ? { ...this.rec } : undefined;
  }
  async create(r: LeaseRecord) {
    if (this.rec) throw Object.assign(new Error('exists'), { code: 409 });
    this.rec = { ...r, resourceVersion: String(++this.rv) };
    return { ...this.rec };
  }
  async replace(r: LeaseRecord) {
    if (r.resourceVersion !== this.rec?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    this.rec = { ...r, resourceVersion: String(++this.rv) };
    return { ...this.rec };
  }
}

describe('operator leader election', () => {
  const mk = (api: LeaseApi, id: string, clock: { t: number }) => {
    const log: string[] = [];
    const e = new LeaderElector(api, {
      identity: id,
      logger: silentLogger(),
      now: () => clock.t,
      leaseDurationMs: 15_000,
      onStartedLeading: () => log.push('start'),
      onStoppedLeading: () => log.push('stop'),
    });
    return { e, log };
  };

  it('first candidate acquires; a second stays passive until the lease expires', async () => {
    const api = new FakeLeases();
    const clock = { t: 1_000_000 };
    const a = mk(api, 'a', clock);
    const b = mk(api, 'b', clock);
    assert.equal(await a.e.tryAcquireOrRenew(), true);
    assert.equal(await b.e.tryAcquireOrRenew(), false);
    clock.t += 5_000;
    assert.equal(await a.e.tryAcquireOrRenew(), true, 'renew');
    assert.equal(await b.e.tryAcquireOrRenew(), false, 'b sees a fresh renewal');
    clock.t += 14_000;
    assert.equal(await b.e.tryAcquireOrRenew(), false, 'not yet expired from b\'s observation');
    clock.t += 2_000;
    assert.equal(await b.e.tryAcquireOrRenew(), true, 'expired: b takes over');
    assert.equal(api.rec?.holderIdentity, 'b');
    assert.equal(api.rec?.leaseTransitions, 1);
  });

  it('a stale write loses on resourceVersion', async () => {
    const api = new FakeLeases();
    const clock = { t: 0 };
    const a = mk(api, 'a', clock);
    await a.e.tryAcquireOrRenew();
    const stale = await api.get();
    await a.e.tryAcquireOrRenew();
    await assert.rejects(api.replace({ ...stale!, holderIdentity: 'z' }));
  });

  it('stop() releases the lease so a successor takes over at once', async () => {
    const api = new FakeLeases();
    const clock = { t: 0 };
    const a = mk(api, 'a', clock);
    a.e.start();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.e.isLeader, true);
    await a.e.stop();
    assert.deepEqual(a.log, ['start', 'stop']);
    const b = mk(api, 'b', clock);
    assert.equal(await b.e.tryAcquireOrRenew(), true);
  });
});

class FakeWriter implements Writer {
  applied: KubernetesObject[] = [];
  statuses: KvsClusterStatus[] = [];
  events: PlannedEvent[] = [];
  failKind?: string;
  async apply(o: KubernetesObject) {
    if (o.kind === this.failKind) throw Object.assign(new Error('x'), { code: 500, body: '{"message":"etcd down"}' });
    this.applied.push(o);
  }
  async applyStatus(_c: KvsCluster, s: KvsClusterStatus) {
    this.statuses.push(s);
  }
  async event(_c: KvsCluster, e: PlannedEvent) {
    this.events.push(e);
  }
  deleted: string[] = [];
  async deletePod(ns: string, name: string) {
    this.deleted.push(`${ns}/${name}`);
  }
  async deletePvc(ns: string, name: string) {
    this.deleted.push(`pvc ${ns}/${name}`);
  }
}

describe('operator reconcile', () => {
  const deps = (cache: ClusterCache, writer: Writer) => ({ cache, writer, logger: silentLogger(), now: () => new Date('2026-11-21T10:00:00Z') });

  it('applies all children, writes status once, emits events; a second pass with that status writes nothing', async () => {
    const c = cluster();
    const cache = new StaticCache(c);
    const w = new FakeWriter();
    const r = await reconcile('db/demo', deps(cache, w));
    assert.deepEqual(w.applied.map((o) => o.kind), ['ConfigMap', 'ConfigMap', 'Service', 'Service', 'StatefulSet', 'PodDisruptionBudget']);
    assert.equal(w.statuses.length, 1);
    assert.equal(w.statuses[0]!.observedGeneration, 1);
    assert.equal(r.statusWritten, true);
    cache.c = { ...c, status: w.statuses[0]! };
    const w2 = new FakeWriter();
    const r2 = await reconcile('db/demo', deps(cache, w2));
    assert.equal(r2.statusWritten, false);
    assert.deepEqual(w2.events, []);
  });

  it('a missing cluster is a no-op', async () => {
    const w = new FakeWriter();
    await reconcile('db/gone', deps(new StaticCache(undefined), w));
    assert.equal(w.applied.length + w.statuses.length, 0);
  });

  it('paused: no apply, status still written', async () => {
    const w = new FakeWriter();
    await reconcile('db/demo', deps(new StaticCache(cluster({ paused: true })), w));
    assert.equal(w.applied.length, 0);
    assert.equal(w.statuses[0]!.phase, 'Paused');
  });

  it('an apply failure still writes status, emits ApplyFailed and throws a typed (transient) error', async () => {
    const w = new FakeWriter();
    w.failKind = 'StatefulSet';
    await assert.rejects(reconcile('db/demo', deps(new StaticCache(cluster()), w)), (e: Error & { code?: string }) => e.code === 'Transient');
    assert.equal(w.statuses.length, 1);
    assert.equal(w.statuses[0]!.conditions?.find((c) => c.type === 'ApplyFailed')?.status, 'True');
    assert.equal(w.events.at(-1)?.reason, 'ApplyFailed');
    assert.equal(w.applied.at(-1)?.kind, 'PodDisruptionBudget', 'the children after the failed one are applied too');
  });

  it('ReplacePod deletes the PVC first, then the pod (the claim must not outlive into the recreated pod); NotFound-tolerant writer calls', async () => {
    const w = new FakeWriter();
    const ev = await executeStep({ type: 'ReplacePod', pod: 'demo-1', oldRaftId: 2, newRaftId: 4, reason: 'VolumeLost', why: 'x' }, undefined, 'db', { writer: w });
    assert.deepEqual(w.deleted, ['pvc db/data-demo-1', 'db/demo-1']);
    assert.equal(ev.reason, 'MemberReplacing');
    assert.match(ev.note, /restarts empty as raft id 4 \(VolumeLost/);
  });

  it('scale-in 5→3 through reconcile: StoreDraining + StoreDrained events, the drain reaches every answering store, then RemoveMember; a cut-short drain is a MembershipStepFailed', async () => {
    const ps = pods(5).map((p, i) => ({ ...p, status: { ...p.status!, podIP: `10.0.0.${i + 1}` } }));
    const cache = new StaticCache(cluster({ replicas: 3 }, healthyStatus(5), 3), sts(5), ps);
    const admin = new FakeNodeAdmin();
    for (let i = 1; i <= 5; i++) admin.addNode(`10.0.0.${i}:7379`, i, 'voter');
    admin.leaderId = 1;
    admin.ranges = 6;
    admin.rangesLed.set(5, 2);
    admin.rangesLed.set(4, 1);
    const seen: string[][] = [];
    const real = admin.drainStore.bind(admin);
    admin.drainStore = (addresses, storeId, opts) => {
      seen.push(addresses);
      return real(addresses, storeId, opts);
    };
    const d = { cache, logger: silentLogger(), now: () => new Date('2026-11-21T10:00:00Z'), admin, reader: { getConfigMapData: async () => membersCm(5) } };

    // A drain cut short (one leadership per call): the step fails with the mapped code, and is re-planned.
    admin.drainBudget = 1;
    const w0 = new FakeWriter();
    const r0 = await reconcile('db/demo', { ...d, writer: w0 });
    assert.ok(r0.stepError instanceof MembershipStepError);
    assert.match(r0.stepError.message, /^DrainStore: DrainStore 5: drain of store 5 incomplete/);
    assert.deepEqual(w0.events.filter((e) => /Drain|MembershipStep/.test(e.reason)).map((e) => e.reason), ['StoreDraining', 'MembershipStepFailed']);
    assert.equal(admin.led(5), 1, 'one leadership moved before the drain stopped');

    admin.drainBudget = undefined;
    const w = new FakeWriter();
    const r = await reconcile('db/demo', { ...d, writer: w });
    assert.equal(r.stepError, undefined);
    const drain = w.events.filter((e) => /^Store/.test(e.reason));
    assert.deepEqual(drain.map((e) => e.reason), ['StoreDraining', 'StoreDrained']);
    assert.match(drain[0]!.note, /^draining demo-4 \(store 5\): .* leads 1 range\(s\)$/);
    assert.match(drain[1]!.note, /store 5: moved 1 leadership\(s\)/);
    assert.deepEqual(seen[1], ps.map((p) => `${p.status.podIP}:7379`), 'every answering store is given to the drain');
    assert.equal(admin.led(5), 0);
    assert.equal(w.statuses.at(-1)?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'Scaling');

    const w2 = new FakeWriter();
    await reconcile('db/demo', { ...d, writer: w2 });
    const removed = w2.events.find((e) => e.reason === 'MemberRemoved');
    assert.match(removed?.note ?? '', /removing demo-4 \(raft id 5\) from the group; its node reports leading 0 range\(s\)/);
    assert.equal(admin.ledAtRemoval.get(5), 0);
  });

  it('maps children to their owner key', () => {
    assert.equal(ownerKey({ metadata: { namespace: 'db', name: 'demo', ownerReferences: [{ apiVersion: 'kvs.dev/v1alpha1', kind: 'KvsCluster', name: 'demo', uid: 'u', controller: true }] } }), 'db/demo');
    assert.equal(ownerKey({ metadata: { namespace: 'db', name: 'demo-0', labels: { 'app.kubernetes.io/instance': 'demo' } } }), 'db/demo');
    assert.equal(ownerKey({ metadata: { namespace: 'db', name: 'x' } }), undefined);
  });
});
