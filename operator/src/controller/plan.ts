// The pure planner: plan(cluster, observed) → desired objects + status + events + next step.
// No API client here: reconcile.ts observes, calls plan(), and applies the result.
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet, KubernetesObject } from '@kubernetes/client-node';
import type { KvsCluster, KvsClusterStatus } from '../api/types.js';
import { clientService, configMap, membersConfigMap, networkPolicy, peerService, podDisruptionBudget, statefulSet, withDefaults, type AdminPeers, type EffectiveSpec } from './children.js';
import { planMembership, type FailoverSettings, type MembershipPlan, type MembershipStep, type NodeSelf, type PodView, type RaftView } from './membership.js';
import { LABEL_REVISION, pvcName, raftAddress } from './names.js';
import { allocate, membersData, parseState, type MembersState } from './raftids.js';
import { computeStatus, podFailing, podReady, type NodeReport, type RaftFacts, type ReplacementFacts } from './status.js';
import { DEFAULTS } from '../api/types.js';
import { parseDuration } from '../../../node/src/common/units.js';
import { ANNOTATION_TLS_MODE, clusterTlsMode, decideTls, podTlsMode, tlsOfTemplate, type TlsMode } from './tls-mode.js';

export interface Observed {
  statefulSet?: V1StatefulSet;
  pods: V1Pod[];
  pvcs: V1PersistentVolumeClaim[];
  /** Admin API (Status) reports per pod; a pod missing here did not answer. */
  nodes?: Record<string, NodeReport>;
  /** data of the `<name>-members` ConfigMap (raft id allocation), undefined when it does not exist. */
  membersConfig?: Record<string, string>;
  /** ISO timestamp of this pass (the only clock the planner sees). */
  now: string;
}

/** The operator's own settings the planner needs (not part of any cluster). */
export interface PlanOptions {
  /** Render each cluster's NetworkPolicy letting only these pods reach the Admin port (unset: no policy). */
  adminPeers?: AdminPeers;
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
  /** Pod → raft id table after this pass (also in the members ConfigMap). */
  members: MembersState;
  /** No membership step is planned or waited for and the StatefulSet keeps its size: the placement
   * driver may move range replicas this pass (issue 13; never while membership changes). */
  settled: boolean;
}

/** Pod failures a new member would inherit (same template): never a reason to replace a member. */
const TEMPLATE_FAILURES = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError']);

/** Requeue period while the cluster converges (watch events usually come first). */
export const PROGRESS_REQUEUE_MS = 10_000;

/** Requeue period while a membership change waits (learner catching up, pod restarting). */
export const MEMBERSHIP_REQUEUE_MS = 2_000;

