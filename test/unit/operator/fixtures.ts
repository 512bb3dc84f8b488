// Fixtures for planner tests: clusters, pods and StatefulSets as the API server would report them.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { KvsCluster, KvsClusterSpec, KvsClusterStatus } from '../../../operator/src/api/types.js';
import { selectorLabels, standardLabels, LABEL_VERSION } from '../../../operator/src/controller/names.js';
import { allocate, membersData, type MembersState } from '../../../operator/src/controller/raftids.js';
import type { NodeReport } from '../../../operator/src/controller/status.js';
import type { ClusterCache } from '../../../operator/src/runtime/informers.js';


export const NOW = '2026-11-21T10:00:00Z';
export const EARLIER = '2026-11-21T09:00:00Z';

export function cluster(spec: Partial<KvsClusterSpec> = {}, status?: KvsClusterStatus, generation = 1): KvsCluster {
  const c: KvsCluster = {
    apiVersion: 'kvs.dev/v1alpha1',
    kind: 'KvsCluster',
    metadata: { name: 'demo', namespace: 'db', uid: '11111111-2222-3333-4444-555555555555', generation },
    spec: { replicas: 3, storage: { size: '1Gi' }, ...spec },
  };
  if (status) c.status = status;
  return c;
}

export function sts(replicas: number, opts: { ready?: number; image?: string; updating?: boolean; size?: string; generation?: number } = {}): V1StatefulSet {
  const gen = opts.generation ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'demo', namespace: 'db', generation: gen },
    spec: {
      replicas,
      serviceName: 'demo-peers',
      selector: { matchLabels: selectorLabels('demo') },
      template: { spec: { containers: [{ name: 'kvs', image: opts.image ?? 'kvs/node:dev' }] } },
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: opts.size ?? '1Gi' } } } },
      ],
    },
    status: {
      observedGeneration: gen,
      replicas,
      readyReplicas: opts.ready ?? replicas,
      updatedReplicas: opts.updating ? 0 : replicas,
      currentRevision: 'demo-aaa',
      updateRevision: opts.updating ? 'demo-bbb' : 'demo-aaa',
    },
  };
}

/** ready; starting (running, not ready); crashloop; imagepull (the image cannot be pulled: no container runs). */
export type PodState = 'ready' | 'starting' | 'crashloop' | 'imagepull';

const WAITING: Partial<Record<PodState, string>> = { crashloop: 'CrashLoopBackOff', imagepull: 'ImagePullBackOff' };

export function pod(i: number, state: PodState = 'ready', version = 'dev'): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `demo-${i}`, namespace: 'db', labels: { ...standardLabels('demo'), [LABEL_VERSION]: version } },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: state === 'ready' ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'kvs',
          image: 'kvs/node:dev',
          imageID: '',
          ready: state === 'ready',
          restartCount: state === 'crashloop' ? 5 : 0,
          state: WAITING[state] ? { waiting: { reason: WAITING[state] } } : { running: {} },
        },
      ],
    },
  };
}

export function pods(n: number, states: Record<number, PodState> = {}): V1Pod[] {
  return Array.from({ length: n }, (_, i) => pod(i, states[i] ?? 'ready'));
}

/** A status as the operator wrote it when the cluster was last healthy. */
export function healthyStatus(replicas = 3): KvsClusterStatus {
  const t = EARLIER;
  return {
    phase: 'Running',
    observedGeneration: 1,
    replicas,
    readyReplicas: replicas,
    currentVersion: 'dev',
    conditions: [
      { type: 'Available', status: 'True', reason: 'QuorumReady', message: '', lastTransitionTime: t, observedGeneration: 1 },
      { type: 'Progressing', status: 'False', reason: 'ReconcileComplete', message: '', lastTransitionTime: t, observedGeneration: 1 },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '', lastTransitionTime: t, observedGeneration: 1 },
      { type: 'ReconciliationPaused', status: 'False', reason: 'NotPaused', message: '', lastTransitionTime: t, observedGeneration: 1 },
    ],
  };
}

// ---- Raft fixtures: the members table and the nodes' admin Status reports ----

/** The members ConfigMap data of a cluster bootstrapped with `n` nodes, then changed by `edit`. */
export function membersCm(n: number, edit?: (s: MembersState) => void): Record<string, string> {
  const c = cluster();
  const st = allocate({ cluster: c, state: undefined, replicas: n, raftMembers: [], existingPods: [], statefulSetExists: false });
  edit?.(st);
  return membersData(c, st);
}

export interface GroupMember {
  id: number;
  pod?: string;
  role?: 'voter' | 'learner';
  match?: number;
  state?: string;
  active?: boolean;
}

/**
 * Admin Status reports of a group: the leader reports the configuration; every listed pod answers.
 * `answering` restricts who answers (default: every member with a pod).
 */
export function reports(
  members: GroupMember[],
  leaderId: number,
  opts: { commit?: number; answering?: string[]; joining?: Array<{ pod: string; id: number }>; ranges?: Record<number, { led: number; movable?: number }> } = {},
): Record<string, NodeReport> {
  const commit = opts.commit ?? 100;
  const out: Record<string, NodeReport> = {};
  // A node started with --join that is not a member yet: answers, knows no leader, has no log.
  for (const j of opts.joining ?? []) out[j.pod] = { raftId: j.id, role: 'Follower', term: 0, commit: 0, applied: 0, leaderId: 0, members: [] };
  for (const m of members) {
    const pod = m.pod ?? `demo-${m.id - 1}`;
    if (opts.answering && !opts.answering.includes(pod)) continue;
    const leader = m.id === leaderId;
    out[pod] = {
      raftId: m.id,
      role: leader ? 'Leader' : 'Follower',
      term: 2,
      commit,
      applied: commit,
      leaderId,
      members: leader
        ? members.map((x) => ({ raftId: x.id, role: x.role ?? 'voter', match: x.match ?? commit, next: (x.match ?? commit) + 1, state: x.state ?? 'Replicate', recentActive: x.active ?? true }))
        : [],
    };
    // Admin Status range counts (every store holds range 1 + 4 data ranges) for the listed raft ids.
    const rg = opts.ranges?.[m.id];
    if (rg !== undefined) out[pod].ranges = { held: 5, led: rg.led, movable: rg.movable ?? 0 };
  }
  return out;
}

/** A pod on a given template revision (OnDelete upgrades compare it with the StatefulSet's updateRevision). */
export function podRev(i: number, revision: string, state: PodState = 'ready'): V1Pod {
  const p = pod(i, state);
  p.metadata!.labels = { ...p.metadata!.labels, 'controller-revision-hash': revision };
  return p;
}

/** An informer cache holding one cluster, its StatefulSet and pods (no PVCs). */
export class StaticCache implements ClusterCache {
  constructor(
    public c: KvsCluster | undefined,
    public s = sts(3),
    public p = pods(3),
  ) {}
  getCluster() {
    return this.c;
  }
  listClusters() {
    return this.c ? [this.c] : [];
  }
  getStatefulSet() {
    return this.s;
  }
  listPods() {
    return this.p;
  }
  listPvcs() {
    return [];
  }
}
