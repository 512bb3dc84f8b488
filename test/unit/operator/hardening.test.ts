// Issue 11 items 5, 7, 8, 10: backoff that events cannot shorten, apply failures in status, status-only
// updates ignored, admin channels closed, lease calls with a deadline, /healthz that means something,
// user affinity merged with the default anti-affinity.
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger } from '../../../node/src/common/logger.js';
import { WorkQueue, type Clock } from '../../../operator/src/runtime/workqueue.js';
import { Manager } from '../../../operator/src/runtime/manager.js';
import { OperatorMetrics, startHttp } from '../../../operator/src/runtime/metrics.js';
import { ConflictError, ForbiddenError, InvalidObjectError, MembershipStepError, NotFoundError, TransientError, requeueDecision, SLOW_RETRY_MS, MEMBERSHIP_RETRY_MIN_MS } from '../../../operator/src/errors.js';
import { classifyClusterEvent, clusterFingerprint } from '../../../operator/src/runtime/event-filter.js';
import { LeaderElector, type LeaseApi, type LeaseRecord } from '../../../operator/src/runtime/leader.js';
import { GrpcNodeAdmin, reportOf, toNodeAdminError } from '../../../operator/src/runtime/admin.js';
import { DrainIncompleteError, DrainUnknownStoreError } from '../../../node/src/client/errors.js';
import type { AdminStatus } from '../../../node/src/client/admin-client.js';
import { Informers, type ClusterCache } from '../../../operator/src/runtime/informers.js';
import { reconcile, type ReconcileResult } from '../../../operator/src/controller/reconcile.js';
import { podAffinity } from '../../../operator/src/controller/children.js';
import { withApplyFailures } from '../../../operator/src/controller/status.js';
import type { Writer } from '../../../operator/src/runtime/kube.js';
import type { KvsCluster, KvsClusterStatus } from '../../../operator/src/api/types.js';
import type { PlannedEvent } from '../../../operator/src/controller/plan.js';
import { KubeConfig } from '@kubernetes/client-node';
import { cluster, NOW, StaticCache } from './fixtures.js';

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

const tick = () => new Promise((r) => setImmediate(r));