/** The group as its leader reports it (the answering Leader with the highest term). */
export function raftView(nodes: Record<string, NodeReport> | undefined): RaftView | undefined {
  let best: [string, NodeReport] | undefined;
  for (const [pod, r] of Object.entries(nodes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (r.role === 'Leader' && (!best || r.term > best[1].term)) best = [pod, r];
  }
  if (!best) return undefined;
  const [pod, r] = best;
  return {
    leaderId: r.raftId,
    leaderPod: pod,
    term: r.term,
    commit: r.commit,
    members: new Map(
      r.members.map(
        (m) =>
          [
            m.raftId,
            {
              role: m.role === 'learner' ? 'learner' : 'voter',
              match: m.match,
              state: m.state,
              recentActive: m.recentActive,
              ...(m.incarnation ? { incarnation: m.incarnation } : {}),
              ...(m.refused ? { refused: true } : {}),
            },
          ] as const,
      ),
    ),
  };
}

/** Whether the node's container runs; unknown (no container status yet) leaves the field out. */
function containerRunning(p: V1Pod): { running?: boolean } {
  const st = p.status?.containerStatuses?.find((c) => c.name === 'kvs')?.state ?? p.status?.containerStatuses?.[0]?.state;
  if (st === undefined) return {};
  return { running: st.running !== undefined };
}

/** spec.failover with defaults (the API server defaults them too; the planner is defensive). */
export function failoverSettings(spec: EffectiveSpec): FailoverSettings {
  const f = spec.failover ?? {};
  let downTimeoutMs: number;
  try {
    downTimeoutMs = parseDuration(f.downTimeout ?? DEFAULTS.failoverDownTimeout, 'failover.downTimeout');
  } catch {
    downTimeoutMs = parseDuration(DEFAULTS.failoverDownTimeout);
  }
  return { enabled: f.enabled ?? DEFAULTS.failoverEnabled, downTimeoutMs, maxConcurrent: Math.max(1, f.maxConcurrentReplacements ?? DEFAULTS.maxConcurrentReplacements) };
}

/**
 * Failover clocks (in the members table, so they survive an operator restart): a member whose pod is
 * not ready or whose node does not answer gets `downSince` = now once; a healthy pass clears it, so a
 * restart within the timeout starts from zero next time. Only while a leader is known and the nodes
 * were observed (no judgement on a blind pass).
 */
export function updateDownClocks(st: MembersState, view: RaftView | undefined, observed: Observed, podViews: PodView[]): void {
  if (view === undefined || observed.nodes === undefined) return;
  const ready = new Set(podViews.filter((p) => p.ready).map((p) => p.name));
  for (const [pod, a] of Object.entries(st.pods)) {
    if (!a.added || !view.members.has(a.raftId)) {
      delete a.downSince;
      continue;
    }
    const healthy = ready.has(pod) && observed.nodes[pod] !== undefined && observed.nodes[pod]!.raftId === a.raftId;
    if (healthy) delete a.downSince;
    else a.downSince ??= observed.now;
  }
}

/** Applies the membership step's effect on the members table (before the table is written). */
function recordStep(st: MembersState, step: MembershipStep | undefined): void {
  if (step?.type === 'RemoveMember' && step.replace !== undefined) {
    const a = st.pods[step.pod];
    if (a !== undefined && a.raftId === step.raftId) a.replacing = step.replace;
  }
  if (step?.type === 'ReplacePod') {
    const a = st.pods[step.pod];
    if (a !== undefined && a.raftId !== step.newRaftId) {
      // A new id for the slot (never reused); the old one is retired. The pod reads it at its next start.
      if (!st.retired.includes(step.oldRaftId)) st.retired.push(step.oldRaftId);
      st.retired.sort((x, y) => x - y);
      st.pods[step.pod] = { raftId: step.newRaftId, join: true, added: false, replaces: step.oldRaftId, replaceReason: step.reason };
      st.nextRaftId = Math.max(st.nextRaftId, step.newRaftId + 1);
    }
  }
}

/** Replacements that completed (the new member is a voter): cleared, remembered as lastReplacement. */
function finishReplacements(st: MembersState, view: RaftView | undefined, now: string): PlannedEvent[] {
  const ev: PlannedEvent[] = [];
  if (view === undefined) return ev;
  for (const [pod, a] of Object.entries(st.pods)) {
    if (a.replaces === undefined || view.members.get(a.raftId)?.role !== 'voter') continue;
    const r = { pod, oldRaftId: a.replaces, newRaftId: a.raftId, reason: a.replaceReason ?? 'Removed', at: now } as const;
    st.lastReplacement = r;
    delete a.replaces;
    delete a.replaceReason;
    ev.push({ type: 'Normal', reason: 'MemberReplaced', action: 'Replace', note: `${pod}: raft id ${r.oldRaftId} replaced by raft id ${r.newRaftId} (${r.reason}); the new member is a voter` });
  }
  return ev;
}

/** The MemberReplacement condition's facts. */
function replacementFacts(st: MembersState, ms: MembershipPlan): ReplacementFacts {
  const pods = Object.keys(st.pods).sort();
  const active: string[] = [];
  let reason: string | undefined;
  for (const pod of pods) {
    const a = st.pods[pod]!;
    if (a.replacing !== undefined) {
      reason ??= a.replacing;
      active.push(`${pod}: removing raft id ${a.raftId} (${a.replacing}) to replace it with a new member`);
    } else if (a.replaces !== undefined) {
      reason ??= a.replaceReason ?? 'Removed';
      active.push(`${pod}: raft id ${a.replaces} is being replaced by raft id ${a.raftId} (${a.replaceReason ?? 'Removed'})`);
    }
  }
  const blocked = ms.replacementBlocked !== undefined ? [`blocked: ${ms.replacementBlocked}`] : [];
  if (reason !== undefined) return { active: true, reason, message: [...active, ...(ms.waiting ? [ms.waiting] : []), ...blocked].join('; ') };
  if (ms.replacementBlocked !== undefined) return { active: true, reason: 'ReplacementBlocked', message: ms.replacementBlocked };
  const last = st.lastReplacement;
  if (last !== undefined) return { active: false, reason: 'Replaced', message: `last replacement: ${last.pod} raft id ${last.oldRaftId} → ${last.newRaftId} (${last.reason}) at ${last.at}` };
  return { active: false, reason: 'AsExpected', message: 'no member needs replacement' };
}

export function describeStep(s: MembershipStep): string {
  switch (s.type) {
    case 'AddLearner':
      return `adding ${s.pod} (raft id ${s.raftId}) as a learner at ${s.address}`;
    case 'Promote':
      return `promoting learner ${s.pod} (raft id ${s.raftId}) to voter`;
    case 'RemoveMember':
      return (
        `removing ${s.pod} (raft id ${s.raftId}) from the group` +
        (s.replace !== undefined ? ` to replace it (${s.replace}: ${s.why ?? ''})` : '') +
        (s.rangesLed !== undefined ? `; its node reports leading ${s.rangesLed} range(s)` : '')
      );
    case 'DrainStore':
      return s.leadershipsOnly
        ? `moving every range leadership off ${s.pod} (store ${s.raftId}): ${s.why}`
        : `draining ${s.pod} (store ${s.raftId}): leaderships off it, replicas to stores lacking their range: ${s.why}`;
    case 'TransferLeader':
      return `moving leadership from ${s.from} to ${s.to} (raft id ${s.toRaftId}): ${s.why}`;
    case 'DeletePod':
      return `restarting ${s.pod}: ${s.why}`;
    case 'ReplacePod':
      return `replacing ${s.pod}: deleting its volume claim ${pvcName(s.pod)} and the pod so it restarts empty as raft id ${s.newRaftId} (${s.reason}: ${s.why})`;
  }
}

export function plan(cluster: KvsCluster, observed: Observed, opts: PlanOptions = {}): Plan {
  const spec = withDefaults(cluster.spec);
  const sts = observed.statefulSet;
  // TLS on or off in a running cluster goes through a full roll in transition mode (tls-mode.ts).
  // Terminating pods count: they still run until they are gone.
  const podModes = observed.pods.map(podTlsMode);
  const podsObserved =
    sts !== undefined &&
    observed.pods.length >= (sts.spec?.replicas ?? 0) &&
    (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
  const tls = decideTls(spec.tls, podModes, tlsOfTemplate(sts?.spec), podsObserved);
  const templateSpec: EffectiveSpec = { ...spec, tls: tls.tls };
  const view = raftView(observed.nodes);
  const existingPods = observed.pods.map((p) => p.metadata?.name ?? '');
  const prevState = parseState(observed.membersConfig);
  const baseReplicas = sts ? (sts.spec?.replicas ?? 1) : spec.replicas;
  const reportedIds = Object.fromEntries(Object.entries(observed.nodes ?? {}).map(([p, r]) => [p, r.raftId]));
  const allocIn = { cluster, raftMembers: view ? [...view.members.keys()] : [], existingPods, statefulSetExists: !!sts, reportedIds };
  let members = allocate({ ...allocIn, state: prevState, replicas: baseReplicas });
  const updateRevision = sts?.status?.updateRevision;
  const terminatingClaims = new Set(observed.pvcs.filter((c) => c.metadata?.deletionTimestamp).map((c) => c.metadata?.name ?? ''));
  const podViews: PodView[] = observed.pods
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => ({
      name: p.metadata?.name ?? '',
      exists: true,
      ready: podReady(p),
      updated: !updateRevision || p.metadata?.labels?.[LABEL_REVISION] === undefined || p.metadata.labels[LABEL_REVISION] === updateRevision,
      ...containerRunning(p),
      ...(terminatingClaims.has(pvcName(p.metadata?.name ?? '')) ? { claimTerminating: true } : {}),
      ...(podFailing(p) !== undefined ? { failing: true } : {}),
      ...(TEMPLATE_FAILURES.has(podFailing(p) ?? '') ? { templateBroken: podFailing(p)! } : {}),
    }));
  const reports: Record<string, NodeSelf> = Object.fromEntries(
    Object.entries(observed.nodes ?? {}).map(([p, r]) => [
      p,
      { raftId: r.raftId, incarnation: r.incarnation ?? '', identityRefused: r.identityRefused === true, ...(r.ranges ? { rangesLed: r.ranges.led, rangesMovable: r.ranges.movable } : {}) },
    ]),
  );
  const replacedEvents = spec.paused ? [] : finishReplacements(members, view, observed.now);
  if (!spec.paused) updateDownClocks(members, view, observed, podViews);
  const ms: MembershipPlan = spec.paused
    ? { statefulSetReplicas: baseReplicas }
    : planMembership({
        desiredReplicas: spec.replicas,
        currentReplicas: sts ? baseReplicas : undefined,
        state: members,
        pods: podViews,
        raft: view,
        address: (pod) => raftAddress(cluster, pod),
        ...(observed.nodes ? { answering: new Set(Object.keys(observed.nodes)) } : {}),
        reports,
        failover: failoverSettings(spec),
        nowMs: Date.parse(observed.now),
      });
  if (!spec.paused && ms.statefulSetReplicas > baseReplicas) members = allocate({ ...allocIn, state: members, replicas: ms.statefulSetReplicas });
  if (!spec.paused) recordStep(members, ms.step);

  const facts: RaftFacts = {
    raftIds: Object.fromEntries(Object.entries(members.pods).map(([p, a]) => [p, a.raftId])),
    roles: new Map([...(view?.members ?? new Map())].map(([id, m]) => [id, m.role])),
    nextRaftId: members.nextRaftId,
  };
  if (view) facts.leaderId = view.leaderId;
  if (ms.blocked) facts.blocked = ms.blocked;
  facts.replacement = replacementFacts(members, ms);
  if (tls.transition) facts.tlsTransition = tls.transition.message;
  const tlsMode = clusterTlsMode(podModes);
  if (tlsMode) facts.tlsMode = tlsMode;
  if (ms.step) facts.membership = describeStep(ms.step);
  else if (ms.waiting) facts.membership = ms.waiting;
  const votersNow = [...(view?.members ?? new Map())].filter(([, m]) => m.role === 'voter').length;
  facts.scaling =
    ms.statefulSetReplicas !== baseReplicas ||
    (ms.step !== undefined && ms.step.type !== 'DeletePod' && !(ms.step.type === 'TransferLeader' && /upgrade/.test(ms.step.why)) && !(ms.step.type === 'DrainStore' && ms.step.leadershipsOnly)) ||
    (view !== undefined && votersNow !== spec.replicas);
  const status = computeStatus(cluster, spec, observed, facts);
  const events = [...planEvents(cluster, spec, observed, status), ...tlsEvents(sts, tls.mode, tls.transition?.message), ...replacedEvents];
  if (spec.paused) {
    return { apply: [], status, events, next: { action: 'Done', reason: 'paused' }, members, settled: false };
  }
  const apply: KubernetesObject[] = [
    configMap(cluster, spec),
    // Before the StatefulSet: a pod's raft id exists before the pod does.
    membersConfigMap(cluster, membersData(cluster, members)),
    peerService(cluster),
    clientService(cluster),
    statefulSet(cluster, templateSpec, ms.statefulSetReplicas, sts),
    podDisruptionBudget(cluster, spec),
    ...(opts.adminPeers ? [networkPolicy(cluster, opts.adminPeers)] : []),
  ];
  let next: NextStep;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (ms.step) next = { action: 'Membership', step: ms.step, reason: describeStep(ms.step) };
  else if ((ms.waiting && view) || ms.statefulSetReplicas !== baseReplicas) next = { action: 'Requeue', afterMs: MEMBERSHIP_REQUEUE_MS, reason: ms.waiting ?? 'membership change' };
  else if (progressing?.status === 'True') next = { action: 'Requeue', afterMs: PROGRESS_REQUEUE_MS, reason: progressing.reason };
  else next = { action: 'Done', reason: progressing?.reason ?? 'ReconcileComplete' };
  const membershipSettled = view !== undefined && ms.step === undefined && ms.waiting === undefined && ms.statefulSetReplicas === baseReplicas;
  return { apply, status, events, next, members, settled: membershipSettled };
}

/** An event when this pass changes the template's TLS mode (each of the two rolls of a transition). */
function tlsEvents(sts: V1StatefulSet | undefined, mode: TlsMode, transition: string | undefined): PlannedEvent[] {
  if (!sts) return [];
  const annotated = sts.spec?.template?.metadata?.annotations?.[ANNOTATION_TLS_MODE];
  const before = annotated ?? podTlsMode({ metadata: {}, spec: sts.spec?.template?.spec });
  if (before === mode) return [];
  const note = transition ?? `every node runs ${before}: rolling the nodes to ${mode}`;
  return [{ type: 'Normal', reason: 'TlsModeChanging', action: 'Upgrade', note: `TLS ${before} → ${mode}: ${note}` }];
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
  const wasBlocked = cond(prev, 'ScaleInBlocked')?.status === 'True';
  const blocked = cond(status, 'ScaleInBlocked');
  if (blocked?.status === 'True' && !wasBlocked) ev.push({ type: 'Warning', reason: 'ScaleInBlocked', action: 'Scale', note: blocked.message });
  const wasReplBlocked = cond(prev, 'MemberReplacement')?.reason === 'ReplacementBlocked';
  const repl = cond(status, 'MemberReplacement');
  if (repl?.reason === 'ReplacementBlocked' && !wasReplBlocked) ev.push({ type: 'Warning', reason: 'ReplacementBlocked', action: 'Replace', note: repl.message });
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
