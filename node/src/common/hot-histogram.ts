// A Prometheus histogram for hot paths, registered in a prom-client Registry like any of its metrics.
// prom-client's child `observe` validates and hashes the label set on every call (≈ 1–2 µs here, with a
// few per request and several per Raft Ready); a child here is resolved once and an observation is a
// bucket search plus three stores (≈ 20 ns). The exposition (`get`) is prom-client's: cumulative
// `_bucket{le}` lines ending with `+Inf`, then `_sum` and `_count`, per label set.
import type client from 'prom-client';

export class HotHistogramChild {
  /** Per-bucket (not cumulative) counts; the last slot is above the highest bound (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: Float64Array,
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // A NaN or infinite sample is dropped: a metric must never throw into a request or Raft path.
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export interface HotHistogramConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  buckets: readonly number[];
  /** Registries to register in (none: the caller registers it with `registry.registerMetric`). */
  registers?: client.Registry[];
}

/** One exposition line as prom-client's Registry reads it. */
interface ValueLine {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

export class HotHistogram<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly L[];
  private readonly bounds: Float64Array;
  private readonly children = new Map<string, HotHistogramChild>();
  /** An unlabelled histogram's one series, resolved once (observe() is on hot paths: every stream frame). */
  private readonly unlabelled: HotHistogramChild | undefined;

  constructor(cfg: HotHistogramConfig<L>) {
    this.name = cfg.name;
    this.help = cfg.help;
    this.labelNames = cfg.labelNames ?? [];
    for (let i = 1; i < cfg.buckets.length; i++) {
      if (!(cfg.buckets[i]! > cfg.buckets[i - 1]!)) throw new RangeError(`${cfg.name}: buckets must increase (${cfg.buckets.join(', ')})`);
    }
    this.bounds = Float64Array.from(cfg.buckets);
    // As prom-client does: an unlabelled histogram exports its zero series before any observation
    // (dashboards and alert rules must find the family on a node that never fed it).
    this.unlabelled = this.labelNames.length === 0 ? this.labels({} as Record<L, string>) : undefined;
    for (const r of cfg.registers ?? []) r.registerMetric(this.asMetric());
  }

  /** The child of one label set (every label name given, no other); callers keep it for the hot path. */
  labels(values: Readonly<Record<L, string>>): HotHistogramChild {
    const given = Object.keys(values);
    if (given.length !== this.labelNames.length || this.labelNames.some((n) => typeof values[n] !== 'string')) {
      throw new TypeError(`${this.name}: labels {${given.join(', ')}} do not match {${this.labelNames.join(', ')}}`);
    }
    const key = this.labelNames.map((n) => values[n]).join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      const labels: Record<string, string> = {};
      for (const n of this.labelNames) labels[n] = values[n];
      c = new HotHistogramChild(this.bounds, labels);
      this.children.set(key, c);
    }
    return c;
  }

  /** Observes into an unlabelled histogram's one series (a labelled one needs `labels(...)` first). */
  observe(value: number): void {
    if (this.unlabelled === undefined) throw new TypeError(`${this.name}: observe() without labels on a histogram labelled {${this.labelNames.join(', ')}}`);
    this.unlabelled.observe(value);
  }

  /**
   * What prom-client's Registry formats into the text exposition: like its Histogram, the series' own
   * labels as `sharedLabels` (printed after the registry's default labels) and `le` as the line's label.
   */
  getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: ValueLine[]; aggregator: 'sum' }> {
    const values: ValueLine[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      const shared = c.labels;
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels: shared, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: shared, value: c.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: shared, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: shared, value: c.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The same with each line's labels merged (getMetricsAsJSON, and callers reading values). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: ValueLine[]; aggregator: 'sum' }> {
    const m = await this.getForPromString();
    m.values = m.values.map(({ labels, sharedLabels, value, metricName }) => ({ labels: { ...labels, ...sharedLabels }, value, metricName }));
    return m;
  }

  reset(): void {
    for (const c of this.children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }

  /**
   * Itself, typed as the Registry's metric union: the Registry only calls name, getForPromString()/get() and reset() (read in
   * prom-client 15's lib/registry.js), which this class provides.
   */
  asMetric(): client.Metric<string> {
    return this as unknown as client.Metric<string>;
  }
}
