// Informers (list + watch + cache) for KvsClusters and the children the planner observes:
// StatefulSets, Pods and PVCs, restricted to objects labelled managed-by=kvs-operator. Each event is
// mapped to the key (namespace/name) of the owning KvsCluster and handed to `enqueue`; status-only
// updates of a KvsCluster are dropped and spec changes are urgent (event-filter.ts).
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { Logger } from '../../../node/src/common/logger.js';
import { GROUP, KIND, PLURAL, VERSION, type KvsCluster } from '../api/types.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, MANAGED_BY } from '../controller/names.js';
import { classifyClusterEvent, clusterFingerprint } from './event-filter.js';

export const CHILD_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_NAME}=kvs`;

type Inf<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The owning KvsCluster's key of a child object: controller owner reference, else the instance label. */
export function ownerKey(o: KubernetesObject): string | undefined {
  const ns = o.metadata?.namespace ?? '';
  const ref = o.metadata?.ownerReferences?.find((r) => r.controller && r.kind === KIND && r.apiVersion.startsWith(`${GROUP}/`));
  if (ref) return `${ns}/${ref.name}`;
  const inst = o.metadata?.labels?.[LABEL_INSTANCE];
  return inst ? `${ns}/${inst}` : undefined;
}

export interface ClusterCache {
  getCluster(namespace: string, name: string): KvsCluster | undefined;
  listClusters(): KvsCluster[];
  getStatefulSet(namespace: string, name: string): V1StatefulSet | undefined;
  listPods(namespace: string, instance: string): V1Pod[];
  listPvcs(namespace: string, instance: string): V1PersistentVolumeClaim[];
}

export class Informers implements ClusterCache {
  private readonly clusters: Inf<KvsCluster & KubernetesObject>;
  private readonly sets: Inf<V1StatefulSet>;
  private readonly pods: Inf<V1Pod>;
  private readonly pvcs: Inf<V1PersistentVolumeClaim>;
  private stopped = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** KvsCluster key → what the last enqueue-worthy version looked like (status-only updates are dropped). */
  private readonly seen = new Map<string, { fingerprint: string; generation: number | undefined }>();
  /** Informer → errors without a quiet gap: start of the streak and last error (for /healthz). */
  private readonly errorStreaks = new Map<string, { since: number; last: number }>();
  private readonly now: () => number;

  constructor(
    kc: KubeConfig,
    /** urgent: skip a failure backoff (the spec changed). */
    private readonly enqueue: (key: string, urgent?: boolean) => void,
    private readonly logger: Logger,
    /** Watch one namespace only (Role instead of ClusterRole), or all when undefined. */
    private readonly namespace?: string,
    now: () => number = Date.now,
  ) {
    this.now = now;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = namespace;
    const sel = CHILD_SELECTOR;
    const p = (group: string, plural: string) => (ns ? `${group}/namespaces/${ns}/${plural}` : `${group}/${plural}`);

    this.clusters = makeInformer<KvsCluster & KubernetesObject>(kc, p(`/apis/${GROUP}/${VERSION}`, PLURAL), () =>
      (ns
        ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })
        : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as never,
    );
    this.sets = makeInformer<V1StatefulSet>(
      kc,
      p('/apis/apps/v1', 'statefulsets'),
      () => (ns ? apps.listNamespacedStatefulSet({ namespace: ns, labelSelector: sel }) : apps.listStatefulSetForAllNamespaces({ labelSelector: sel })),
      sel,
    );
    this.pods = makeInformer<V1Pod>(
      kc,
      p('/api/v1', 'pods'),
      () => (ns ? core.listNamespacedPod({ namespace: ns, labelSelector: sel }) : core.listPodForAllNamespaces({ labelSelector: sel })),
      sel,
    );
    this.pvcs = makeInformer<V1PersistentVolumeClaim>(
      kc,
      p('/api/v1', 'persistentvolumeclaims'),
      () =>
        ns
          ? core.listNamespacedPersistentVolumeClaim({ namespace: ns, labelSelector: sel })
          : core.listPersistentVolumeClaimForAllNamespaces({ labelSelector: sel }),
      sel,
    );

    const onCluster = (o: KubernetesObject) => {
      const key = keyOf(o);
      const kind = classifyClusterEvent(this.seen.get(key), o);
      this.seen.set(key, { fingerprint: clusterFingerprint(o), generation: o.metadata?.generation });
      if (kind !== 'ignore') this.enqueue(key, kind === 'urgent');
    };
    const onClusterDeleted = (o: KubernetesObject) => {
      this.seen.delete(keyOf(o));
      this.enqueue(keyOf(o));
    };
    const onChild = (o: KubernetesObject) => {
      const k = ownerKey(o);
      if (k) this.enqueue(k);
    };
    this.wire('kvsclusters', this.clusters, onCluster, onClusterDeleted);
    this.wire('statefulsets', this.sets, onChild);
    this.wire('pods', this.pods, onChild);
    this.wire('pvcs', this.pvcs, onChild);
  }

  /**
   * Why the informers are not healthy: one that keeps failing (errors with gaps under 30 s) for more
   * than a minute — its cache is stale and the operator acts on old state.
   */
  healthProblems(now = this.now()): string[] {
    const out: string[] = [];
    for (const [what, s] of this.errorStreaks) {
      if (now - s.last < 30_000 && now - s.since > 60_000) out.push(`informer ${what} failing for ${Math.round((now - s.since) / 1000)}s`);
    }
    return out;
  }

  /** Records an informer error (exposed for the health logic's tests). */
  noteError(what: string, now = this.now()): void {
    const s = this.errorStreaks.get(what);
    if (!s || now - s.last >= 30_000) this.errorStreaks.set(what, { since: now, last: now });
    else s.last = now;
  }

  private wire<T extends KubernetesObject>(what: string, inf: Inf<T>, handler: (o: T) => void, onDelete: (o: T) => void = handler): void {
    inf.on('add', handler);
    inf.on('update', handler);
    inf.on('delete', onDelete);
    // client-node informers stop on errors (e.g. a broken watch): restart after a pause.
    inf.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.noteError(what);
      this.logger.warn('informer error; restarting in 3s', { informer: what, err: String((err as Error)?.message ?? err) });
      const t = setTimeout(() => {
        this.retryTimers.delete(t);
        if (!this.stopped) inf.start().catch((e: unknown) => this.logger.warn('informer restart failed', { informer: what, err: String(e) }));
      }, 3000);
      this.retryTimers.add(t);
    });
  }

  /** Lists and starts watching; resolves once every cache holds its initial list. */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([this.clusters.start(), this.sets.start(), this.pods.start(), this.pvcs.start()]);
    this.logger.info('informers synced', { namespace: this.namespace ?? '(all)' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    await Promise.all([this.clusters.stop(), this.sets.stop(), this.pods.stop(), this.pvcs.stop()]);
  }

  getCluster(namespace: string, name: string): KvsCluster | undefined {
    return this.clusters.get(name, namespace);
  }
  listClusters(): KvsCluster[] {
    return [...this.clusters.list()];
  }
  getStatefulSet(namespace: string, name: string): V1StatefulSet | undefined {
    return this.sets.get(name, namespace);
  }
  listPods(namespace: string, instance: string): V1Pod[] {
    return this.pods.list(namespace).filter((p) => p.metadata?.labels?.[LABEL_INSTANCE] === instance);
  }
  listPvcs(namespace: string, instance: string): V1PersistentVolumeClaim[] {
    return this.pvcs.list(namespace).filter((p) => p.metadata?.labels?.[LABEL_INSTANCE] === instance);
  }
}
