// Labels of the Kubernetes nodes the store pods run on (issue 13, spec.placement.topologyKey): the
// placement planner spreads a range's replicas across the values of the topology key, and zones are
// node labels (topology.kubernetes.io/zone), not pod labels. Read with GET node (RBAC: get nodes, a
// ClusterRole of its own in the chart) only for clusters that set a topology key, only for the nodes
// their pods are on, cached for a while (a node's zone does not change under a running pod). A node
// that cannot be read keeps its last known labels, or has none (the store then counts as its pod's
// labels say; the planner treats a missing value as one value of its own).
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import type { Logger } from '../../../node/src/common/logger.js';

/** Node name → its labels, for the names asked (those not known and not readable left out). */
export type NodeLabels = (nodeNames: readonly string[]) => Promise<Map<string, Record<string, string>>>;

/** How long a node's labels are reused before they are read again. */
export const NODE_LABELS_TTL_MS = 5 * 60_000;
/** After a failed read, how long before that node is tried again (the old labels stay meanwhile). */
export const NODE_LABELS_RETRY_MS = 30_000;

export class NodeLabelCache {
  private readonly cache = new Map<string, { labels?: Record<string, string>; readAtMs: number; failed: boolean; askedAtMs: number }>();

  constructor(
    private readonly read: (name: string) => Promise<V1Node>,
    private readonly opts: { logger?: Logger; now?: () => number; ttlMs?: number; retryMs?: number } = {},
  ) {}

  static forKube(kc: KubeConfig, logger?: Logger): NodeLabelCache {
    const core = kc.makeApiClient(CoreV1Api);
    return new NodeLabelCache((name) => core.readNode({ name }), logger ? { logger } : {});
  }

  /** The labels of `nodeNames` (read in parallel where not cached or expired). Never throws. */
  readonly labelsOf: NodeLabels = async (nodeNames) => {
    const now = (this.opts.now ?? Date.now)();
    const ttl = this.opts.ttlMs ?? NODE_LABELS_TTL_MS;
    const retry = this.opts.retryMs ?? NODE_LABELS_RETRY_MS;
    const names = [...new Set(nodeNames.filter((n) => n !== ''))];
    // Nodes no pod has been on for a while (removed, or the pods moved) are forgotten.
    for (const [name, c] of this.cache) if (now - c.askedAtMs > 2 * ttl) this.cache.delete(name);
    for (const name of names) {
      const c = this.cache.get(name);
      if (c) c.askedAtMs = now;
    }
    await Promise.all(
      names.map(async (name) => {
        const c = this.cache.get(name);
        if (c && now - c.readAtMs < (c.failed ? retry : ttl)) return;
        try {
          const node = await this.read(name);
          this.cache.set(name, { labels: { ...(node.metadata?.labels ?? {}) }, readAtMs: now, failed: false, askedAtMs: now });
        } catch (e) {
          this.opts.logger?.warn('cannot read the labels of a node (placement topology); keeping what is known', { node: name, err: e instanceof Error ? e.message : String(e) });
          this.cache.set(name, { ...(c?.labels ? { labels: c.labels } : {}), readAtMs: now, failed: true, askedAtMs: now });
        }
      }),
    );
    const out = new Map<string, Record<string, string>>();
    for (const name of names) {
      const labels = this.cache.get(name)?.labels;
      if (labels) out.set(name, labels);
    }
    return out;
  };

  /** Nodes cached (tests, metrics). */
  get size(): number {
    return this.cache.size;
  }
}
