// Prometheus metrics of a kvs node (prom-client, one Registry per node so tests can run several).
// Fed by the RequestRunner in kv-service.ts (unary calls and BatchStream sub-requests), batch-stream.ts
// and by the StoreObserver hooks of the store.
import { statfs } from 'node:fs/promises';
import type { StatsFs } from 'node:fs';
import client from 'prom-client';
import type { StoreObserver } from '../kv/api.js';
import { HotHistogram, type HotHistogramChild } from '../common/hot-histogram.js';

export interface EngineStatsSource {
  /** Approximate engine size and active transactions; called on each scrape. */
  stats(): Promise<{ approximateBytes: number; activeTxns: number; appliedTs: number; safePoint: number }>;
}

export class ServerMetrics {
  readonly registry = new client.Registry();
  readonly requests: client.Counter<'method' | 'code'>;
  readonly requestDuration: HotHistogram<'method'>;
  readonly inFlight: client.Gauge<'method'>;
  /** Kv calls running now (the sum of kvs_requests_in_flight, as a plain number: the shutdown drain polls it). */
  activeCalls = 0;
  readonly writeBatchCommands: HotHistogram;
  readonly writeBatchBytes: HotHistogram;
  readonly syncDuration: HotHistogram;
  readonly txns: client.Counter<'outcome'>;
  readonly gcRuns: client.Counter<string>;
  readonly snapshotRaises: client.Counter<string>;
  readonly tsPromises: client.Counter<string>;
  readonly lockReadThroughs: client.Counter<string>;
  readonly gcRemovedVersions: client.Counter<string>;
  readonly gcDuration: HotHistogram;
  readonly engineBytes: client.Gauge<string>;
  readonly activeTxns: client.Gauge<string>;
  readonly streamFrameRequests: HotHistogram;
  readonly streamsOpen: client.Gauge<string>;
  /** kvs_disk_free_bytes / kvs_disk_size_bytes, registered by setDataDir (an in-memory node has no disk). */
  private disk: client.Gauge<string>[] = [];
  private readonly byMethod = new Map<string, MethodMetrics>();
  private source: EngineStatsSource | undefined;

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string>; build?: { version: string; nodeId: string } } = {}) {
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    // Counted in plain numbers per method (MethodMetrics) and handed to prom-client at scrape time: a
    // prom-client child's inc() hashes its label set on every call, several times per request.
    const byMethod = this.byMethod;
    this.requests = new client.Counter({
      name: 'kvs_requests_total',
      help: 'gRPC requests handled, by method and status code name',
      labelNames: ['method', 'code'],
      registers,
      collect() {
        for (const m of byMethod.values()) {
          for (const [code, c] of m.codes) {
            if (c.n > c.reported) this.inc({ method: m.method, code }, c.n - c.reported);
            c.reported = c.n;
          }
        }
      },
    });
    this.requestDuration = new HotHistogram({
      name: 'kvs_request_duration_seconds',
      help: 'gRPC request latency by method',
      labelNames: ['method'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.inFlight = new client.Gauge({
      name: 'kvs_requests_in_flight',
      help: 'gRPC requests being handled',
      labelNames: ['method'],
      registers,
      collect() {
        for (const m of byMethod.values()) this.set({ method: m.method }, m.inFlight);
      },
    });
    this.writeBatchCommands = new HotHistogram({
      name: 'kvs_write_batch_commands',
      help: 'Client commands per synced engine write (group commit size)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers,
    });
    this.writeBatchBytes = new HotHistogram({
      name: 'kvs_write_batch_bytes',
      help: 'Bytes per synced engine write',
      buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
      registers,
    });
    this.syncDuration = new HotHistogram({
      name: 'kvs_sync_duration_seconds',
      help: 'Latency of synced engine writes',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.txns = new client.Counter({
      name: 'kvs_txn_total',
      help: 'Finished interactive transactions by outcome (committed, conflict, rolled_back, timed_out)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['committed', 'conflict', 'rolled_back', 'timed_out']) this.txns.inc({ outcome }, 0);
    this.gcRuns = new client.Counter({ name: 'kvs_gc_runs_total', help: 'MVCC garbage collection runs', registers });
    this.snapshotRaises = new client.Counter({ name: 'kvs_txn_snapshot_raises_total', help: "Noops proposed to raise a range's ts to a transaction's snapshot above it (the max-ts rule; one Raft round each)", registers });
    this.tsPromises = new client.Counter({ name: 'kvs_txn_ts_promises_total', help: "Snapshots above a range's applied ts made repeatable by its leader's timestamp promise (no Raft round)", registers });
    this.lockReadThroughs = new client.Counter({ name: 'kvs_txn_lock_read_throughs_total', help: "Gets that read through the write lock of a transaction this store knew decided (its coordinator's queued commit, or the decided record in a local replica of its primary's range) instead of settling the lock first", registers });
    this.gcRemovedVersions = new client.Counter({ name: 'kvs_gc_removed_versions_total', help: 'Old versions removed by GC', registers });
    this.gcDuration = new HotHistogram({
      name: 'kvs_gc_duration_seconds',
      help: 'Duration of GC runs',
      buckets: [0.001, 0.01, 0.1, 1, 10],
      registers,
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.engineBytes = new client.Gauge({
      name: 'kvs_engine_bytes',
      help: 'Approximate size of the storage engine in bytes',
      registers,
      async collect() {
        await self.refreshEngineStats();
      },
    });
    this.activeTxns = new client.Gauge({ name: 'kvs_active_txns', help: 'Open interactive transactions', registers });
    this.streamFrameRequests = new HotHistogram({
      name: 'kvs_stream_frame_requests',
      help: 'Sub-requests per received BatchStream frame',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers,
    });
    this.streamsOpen = new client.Gauge({ name: 'kvs_streams_open', help: 'Open BatchStream calls', registers });
    if (opts.build) {
      new client.Gauge({ name: 'kvs_build_info', help: 'Always 1; labels name the version and node id', labelNames: ['version', 'node_id'], registers }).set(
        { version: opts.build.version, node_id: opts.build.nodeId },
        1,
      );
    }
  }

  /** Where kvs_engine_bytes / kvs_active_txns come from (the store's status()). */
  setEngineStatsSource(source: EngineStatsSource | undefined): void {
    this.source = source;
  }

  /** The data directory whose filesystem kvs_disk_free_bytes / kvs_disk_size_bytes describe (none: not exported). */
  setDataDir(dir: string): void {
    if (this.disk.length > 0) return;
    // Read at scrape time from the data directory's filesystem (the "disk almost full" alert divides
    // them). The registry collects metrics concurrently, so each gauge asks statfs itself.
    const gauge = (name: string, help: string, value: (s: StatsFs) => number): client.Gauge<string> =>
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          try {
            this.set(value(await statfs(dir)));
          } catch {
            // directory gone or unreadable: keep the last value (the store's own errors say why)
          }
        },
      });
    this.disk = [
      gauge('kvs_disk_free_bytes', 'Bytes available to the node on the filesystem of its data directory', (s) => s.bavail * s.bsize),
      gauge('kvs_disk_size_bytes', 'Size in bytes of the filesystem of the data directory', (s) => s.blocks * s.bsize),
    ];
  }

  private async refreshEngineStats(): Promise<void> {
    if (!this.source) return;
    try {
      const s = await this.source.stats();
      this.engineBytes.set(s.approximateBytes);
      this.activeTxns.set(s.activeTxns);
    } catch {
      // store closed or failing: keep the last values; /readyz reports the problem
    }
  }

  /** Hooks to pass to openLocalStore({ observer }). */
  storeObserver(): StoreObserver {
    return {
      onBatchWritten: (commands, bytes, syncSeconds) => {
        this.writeBatchCommands.observe(commands);
        this.writeBatchBytes.observe(bytes);
        this.syncDuration.observe(syncSeconds);
      },
      onTxnFinished: (outcome) => {
        this.txns.inc({ outcome });
      },
      onSnapshotRaise: () => this.snapshotRaises.inc(),
      onTsPromise: () => this.tsPromises.inc(),
      onLockReadThrough: () => this.lockReadThroughs.inc(),
      onGcRun: (removed, seconds) => {
        this.gcRuns.inc();
        this.gcRemovedVersions.inc(removed);
        this.gcDuration.observe(seconds);
      },
    };
  }

  /**
   * The request metrics of one method with their label children resolved once: the hot path
   * (unary calls and every BatchStream sub-request) then costs no label hashing or closure.
   */
  method(method: string): MethodMetrics {
    let m = this.byMethod.get(method);
    if (!m) {
      m = new MethodMetrics(this, method);
      this.byMethod.set(method, m);
    }
    return m;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** TLS gauges of the certificate in force (alerting on expiry; rotations counted). */
  setTlsSource(tls: { current: { leaf?: { notAfter: string } | undefined }; onReload(cb: () => void): unknown }): void {
    new client.Gauge({
      name: 'kvs_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the TLS certificate this node serves and dials peers with (unix seconds)',
      registers: [this.registry],
      collect() {
        const na = tls.current.leaf?.notAfter;
        if (na !== undefined) this.set(Date.parse(na) / 1000);
      },
    });
    const reloads = new client.Counter({ name: 'kvs_tls_certificate_reloads_total', help: 'TLS certificate files reloaded after a change (rotation)', registers: [this.registry] });
    tls.onReload(() => reloads.inc());
  }
}

/** kvs_requests_total / kvs_request_duration_seconds / kvs_requests_in_flight of one method. */
export class MethodMetrics {
  private readonly duration: HotHistogramChild;
  /** Requests running now (read by kvs_requests_in_flight's collect). */
  inFlight = 0;
  /** Finished requests by status code name; `reported` is what kvs_requests_total has been given. */
  readonly codes = new Map<string, { n: number; reported: number }>();

  constructor(
    private readonly metrics: ServerMetrics,
    readonly method: string,
  ) {
    this.duration = metrics.requestDuration.labels({ method });
  }

  /** Returns the start time to pass to finished(). */
  started(): number {
    this.inFlight++;
    this.metrics.activeCalls++;
    return performance.now();
  }

  finished(t0: number, code: string): void {
    this.duration.observe((performance.now() - t0) / 1000);
    this.inFlight--;
    this.metrics.activeCalls--;
    let c = this.codes.get(code);
    if (c === undefined) this.codes.set(code, (c = { n: 0, reported: 0 }));
    c.n++;
  }
}
