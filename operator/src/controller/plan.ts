// The pure planner: plan(cluster, observed) → desired objects + status + events + next step.
// No API client here: reconcile.ts observes, calls plan(), and applies the result.
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet, KubernetesObject } from '@kubernetes/client-node';
import type { KvsCluster, KvsClusterStatus } from '../api/types.js';
import { clientService, configMap, peerService, podDisruptionBudget, statefulSet, withDefaults, type EffectiveSpec } from './children.js';
import { planMembership, type MembershipStep } from './membership.js';
import { computeStatus, type NodeReport } from './status.js';

export interface Observed {
  statefulSet?: V1StatefulSet;
  pods: V1Pod[];
  pvcs: V1PersistentVolumeClaim[];
  /** Admin API reports per pod (later stage). */
  nodes?: Record<string, NodeReport>;
  /** ISO timestamp of this pass (the only clock the planner sees). */
  now: string;
}

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export type NextStep =
  | { action: 'Done'; reason: string }
  | { action: 'Requeue'; afterMs: number; reason: string }
  | { action: 'Membership'; step: MembershipStep; reason: string };

export interface Plan {
  /** Objects to server-side apply, in order. Empty when paused. */
  apply: KubernetesObject[];
  status: KvsClusterStatus;
  events: PlannedEvent[];
  next: NextStep;
}

/** Requeue period while the cluster converges (watch events usually come first). */
export const PROGRESS_REQUEUE_MS = 10_000;

export function plan(cluster: KvsCluster, observed: Observed): Plan {
  const spec = withDefaults(cluster.spec);
  const status = computeStatus(cluster, spec, observed);
  const events = planEvents(cluster, spec, observed, status);
  if (spec.paused) {
    return { apply: [], status, events, next: { action: 'Done', reason: 'paused' } };
  }
  const ms = planMembership({ desiredReplicas: spec.replicas, members: status.members ?? [], adminApi: false });
  const apply: KubernetesObject[] = [
    configMap(cluster, spec),
    peerService(cluster),
    clientService(cluster),
    statefulSet(cluster, spec, ms.statefulSetReplicas, observed.statefulSet),
    podDisruptionBudget(cluster, spec),
  ];
  let next: NextStep;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (ms.step) next = { action: 'Membership', step: ms.step, reason: 'membership change' };
  else if (progressing?.status === 'True') next = { action: 'Requeue', afterMs: PROGRESS_REQUEUE_MS, reason: progressing.reason };
  else next = { action: 'Done', reason: progressing?.reason ?? 'ReconcileComplete' };
  return { apply, status, events, next };
}

function cond(s: KvsClusterStatus | undefined, type: string) {
  return s?.conditions?.find((c) => c.type === type);
}

/** Events for significant actions and transitions only, so repeated passes do not repeat them. */
function planEvents(cluster: KvsCluster, spec: EffectiveSpec, obs: Observed, status: KvsClusterStatus): PlannedEvent[] {
  const ev: PlannedEvent[] = [];
  const prev = cluster.status;
  const wasPaused = cond(prev, 'ReconciliationPaused')?.status === 'True';
  if (spec.paused && !wasPaused) ev.push({ type: 'Normal', reason: 'Paused', action: 'Pause', note: 'spec.paused is true: reconciliation paused' });
  if (!spec.paused && wasPaused) ev.push({ type: 'Normal', reason: 'Resumed', action: 'Resume', note: 'spec.paused is false: reconciliation resumed' });
  if (!spec.paused) {
    const sts = obs.statefulSet;
    if (!sts) {
      ev.push({ type: 'Normal', reason: 'Creating', action: 'Create', note: `creating StatefulSet ${cluster.metadata.name} with ${spec.replicas} node(s)` });
    } else {
      const cur = sts.spec?.replicas ?? 1;
      if (cur !== spec.replicas) {
        ev.push({ type: 'Normal', reason: cur < spec.replicas ? 'ScalingOut' : 'ScalingIn', action: 'Scale', note: `scaling from ${cur} to ${spec.replicas} node(s)` });
      }
      const curImage = sts.spec?.template?.spec?.containers?.[0]?.image;
      if (curImage && curImage !== spec.image) {
        ev.push({ type: 'Normal', reason: 'Upgrading', action: 'Upgrade', note: `rolling the nodes from image ${curImage} to ${spec.image}` });
      }
      const vct = sts.spec?.volumeClaimTemplates?.[0];
      const curSize = vct?.spec?.resources?.requests?.['storage'];
      const curClass = vct?.spec?.storageClassName;
      if (vct && (String(curSize) !== String(spec.storage.size) || (spec.storage.storageClassName !== undefined && curClass !== spec.storage.storageClassName))) {
        ev.push({
          type: 'Warning',
          reason: 'StorageChangeIgnored',
          action: 'Validate',
          note: `spec.storage differs from the StatefulSet's volumes (${curSize}, class ${curClass ?? 'default'}); storage is immutable, the existing volumes are kept`,
        });
      }
    }
  }
  const wasAvailable = cond(prev, 'Available')?.status === 'True';
  const isAvailable = cond(status, 'Available')?.status === 'True';
  if (isAvailable && !wasAvailable) ev.push({ type: 'Normal', reason: 'Available', action: 'Observe', note: cond(status, 'Available')!.message });
  if (!isAvailable && wasAvailable) ev.push({ type: 'Warning', reason: 'Unavailable', action: 'Observe', note: cond(status, 'Available')!.message });
  const wasDegraded = cond(prev, 'Degraded');
  const degraded = cond(status, 'Degraded')!;
  if (degraded.status === 'True' && (wasDegraded?.status !== 'True' || wasDegraded.reason !== degraded.reason)) {
    ev.push({ type: 'Warning', reason: degraded.reason, action: 'Observe', note: degraded.message });
  }
  return ev;
}