describe('operator hardening: backoff holds a failing key (issue 11.5)', () => {
  it('events during a backoff do not bring the key back before it ends', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('k');
    assert.equal(await q.get(), 'k');
    q.add('k'); // an event while the pass runs (e.g. its own status write)
    q.backOff('k', 60_000); // the pass failed
    q.done('k');
    assert.equal(q.depth, 0, 'the event during the failing pass is folded into the backoff');
    for (let i = 0; i < 100; i++) {
      q.add('k'); // child/status events
      clock.advance(500);
    }
    assert.equal(q.depth, 0, 'still held after 50 s of events');
    clock.advance(10_000);
    assert.equal(q.depth, 1, 'processed once when the backoff ends');
  });

  it('an urgent add (spec change) skips the backoff, also when it comes during the failing pass', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('k');
    await q.get();
    q.backOff('k', 60_000);
    q.done('k');
    q.addUrgent('k');
    assert.equal(q.depth, 1);
    assert.equal(await q.get(), 'k');
    q.addUrgent('k');
    q.backOff('k', 60_000);
    q.done('k');
    assert.equal(q.depth, 1, 'the spec changed during the pass: run again now');
  });

  it('addAfter never lands before a running backoff; forget lifts the hold', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.backOff('k', 10_000);
    q.addAfter('k', 500);
    clock.advance(9_000);
    assert.equal(q.depth, 0);
    clock.advance(1_000);
    assert.equal(q.depth, 1);
    const q2 = new WorkQueue({ clock });
    q2.backOff('j', 10_000);
    q2.forget('j');
    q2.add('j');
    assert.equal(q2.depth, 1);
  });

  /** Passes of a reconcile that always throws `err`, under events every 50 ms for 10 simulated minutes. */
  async function passesUnderStorm(err: () => Error): Promise<number> {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, baseDelayMs: 200, maxDelayMs: 60_000 });
    let passes = 0;
    const m = new Manager(
      {
        logger: silentLogger(),
        metrics: new OperatorMetrics(false),
        workers: 2,
        resyncMs: 3_600_000,
        reconcile: async () => {
          passes++;
          throw err();
        },
      },
      queue,
    );
    await m.start({ start: async () => undefined, stop: async () => undefined }, new StaticCache(cluster()));
    for (let t = 0; t < 600_000; t += 50) {
      queue.add('db/demo'); // status writes, pod updates, resyncs, ...
      clock.advance(50);
      if (t % 1000 === 0) await tick();
    }
    await tick();
    await m.stop();
    return passes;
  }

  it('a permanently failing pass under an event storm runs at most once per backoff period', async () => {
    const passes = await passesUnderStorm(() => new InvalidObjectError('apply Service db/demo-peers: metadata.name: must be no more than 63 characters'));
    // One first pass, then one per SLOW_RETRY_MS (60 s): 11 in 10 minutes.
    assert.ok(passes <= 1 + 600_000 / SLOW_RETRY_MS, `${passes} passes in 10 simulated minutes`);
    assert.ok(passes >= 5, `${passes} passes: still retried`);
  });

  it('no error of any kind is retried faster than its backoff under events', async () => {
    // Exponential 200 ms → 60 s: 9 doublings (~102 s), then one per minute: under 20 in 10 minutes.
    for (const [what, err] of [
      ['transient', () => new TransientError('apply StatefulSet db/demo: etcdserver: request timed out', 504)],
      ['conflict', () => new ConflictError('status of db/demo: the object has been modified')],
      ['internal', () => new Error('TypeError: x is undefined')],
      ['not found', () => new NotFoundError('apply ConfigMap db/demo-config: namespaces "db" not found')],
      ['forbidden', () => new ForbiddenError('apply PodDisruptionBudget db/demo: forbidden')],
    ] as const) {
      const passes = await passesUnderStorm(err);
      assert.ok(passes <= 20, `${what}: ${passes} passes in 10 simulated minutes`);
    }
  });

  it('a server-side apply refused for an unknown field (500 "failed to create typed patch object") is Invalid, not transient', () => {
    const e = Object.assign(new Error('HTTP-Code: 500'), { code: 500, body: JSON.stringify({ message: 'failed to create typed patch object (db/demo; apps/v1, Kind=StatefulSet): .spec.template.spec.affinity.nodeAfinity: field not declared in schema' }) });
    assert.deepEqual(requeueDecision(e), { requeue: 'after', afterMs: SLOW_RETRY_MS, reason: 'Invalid' });
    assert.deepEqual(requeueDecision(Object.assign(new Error('x'), { code: 500, body: '{"message":"etcdserver: leader changed"}' })), { requeue: 'backoff', reason: 'Transient' });
  });

  it('a failed membership step backs off exponentially from MEMBERSHIP_RETRY_MIN_MS', () => {
    assert.deepEqual(requeueDecision(new MembershipStepError('Promote 4: refused')), { requeue: 'backoff', reason: 'MembershipStep', minMs: MEMBERSHIP_RETRY_MIN_MS });
  });
});

class RecordingWriter implements Writer {
  applied: KubernetesObject[] = [];
  statuses: KvsClusterStatus[] = [];
  events: PlannedEvent[] = [];
  constructor(private readonly fail: Record<string, { code: number; message: string }>) {}
  async apply(o: KubernetesObject) {
    const f = this.fail[`${o.kind}/${o.metadata?.name}`];
    if (f) throw Object.assign(new Error(`HTTP ${f.code}`), { code: f.code, body: JSON.stringify({ message: f.message }) });
    this.applied.push(o);
  }
  async applyStatus(_c: KvsCluster, s: KvsClusterStatus) {
    this.statuses.push(s);
  }
  async event(_c: KvsCluster, e: PlannedEvent) {
    this.events.push(e);
  }
  async deletePod() {}
  async deletePvc() {}
}

