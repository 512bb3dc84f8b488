// Operator metrics (prom-client, own registry) and the HTTP endpoint serving /metrics, /healthz, /readyz.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KvsCluster } from '../api/types.js';
import type { PassOutcome, PreparedPass } from './placement-driver.js';

type ClusterLabels = 'kvs_namespace' | 'kvs_cluster';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'kvs_operator_reconcile_total',
    help: 'Reconcile passes by result (success, error, requeue).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'kvs_operator_reconcile_errors_total',
    help: 'Failed reconcile passes by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'kvs_operator_reconcile_duration_seconds',
    help: 'Duration of reconcile passes.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'kvs_operator_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly queueRetries = new Counter({ name: 'kvs_operator_workqueue_retries_total', help: 'Keys requeued with backoff.', registers: [this.registry] });
  readonly applyTotal = new Counter({
    name: 'kvs_operator_apply_total',
    help: 'Server-side applies by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly membershipSteps = new Counter({
    name: 'kvs_operator_membership_steps_total',
    help: 'Raft membership steps executed through the node admin API, by type and result.',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });
  readonly placementUnderReplicated = new Gauge<ClusterLabels>({
    name: 'kvs_operator_placement_under_replicated_ranges',
    help: 'Ranges with fewer healthy voters than the replication factor (last placement pass).',
    labelNames: ['kvs_namespace', 'kvs_cluster'] as const,
    registers: [this.registry],
  });
  readonly placementUnavailable = new Gauge<ClusterLabels>({
    name: 'kvs_operator_placement_unavailable_ranges',
    help: 'Ranges whose healthy voters are no majority (last placement pass).',
    labelNames: ['kvs_namespace', 'kvs_cluster'] as const,
    registers: [this.registry],
  });
  readonly placementMovesInFlight = new Gauge<ClusterLabels>({
    name: 'kvs_operator_placement_moves_in_flight',
    help: 'Replica moves in flight (a learner added, or more voters than the replication factor).',
    labelNames: ['kvs_namespace', 'kvs_cluster'] as const,
    registers: [this.registry],
  });
  readonly placementImbalance = new Gauge<ClusterLabels | 'kind'>({
    name: 'kvs_operator_placement_imbalance_ratio',
    help: 'Largest relative deviation of a usable store from the mean (0.2 = ±20 %), by kind (replicas, leaders, bytes, qps: the load of the ranges a store leads; 0 when not measured).',
    labelNames: ['kvs_namespace', 'kvs_cluster', 'kind'] as const,
    registers: [this.registry],
  });
  readonly placementSteps = new Counter({
    name: 'kvs_operator_placement_steps_total',
    help: 'Placement steps executed through the node admin API, by type and result (ok, waiting, stale: planned against an older range epoch and re-planned, error).',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({ name: 'kvs_operator_leader', help: '1 when this instance holds the leader lease.', registers: [this.registry] });
  readonly clusters = new Gauge({ name: 'kvs_operator_clusters', help: 'KvsClusters in the cache.', registers: [this.registry] });

  /**
   * 1 while a KvsCluster's Degraded condition is True, read from the cache at scrape time (the alert
   * "KvsCluster degraded for too long" needs the state, not the transitions). `kvs_` prefixed labels: a
   * plain `namespace` would clash with the operator pod's own target label.
   */
  readonly clusterDegraded: Gauge<'kvs_namespace' | 'kvs_cluster'>;
  private clusterSource: () => readonly KvsCluster[] = () => [];

  constructor(defaults = true) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.clusterDegraded = new Gauge({
      name: 'kvs_operator_cluster_degraded',
      help: "1 while a KvsCluster's Degraded condition is True, 0 otherwise (clusters this instance reconciles).",
      labelNames: ['kvs_namespace', 'kvs_cluster'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of self.clusterSource()) {
          const degraded = (c.status?.conditions ?? []).some((x) => x.type === 'Degraded' && x.status === 'True');
          this.set({ kvs_namespace: c.metadata.namespace ?? '', kvs_cluster: c.metadata.name }, degraded ? 1 : 0);
        }
      },
    });
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'kvs_operator_' });
  }

  /** The gauges of one placement pass of cluster `key` (namespace/name). */
  recordPlacement(key: string, pass: PreparedPass & PassOutcome): void {
    const [ns, name] = key.split('/') as [string, string];
    const l = { kvs_namespace: ns, kvs_cluster: name };
    const s = pass.plan.summary;
    this.placementUnderReplicated.set(l, s.underReplicated);
    this.placementUnavailable.set(l, s.unavailable);
    this.placementMovesInFlight.set(l, s.movesInFlight);
    for (const kind of ['replicas', 'leaders', 'bytes', 'qps'] as const) this.placementImbalance.set({ ...l, kind }, s.imbalance[kind]);
    for (const o of pass.outcomes) this.placementSteps.inc({ type: o.step.type, result: o.ok ? 'ok' : o.stale ? 'stale' : o.event.type === 'Normal' ? 'waiting' : 'error' });
  }

  /** Where kvs_operator_cluster_degraded reads the clusters from (the informer cache while leading). */
  setClusterSource(list: () => readonly KvsCluster[]): void {
    this.clusterSource = list;
  }
}

export interface HealthSource {
  /** Why the process is not healthy (empty = healthy): a dead or stuck loop the kubelet should restart. */
  problems(): string[];
  ready(): boolean;
}

/** Serves /metrics, /healthz (loops alive; 503 lists what is not) and /readyz (caches synced or passive). */
export function startHttp(metrics: OperatorMetrics, health: HealthSource, bind: string): Promise<Server> {
  const i = bind.lastIndexOf(':');
  const host = bind.slice(0, i) || '127.0.0.1';
  const port = Number(bind.slice(i + 1));
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        });
      return;
    }
    if (url === '/healthz') {
      const problems = health.problems();
      res.writeHead(problems.length === 0 ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(problems.length === 0 ? 'ok\n' : problems.map((p) => `${p}\n`).join(''));
      return;
    }
    if (url === '/readyz') {
      const ok = health.ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'not ok\n');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
