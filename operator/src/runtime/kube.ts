// Adapters from @kubernetes/client-node to the small interfaces the controller uses
// (apply, status, events, leases, informers). Everything else in the operator is client-free.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  V1MicroTime,
  setHeaderOptions,
  type KubernetesObject,
  type V1Lease,
} from '@kubernetes/client-node';
import { GROUP, KIND, API_VERSION, PLURAL, VERSION, type KvsCluster, type KvsClusterStatus } from '../api/types.js';
import { FIELD_MANAGER } from '../controller/names.js';
import type { PlannedEvent } from '../controller/plan.js';
import { toOperatorError } from '../errors.js';
import type { LeaseApi, LeaseRecord } from './leader.js';

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  // KUBECONFIG (or ~/.kube/config) when set/present, else the in-cluster service account.
  if (process.env.KUBECONFIG || !process.env.KUBERNETES_SERVICE_HOST) kc.loadFromDefault();
  else kc.loadFromCluster();
  return kc;
}

export interface Writer {
  /** Server-side apply (fieldManager kvs-operator, force). */
  apply(obj: KubernetesObject): Promise<void>;
  /** Server-side apply of the status subresource. */
  applyStatus(cluster: KvsCluster, status: KvsClusterStatus): Promise<void>;
  event(cluster: KvsCluster, ev: PlannedEvent): Promise<void>;
  /** Deletes a pod (rolling restart driven by the operator); a missing pod is not an error. */
  deletePod(namespace: string, name: string): Promise<void>;
  /** Deletes a PVC (NotFound is success): a replaced member's pod must start on an empty volume. */
  deletePvc(namespace: string, name: string): Promise<void>;
}

export class KubeWriter implements Writer {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly events: EventsV1Api;
  private readonly core: CoreV1Api;
  private readonly recent = new Map<string, number>();

  constructor(
    kc: KubeConfig,
    private readonly reportingInstance: string,
    private readonly now: () => number = Date.now,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.events = kc.makeApiClient(EventsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ namespace, name });
    } catch (e) {
      const err = toOperatorError(e, `delete pod ${namespace}/${name}`);
      if (err.code !== 'NotFound') throw err;
    }
  }

  async deletePvc(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedPersistentVolumeClaim({ namespace, name });
    } catch (e) {
      const err = toOperatorError(e, `delete pvc ${namespace}/${name}`);
      if (err.code !== 'NotFound') throw err;
    }
  }

  /** Reader: data of a ConfigMap, undefined when it does not exist. */
  async getConfigMapData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.core.readNamespacedConfigMap({ namespace, name })).data ?? {};
    } catch (e) {
      const err = toOperatorError(e, `read configmap ${namespace}/${name}`);
      if (err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  async apply(obj: KubernetesObject): Promise<void> {
    try {
      await this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (e) {
      throw toOperatorError(e, `apply ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`);
    }
  }

  async applyStatus(cluster: KvsCluster, status: KvsClusterStatus): Promise<void> {
    const { name, namespace } = cluster.metadata;
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: namespace ?? 'default',
          name,
          body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, status },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    } catch (e) {
      throw toOperatorError(e, `status of ${namespace}/${name}`);
    }
  }

  /** events.k8s.io/v1 Event; identical events within 10 minutes are sent once. */
  async event(cluster: KvsCluster, ev: PlannedEvent): Promise<void> {
    const { name, namespace, uid } = cluster.metadata;
    const dedup = `${uid}/${ev.type}/${ev.reason}/${ev.note}`;
    const t = this.now();
    for (const [k, at] of this.recent) if (t - at > 600_000) this.recent.delete(k);
    if (this.recent.has(dedup)) return;
    this.recent.set(dedup, t);
    try {
      await this.events.createNamespacedEvent({
        namespace: namespace ?? 'default',
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name: `${name}.${t.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`, namespace },
          eventTime: new V1MicroTime(t),
          reportingController: 'kvs.dev/kvs-operator',
          reportingInstance: this.reportingInstance.slice(0, 128),
          action: ev.action,
          reason: ev.reason,
          note: ev.note.slice(0, 1000),
          type: ev.type,
          regarding: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid },
        },
      });
    } catch (e) {
      this.recent.delete(dedup);
      throw toOperatorError(e, `event ${ev.reason} on ${namespace}/${name}`);
    }
  }
}

/** LeaseApi over coordination.k8s.io/v1. */
export class KubeLeaseApi implements LeaseApi {
  private readonly api: CoordinationV1Api;
  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  private static toRecord(l: V1Lease): LeaseRecord {
    const s = l.spec ?? {};
    const r: LeaseRecord = { resourceVersion: l.metadata?.resourceVersion };
    if (s.holderIdentity !== undefined) r.holderIdentity = s.holderIdentity;
    if (s.leaseDurationSeconds !== undefined) r.leaseDurationSeconds = s.leaseDurationSeconds;
    if (s.acquireTime) r.acquireTime = new Date(s.acquireTime);
    if (s.renewTime) r.renewTime = new Date(s.renewTime);
    if (s.leaseTransitions !== undefined) r.leaseTransitions = s.leaseTransitions;
    return r;
  }

  private body(r: LeaseRecord): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}) },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: r.leaseDurationSeconds,
        acquireTime: r.acquireTime ? new V1MicroTime(r.acquireTime.getTime()) : undefined,
        renewTime: r.renewTime ? new V1MicroTime(r.renewTime.getTime()) : undefined,
        leaseTransitions: r.leaseTransitions,
      },
    };
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return KubeLeaseApi.toRecord(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (e) {
      const err = toOperatorError(e, 'read lease');
      if (err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  async create(r: LeaseRecord): Promise<LeaseRecord> {
    return KubeLeaseApi.toRecord(await this.api.createNamespacedLease({ namespace: this.namespace, body: this.body(r) }));
  }

  async replace(r: LeaseRecord): Promise<LeaseRecord> {
    return KubeLeaseApi.toRecord(await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: this.body(r) }));
  }
}