describe('operator hardening: apply failures in status (issue 11.7)', () => {
  const deps = (cache: ClusterCache, writer: Writer) => ({ cache, writer, logger: silentLogger(), now: () => new Date(NOW) });

  it('a rejected StatefulSet: the other children are applied and ApplyFailed says why', async () => {
    const w = new RecordingWriter({ 'StatefulSet/demo': { code: 422, message: 'StatefulSet.apps "demo" is invalid: spec.template.spec.affinity.nodeAffinity: Required value' } });
    await assert.rejects(reconcile('db/demo', deps(new StaticCache(cluster()), w)), (e: Error & { code?: string }) => e.code === 'Invalid');
    assert.deepEqual(w.applied.map((o) => `${o.kind}/${o.metadata?.name}`), ['ConfigMap/demo-config', 'ConfigMap/demo-members', 'Service/demo-peers', 'Service/demo', 'PodDisruptionBudget/demo']);
    const cond = w.statuses.at(-1)!.conditions!.find((c) => c.type === 'ApplyFailed')!;
    assert.equal(cond.status, 'True');
    assert.equal(cond.reason, 'Invalid');
    assert.match(cond.message, /^StatefulSet demo: apply StatefulSet|StatefulSet demo: .*affinity\.nodeAffinity: Required value/);
    assert.ok(w.events.some((e) => e.reason === 'ApplyFailed' && /affinity/.test(e.note)));
  });

  it('a failed members ConfigMap keeps the StatefulSet back (raft ids first), the rest is applied', async () => {
    const w = new RecordingWriter({ 'ConfigMap/demo-members': { code: 403, message: 'exceeded quota: q, requested: count/configmaps=1' } });
    await assert.rejects(reconcile('db/demo', deps(new StaticCache(cluster()), w)), (e: Error & { code?: string }) => e.code === 'Forbidden');
    assert.deepEqual(w.applied.map((o) => o.kind), ['ConfigMap', 'Service', 'Service', 'PodDisruptionBudget']);
    const cond = w.statuses.at(-1)!.conditions!.find((c) => c.type === 'ApplyFailed')!;
    assert.equal(cond.reason, 'Forbidden');
    assert.match(cond.message, /ConfigMap demo-members: .*exceeded quota.*; StatefulSet demo: not applied because ConfigMap demo-members/);
  });

  it('ApplyFailed is False once everything applies, with a stable lastTransitionTime', () => {
    const base: KvsClusterStatus = { phase: 'Running', conditions: [] };
    const failed = withApplyFailures(base, undefined, [{ kind: 'Service', name: 'demo', reason: 'Forbidden', message: 'no' }], 3, '2026-11-21T10:00:00Z');
    const ok = withApplyFailures(base, failed.conditions, [], 3, '2026-11-21T10:05:00Z');
    const again = withApplyFailures(base, ok.conditions, [], 3, '2026-11-21T10:09:00Z');
    assert.deepEqual(ok.conditions, [{ type: 'ApplyFailed', status: 'False', reason: 'AsExpected', message: 'every child object is applied', lastTransitionTime: '2026-11-21T10:05:00Z', observedGeneration: 3 }]);
    assert.deepEqual(again.conditions, ok.conditions);
  });
});

