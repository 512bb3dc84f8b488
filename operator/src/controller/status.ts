// Status of a KvsCluster computed from what was observed (pods, StatefulSet). Pure.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { Condition, ConditionStatus, ConditionType, KvsCluster, KvsClusterStatus, Member, MemberRole, Phase } from '../api/types.js';
import type { EffectiveSpec } from './children.js';
import { LABEL_VERSION, podOrdinal, quorum, selectorString } from './names.js';

/** What a node's admin API (kvs.v1.Admin Status) reports; absent → the node did not answer. */
export interface NodeReport {
  raftId: number;
  /** "Leader" | "Follower" | "Candidate" | "PreCandidate" */
  role: string;
  term: number;
  commit: number;
  applied: number;
  leaderId: number;
  /** Leader only: the configuration with replication progress. */
  members: Array<{
    raftId: number;
    role: string;
    match: number;
    next: number;
    state: string;
    recentActive: boolean;
    /** Data-dir incarnation the group recorded for this id ('' / absent: none yet, or an older node). */
    incarnation?: string;
    /** The reporting node refuses this member's frames: another incarnation (its data dir was lost). */
    refused?: boolean;
  }>;
  /** This node's data-dir incarnation ('' / absent: unknown). */
  incarnation?: string;
  /** A peer refused this node: its data dir is not the one the group knows for its raft id. */
  identityRefused?: boolean;
  /**
   * The node's ranges (Admin Status ranges_*): held, led (range 1 included), movable (a voter replica
   * another store of the cluster lacks). Absent: the node does not report them (older version).
   */
  ranges?: { held: number; led: number; movable: number };
}

export interface ObservedForStatus {
  statefulSet?: V1StatefulSet;
  pods: V1Pod[];
  nodes?: Record<string, NodeReport>;
  now: string;
}

/** Raft facts for status: the pod → raft id table and the leader's view of the group. */
export interface RaftFacts {
  raftIds: Record<string, number>;
  leaderId?: number;
  roles: Map<number, 'voter' | 'learner'>;
  nextRaftId?: number;
  /** Scale-in refused (ScaleInBlocked condition). */
  blocked?: string;
  /** A membership step is under way or waiting (Progressing). */
  membership?: string;
  /** Members are being added or removed (phase Scaling even when the StatefulSet has its size). */
  scaling?: boolean;
  /** MemberReplacement condition. */
  replacement?: ReplacementFacts;
  /** The operator rolls the nodes through TLS transition mode (Progressing message). */
  tlsTransition?: string;
  /** How the pods speak TLS (status.tlsMode). */
  tlsMode?: 'plain' | 'transition' | 'tls';
}

export interface ReplacementFacts {
  /** A replacement is under way or needed (condition True). */
  active: boolean;
  reason: string;
  message: string;
}

export function podReady(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

const BAD_WAITING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'InvalidImageName', 'RunContainerError']);

/** A pod that will not become ready without help (crash loop, missing image, bad config). */
export function podFailing(p: V1Pod): string | undefined {
  for (const cs of p.status?.containerStatuses ?? []) {
    const reason = cs.state?.waiting?.reason;
    if (reason && BAD_WAITING.has(reason)) return reason;
  }
  if (p.status?.phase === 'Failed') return 'Failed';
  return undefined;
}