describe('operator hardening: status-only updates do not enqueue (issue 11.8)', () => {
  const c = (over: Partial<KvsCluster['metadata']> = {}, status?: KvsClusterStatus, spec: Partial<KvsCluster['spec']> = {}) =>
    ({ ...cluster(spec), metadata: { ...cluster().metadata, resourceVersion: '1', ...over }, ...(status ? { status } : {}) }) as unknown as KubernetesObject;
  const seen = (o: KubernetesObject) => ({ fingerprint: clusterFingerprint(o), generation: o.metadata?.generation });

  it('classifies: new = urgent, status-only = ignore, spec = urgent, labels/annotations = normal', () => {
    const a = c();
    assert.equal(classifyClusterEvent(undefined, a), 'urgent');
    const statusOnly = c({ resourceVersion: '2', managedFields: [{ manager: 'kvs-operator' }] } as never, { phase: 'Running', members: [{ pod: 'demo-0', role: 'Leader', healthy: true, appliedIndex: 12345 }] });
    assert.equal(classifyClusterEvent(seen(a), statusOnly), 'ignore');
    assert.equal(classifyClusterEvent(seen(a), c({ resourceVersion: '3', generation: 2 }, undefined, { replicas: 5 })), 'urgent');
    assert.equal(classifyClusterEvent(seen(a), c({ resourceVersion: '4', annotations: { poke: '1' } })), 'normal');
  });

  it('the informer handler drops status-only updates of a KvsCluster (no API server needed)', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const keys: string[] = [];
    const inf = new Informers(kc, (k, urgent) => keys.push(`${k}${urgent ? '!' : ''}`), silentLogger(), 'db');
    // The KvsCluster informer's handlers, as client-node calls them.
    const clusters = (inf as unknown as { clusters: { callbackCache: Record<string, ((o: unknown) => void)[]> } }).clusters;
    const fire = (verb: string, o: KubernetesObject) => clusters.callbackCache[verb]!.forEach((cb) => cb(o));
    fire('add', c());
    for (let i = 0; i < 50; i++) fire('update', c({ resourceVersion: String(10 + i) }, { phase: 'Running', members: [{ pod: 'demo-0', role: 'Leader', healthy: true, appliedIndex: 1000 + i }] }));
    fire('update', c({ resourceVersion: '99', generation: 2 }, undefined, { replicas: 5 }));
    assert.deepEqual(keys, ['db/demo!', 'db/demo!']);
  });
});

class HangingLeases implements LeaseApi {
  rec?: LeaseRecord;
  hang = false;
  private rv = 0;
  private wait<T>(v: () => T): Promise<T> {
    return this.hang ? new Promise<T>(() => undefined) : Promise.resolve(v());
  }
  get() {
    return this.wait(() => (this.rec ? { ...this.rec } : undefined));
  }
  create(r: LeaseRecord) {
    return this.wait(() => (this.rec = { ...r, resourceVersion: String(++this.rv) }));
  }
  replace(r: LeaseRecord) {
    return this.wait(() => (this.rec = { ...r, resourceVersion: String(++this.rv) }));
  }
}

describe('operator hardening: lease deadline, /healthz, admin channels, affinity (issue 11.10)', () => {
  it('a leader whose lease calls hang steps down after the renew deadline', async () => {
    const api = new HangingLeases();
    const log: string[] = [];
    const e = new LeaderElector(api, {
      identity: 'a',
      logger: silentLogger(),
      leaseDurationMs: 300,
      renewDeadlineMs: 200,
      retryPeriodMs: 20,
      onStartedLeading: () => log.push('start'),
      onStoppedLeading: () => log.push('stop'),
    });
    e.start();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(log, ['start']);
    api.hang = true;
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(log, ['start', 'stop'], 'stopped leading although no call ever returned');
    assert.equal(e.isLeader, false);
    await e.stop();
  });

  it('/healthz: 503 with the reasons when the leader-election loop stalls or a pass hangs', async () => {
    let t = 1_000_000;
    const now = () => t;
    const api = new HangingLeases();
    const e = new LeaderElector(api, { identity: 'a', logger: silentLogger(), retryPeriodMs: 10, renewDeadlineMs: 100, attemptTimeoutMs: 50, now, onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    e.start();
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(e.healthProblems(), []);
    // A loop that stopped turning (simulated by time passing with no attempt completing).
    t += 60_000;
    assert.match(e.healthProblems().join(), /leader election loop has not run for 60s/);
    await e.stop();

    const q = new WorkQueue();
    const hung = new Promise<ReconcileResult>(() => undefined);
    const m = new Manager({ logger: silentLogger(), metrics: new OperatorMetrics(false), workers: 1, resyncMs: 3_600_000, stuckAfterMs: 1_000, now, reconcile: () => hung }, q);
    await m.start({ start: async () => undefined, stop: async () => undefined }, new StaticCache(cluster()));
    await tick();
    assert.deepEqual(m.healthProblems(), []);
    t += 5_000;
    const problems = m.healthProblems();
    assert.match(problems.join(), /reconcile of db\/demo running for 5s/);
    const server = await startHttp(new OperatorMetrics(false), { problems: () => problems, ready: () => true }, '127.0.0.1:0');
    try {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
      assert.equal(r.status, 503);
      assert.match(await r.text(), /reconcile of db\/demo running for 5s/);
    } finally {
      server.close();
    }
    q.shutDown();
  });

  it('/healthz: an informer that keeps failing for over a minute is reported, one that recovered is not', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const inf = new Informers(kc, () => undefined, silentLogger(), 'db');
    for (let t = 0; t <= 90_000; t += 3_000) inf.noteError('pods', t);
    inf.noteError('pvcs', 0);
    assert.deepEqual(inf.healthProblems(91_000), ['informer pods failing for 91s']);
    assert.deepEqual(inf.healthProblems(200_000), [], 'quiet for 30 s: recovered');
  });

  it('admin channels of pod IPs no longer used are closed', async () => {
    let t = 0;
    const admin = new GrpcNodeAdmin({ statusTimeoutMs: 50, idleCloseMs: 60_000, now: () => t });
    // Nothing listens on these ports: the calls fail, but each opens (and caches) a channel.
    await admin.status('127.0.0.1:9').catch(() => undefined);
    await admin.status('127.0.0.1:10').catch(() => undefined);
    assert.deepEqual(admin.openAddresses.sort(), ['127.0.0.1:10', '127.0.0.1:9']);
    t += 30_000;
    await admin.status('127.0.0.1:10').catch(() => undefined);
    t += 40_000;
    await admin.status('127.0.0.1:10').catch(() => undefined);
    assert.deepEqual(admin.openAddresses, ['127.0.0.1:10'], 'the pod IP unused for 70 s is closed');
    admin.close();
    assert.deepEqual(admin.openAddresses, []);
  });

  it('drain: errors map to fixed codes in the one mapping point; no store answering is Unavailable; range counts only from nodes that report them', async () => {
    assert.equal(toNodeAdminError(new DrainUnknownStoreError(9, [1, 2]), 'DrainStore 9').code, 'Refused');
    assert.equal(toNodeAdminError(new DrainIncompleteError(5, ['range 7: x']), 'DrainStore 5').code, 'Failed');
    const admin = new GrpcNodeAdmin({ changeTimeoutMs: 500 });
    // Nothing listens there: the drain cannot read any store's ranges (and changes nothing).
    await assert.rejects(admin.drainStore(['127.0.0.1:9', '127.0.0.1:10'], 5, { leadershipsOnly: false }), (e: Error & { code?: string }) => e.code === 'Unavailable' && /^DrainStore 5: /.test(e.message));
    admin.close();
    const base = { raftId: 5, role: 'Follower', term: 2, commit: 9, applied: 9, leaderId: 1, members: [] } as unknown as AdminStatus;
    assert.equal(reportOf({ ...base, rangesHeld: 0, rangesLed: 0, rangesMovable: 0 }).ranges, undefined, 'an older node (no counts) reports no ranges');
    assert.deepEqual(reportOf({ ...base, rangesHeld: 4, rangesLed: 2, rangesMovable: 1 }).ranges, { held: 4, led: 2, movable: 1 });
  });

  it('a user affinity keeps the default anti-affinity unless it sets podAntiAffinity', () => {
    const node = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] } } };
    const merged = podAffinity('demo', node);
    assert.deepEqual(merged['nodeAffinity'], node.nodeAffinity);
    assert.deepEqual(merged['podAntiAffinity'], podAffinity('demo', undefined)['podAntiAffinity']);
    const own = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [] } };
    assert.deepEqual(podAffinity('demo', own), own);
  });
});