export function sortPods(pods: V1Pod[]): V1Pod[] {
  return [...pods].sort((a, b) => podOrdinal(a.metadata?.name ?? '') - podOrdinal(b.metadata?.name ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export function members(pods: V1Pod[], nodes: Record<string, NodeReport> | undefined, raft?: RaftFacts): Member[] {
  return sortPods(pods).map((p) => {
    const name = p.metadata?.name ?? '';
    const r = nodes?.[name];
    const id = raft?.raftIds[name];
    let role: MemberRole = 'Unknown';
    if (id !== undefined && raft) {
      const inConf = raft.roles.get(id);
      if (id === raft.leaderId) role = 'Leader';
      else if (inConf === 'voter') role = 'Follower';
      else if (inConf === 'learner') role = 'Learner';
    }
    const m: Member = { pod: name, role, healthy: podReady(p) && (nodes === undefined || r !== undefined) };
    if (id !== undefined) m.raftId = String(id);
    if (r !== undefined) m.appliedIndex = r.applied;
    return m;
  });
}

/**
 * Rollout facts of the StatefulSet. Pods missing while the StatefulSet already has the desired size
 * count as scaling only when the previous pass was scaling: a pod that vanished (node loss, eviction)
 * is a transient loss, reported as Degraded, never mistaken for a scale-in.
 */
export function rollout(sts: V1StatefulSet | undefined, desiredReplicas: number, prevPhase?: Phase) {
  if (!sts) return { exists: false, scaling: false, updating: false, settled: false };
  const st = sts.status ?? { replicas: 0 };
  const specReplicas = sts.spec?.replicas ?? 1;
  const observedCurrent = (st.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
  const scaling = specReplicas !== desiredReplicas || (prevPhase === 'Scaling' && (st.replicas ?? 0) !== specReplicas);
  // With updateStrategy OnDelete the StatefulSet controller never advances currentRevision (only
  // RollingUpdate does), so a finished rollout is: every replica on the update revision.
  const onDelete = sts.spec?.updateStrategy?.type === 'OnDelete';
  // The last pod restarted by an upgrade is on the new revision but not ready yet: still upgrading.
  const restarting = onDelete && prevPhase === 'Upgrading' && (st.readyReplicas ?? 0) < specReplicas;
  const updating = !observedCurrent || (!onDelete && !!st.updateRevision && st.currentRevision !== st.updateRevision) || (st.updatedReplicas ?? 0) < specReplicas || restarting;
  return { exists: true, scaling, updating, settled: observedCurrent && !scaling && !updating };
}

export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Keeps lastTransitionTime when the status did not change (so an unchanged status is byte-identical). */
export function setCondition(prev: Condition[] | undefined, c: ConditionInput, generation: number, now: string): Condition {
  const old = prev?.find((p) => p.type === c.type);
  const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now;
  return { ...c, lastTransitionTime, observedGeneration: generation };
}

/** A child object the reconciler could not apply (reason: the error code, or Skipped). */
export interface ApplyFailure {
  kind: string;
  name: string;
  reason: string;
  message: string;
}

/**
 * The status with the ApplyFailed condition of this pass's applies (pure; the planner cannot know
 * them, the reconciler calls this after applying). True: reason = the first failure's code (Invalid,
 * Forbidden, Transient, ...), message = every failed child with the API server's words.
 */
export function withApplyFailures(status: KvsClusterStatus, prev: Condition[] | undefined, failures: ApplyFailure[], generation: number, now: string, applied = true): KvsClusterStatus {
  const c: ConditionInput = !applied
    ? { type: 'ApplyFailed', status: 'False', reason: 'NothingApplied', message: 'nothing was applied (reconciliation is paused)' }
    : failures.length > 0
      ? {
          type: 'ApplyFailed',
          status: 'True',
          reason: failures.find((f) => f.reason !== 'Skipped')?.reason ?? failures[0]!.reason,
          message: failures.map((f) => `${f.kind} ${f.name}: ${f.message}`).join('; ').slice(0, 2000),
        }
      : { type: 'ApplyFailed', status: 'False', reason: 'AsExpected', message: 'every child object is applied' };
  return { ...status, conditions: [...(status.conditions ?? []).filter((x) => x.type !== 'ApplyFailed'), setCondition(prev, c, generation, now)] };
}

export function computeStatus(cluster: KvsCluster, spec: EffectiveSpec, obs: ObservedForStatus, raft?: RaftFacts): KvsClusterStatus {
  const gen = cluster.metadata.generation ?? 0;
  const prev = cluster.status?.conditions;
  const pods = obs.pods.filter((p) => !p.metadata?.deletionTimestamp || podReady(p));
  const ready = pods.filter(podReady);
  const desired = spec.replicas;
  const need = quorum(desired);
  const ro0 = rollout(obs.statefulSet, desired, cluster.status?.phase);
  const ro = { ...ro0, scaling: ro0.scaling || (ro0.exists && !!raft?.scaling) };
  const failing = sortPods(pods)
    .map((p) => [p.metadata?.name ?? '', podFailing(p)] as const)
    .filter(([, r]) => r !== undefined);
  const ms = members(pods, obs.nodes, raft);
  const leader = ms.find((m) => m.role === 'Leader')?.pod;
  const everAvailable = prev?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;

  // Version: reported once every desired pod runs the desired template and is ready.
  const versions = new Set(ready.map((p) => p.metadata?.labels?.[LABEL_VERSION] ?? ''));
  let currentVersion = cluster.status?.currentVersion;
  if (ro.settled && ready.length === desired && versions.size === 1) currentVersion = [...versions][0] || undefined;

  const available: ConditionInput = !ro.exists
    ? { type: 'Available', status: 'False', reason: 'Creating', message: 'the StatefulSet does not exist yet' }
    : ready.length >= need
      ? { type: 'Available', status: 'True', reason: 'QuorumReady', message: `${ready.length}/${desired} nodes ready (a majority is ${need})` }
      : { type: 'Available', status: 'False', reason: everAvailable ? 'QuorumLost' : 'WaitingForQuorum', message: `${ready.length}/${desired} nodes ready; a majority needs ${need}` };

  let progressing: ConditionInput;
  if (spec.paused) progressing = { type: 'Progressing', status: 'False', reason: 'Paused', message: 'reconciliation is paused' };
  else if (!ro.exists) progressing = { type: 'Progressing', status: 'True', reason: 'Creating', message: 'creating the cluster\'s objects' };
  else if (ro.scaling) progressing = { type: 'Progressing', status: 'True', reason: 'Scaling', message: `scaling to ${desired} nodes (${pods.length} exist)` + (raft?.membership ? `: ${raft.membership}` : '') };
  else if (raft?.membership) progressing = { type: 'Progressing', status: 'True', reason: 'MembershipChange', message: raft.membership };
  else if (raft?.tlsTransition) progressing = { type: 'Progressing', status: 'True', reason: 'TlsTransition', message: raft.tlsTransition };
  else if (ro.updating) progressing = { type: 'Progressing', status: 'True', reason: 'RollingUpdate', message: 'rolling the node pods to the current template' };
  else if (ready.length < desired) progressing = { type: 'Progressing', status: 'True', reason: 'WaitingForPods', message: `${ready.length}/${desired} nodes ready` };
  else progressing = { type: 'Progressing', status: 'False', reason: 'ReconcileComplete', message: 'the cluster matches its spec' };

  let degraded: ConditionInput;
  if (failing.length > 0) {
    degraded = { type: 'Degraded', status: 'True', reason: 'PodsFailing', message: failing.map(([n, r]) => `${n}: ${r}`).join('; ') };
  } else if (everAvailable && ready.length < desired && !ro.scaling && !ro.updating) {
    const notReady = sortPods(pods).filter((p) => !podReady(p)).map((p) => p.metadata?.name);
    const missing = desired - pods.length;
    degraded = {
      type: 'Degraded',
      status: 'True',
      reason: ready.length >= need ? 'NodesNotReady' : 'QuorumLost',
      message: `${ready.length}/${desired} nodes ready` + (notReady.length ? `; not ready: ${notReady.join(', ')}` : '') + (missing > 0 ? `; ${missing} pod(s) missing` : ''),
    };
  } else degraded = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no node is failing' };

  const blockedCond: ConditionInput = raft?.blocked
    ? { type: 'ScaleInBlocked', status: 'True', reason: 'QuorumAtRisk', message: raft.blocked }
    : { type: 'ScaleInBlocked', status: 'False', reason: 'AsExpected', message: 'no membership change is refused' };

  const r = raft?.replacement;
  const replacementCond: ConditionInput = r
    ? { type: 'MemberReplacement', status: r.active ? 'True' : 'False', reason: r.reason, message: r.message }
    : { type: 'MemberReplacement', status: 'False', reason: 'AsExpected', message: 'no member needs replacement' };

  const pausedCond: ConditionInput = spec.paused
    ? { type: 'ReconciliationPaused', status: 'True', reason: 'SpecPaused', message: 'spec.paused is true: the operator makes no changes to this cluster until it is set to false' }
    : { type: 'ReconciliationPaused', status: 'False', reason: 'NotPaused', message: 'the operator reconciles this cluster' };

  let phase: Phase;
  if (spec.paused) phase = 'Paused';
  else if (!ro.exists || (!everAvailable && available.status !== 'True')) phase = 'Creating';
  else if (available.status !== 'True') phase = 'Unavailable';
  else if (ro.scaling) phase = 'Scaling';
  else if (ro.updating) phase = 'Upgrading';
  else if (degraded.status === 'True' || ready.length < desired) phase = everAvailable ? 'Degraded' : 'Creating';
  else phase = 'Running';

  const status: KvsClusterStatus = {
    phase,
    observedGeneration: gen,
    replicas: pods.length,
    readyReplicas: ready.length,
    selector: selectorString(cluster.metadata.name),
    conditions: [available, progressing, degraded, pausedCond, blockedCond, replacementCond].map((c) => setCondition(prev, c, gen, obs.now)),
    members: ms,
  };
  if (leader) status.leader = leader;
  if (raft?.nextRaftId !== undefined) status.nextRaftId = raft.nextRaftId;
  if (currentVersion) status.currentVersion = currentVersion;
  if (raft?.tlsMode) status.tlsMode = raft.tlsMode;
  return status;
}
