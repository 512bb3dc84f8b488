// Raft id allocation (pure). Raft ids are never reused: the operator owns a monotonic counter and the
// pod → raft id table, persisted in the `<name>-members` ConfigMap (key state.json) and mirrored in
// status.nextRaftId. An id is assigned to a pod BEFORE the pod exists (the ConfigMap is applied before
// the StatefulSet grows); the pod reads it at start from the same ConfigMap, mounted as a directory
// with one env file per pod name (node flag --env-file /etc/kvs/members/$(POD_NAME)).
//
// The counter is the maximum of everything ever seen (state, status, ids in the Raft membership, ids
// in the table) + 1, so losing one of those records cannot make an id come back.
import type { KvsCluster } from '../api/types.js';
import { MEMBERS_STATE_KEY, podName, podOrdinal, raftAddress } from './names.js';

export interface Assignment {
  raftId: number;
  /** Started empty with --join (scale-out); false for the bootstrap members. */
  join: boolean;
  /** Seen in the Raft membership at least once (bootstrap members: from the start). */
  added: boolean;
  /** Failover timer: when the member was first seen unhealthy (pod not ready or node silent); cleared when healthy. */
  downSince?: string;
  /** The member is being removed to be replaced (membership.ts "replacement"), and why. */
  replacing?: ReplaceReason;
  /** This id replaces that (removed) raft id; cleared once the new member is a voter. */
  replaces?: number;
  replaceReason?: ReplaceReason;
}

/** Why a member is replaced: its volume was lost (the group refuses its data dir), it stayed down past
 * spec.failover.downTimeout, or it was removed from the group while its pod stays in the StatefulSet. */
export type ReplaceReason = 'VolumeLost' | 'MemberDown' | 'Removed';

export interface Replacement {
  pod: string;
  oldRaftId: number;
  newRaftId: number;
  reason: ReplaceReason;
  /** When the new member became a voter. */
  at: string;
}

export interface MembersState {
  nextRaftId: number;
  /** Pod name → assignment. */
  pods: Record<string, Assignment>;
  /** Raft ids of the bootstrap members (the initial --peers). */
  bootstrap: number[];
  /** Ids whose members were removed (audit; never handed out again anyway). */
  retired: number[];
  /** The last completed replacement (MemberReplacement condition). */
  lastReplacement?: Replacement;
}

export function emptyState(): MembersState {
  return { nextRaftId: 1, pods: {}, bootstrap: [], retired: [] };
}

/** Parses state.json of the members ConfigMap; undefined when there is none. Throws on corruption. */
export function parseState(data: Record<string, string> | undefined): MembersState | undefined {
  const raw = data?.[MEMBERS_STATE_KEY];
  if (raw === undefined) return undefined;
  const s = JSON.parse(raw) as Partial<MembersState>;
  return {
    nextRaftId: Number(s.nextRaftId ?? 1),
    pods: { ...(s.pods ?? {}) },
    bootstrap: [...(s.bootstrap ?? [])],
    retired: [...(s.retired ?? [])],
    ...(s.lastReplacement ? { lastReplacement: s.lastReplacement } : {}),
  };
}

function sortedPods(pods: Record<string, Assignment>): string[] {
  return Object.keys(pods).sort((a, b) => podOrdinal(a) - podOrdinal(b) || a.localeCompare(b));
}

export interface AllocateInput {
  cluster: KvsCluster;
  state: MembersState | undefined;
  /** Ordinals [0, replicas) of the StatefulSet to be applied must all have an id. */
  replicas: number;
  /** Raft ids currently in the group's configuration (voters and learners), if known. */
  raftMembers: number[];
  /** Pods that exist now (an assignment of a gone pod above `replicas` is retired). */
  existingPods: string[];
  /** Whether the StatefulSet exists (no StatefulSet and no state = bootstrap). */
  statefulSetExists: boolean;
  /** Raft id each answering node reports for itself (recovers a lost table; never overrides it). */
  reportedIds?: Record<string, number>;
}

/**
 * Returns the new state: ids for pods that need one, `added` set for members seen in Raft, and
 * assignments of removed members whose pod is gone dropped (their ordinal gets a fresh id next time).
 */
export function allocate(input: AllocateInput): MembersState {
  const prev = input.state ?? emptyState();
  const st: MembersState = { nextRaftId: prev.nextRaftId, pods: {}, bootstrap: [...prev.bootstrap], retired: [...prev.retired], ...(prev.lastReplacement ? { lastReplacement: prev.lastReplacement } : {}) };
  for (const [p, a] of Object.entries(prev.pods)) st.pods[p] = { ...a };
  const statusNext = input.cluster.status?.nextRaftId ?? 1;
  const seen = [...input.raftMembers, ...Object.values(st.pods).map((a) => a.raftId), ...st.retired, ...st.bootstrap];
  st.nextRaftId = Math.max(st.nextRaftId, statusNext, ...seen.map((x) => x + 1), 1);

  const inRaft = new Set(input.raftMembers);
  const existing = new Set(input.existingPods);
  for (const p of sortedPods(st.pods)) {
    const a = st.pods[p]!;
    if (!a.added && inRaft.has(a.raftId)) a.added = true;
    // A member that was removed (or never added) and whose pod is gone above the StatefulSet's size:
    // its assignment is over; the ordinal gets a fresh id if it is ever needed again.
    if (podOrdinal(p) >= input.replicas && !existing.has(p) && !inRaft.has(a.raftId)) {
      if (a.added && !st.retired.includes(a.raftId)) st.retired.push(a.raftId);
      delete st.pods[p];
    }
  }

  const bootstrap = !input.statefulSetExists && input.state === undefined;
  const needed: string[] = [];
  for (let i = 0; i < input.replicas; i++) {
    const p = podName(input.cluster, i);
    if (st.pods[p]) continue;
    const reported = input.reportedIds?.[p];
    if (reported !== undefined) {
      // The table was lost (ConfigMap deleted): the running node knows who it is.
      st.pods[p] = { raftId: reported, join: true, added: inRaft.has(reported) };
      st.nextRaftId = Math.max(st.nextRaftId, reported + 1);
      continue;
    }
    // A running pod with no known id must not be handed a new one (its data belongs to an old id):
    // wait until it reports; only pods that do not exist yet get fresh ids.
    if (!bootstrap && existing.has(p)) continue;
    needed.push(p);
  }
  for (const p of needed) {
    const id = st.nextRaftId++;
    st.pods[p] = { raftId: id, join: !bootstrap, added: bootstrap };
    if (bootstrap) st.bootstrap.push(id);
  }
  st.retired.sort((a, b) => a - b);
  return st;
}

/** The members ConfigMap data: state.json + one env file per pod (what its node reads at start). */
export function membersData(c: KvsCluster, st: MembersState): Record<string, string> {
  const data: Record<string, string> = {};
  const pods = sortedPods(st.pods);
  const byId = new Map(pods.map((p) => [st.pods[p]!.raftId, p]));
  const bootstrapPeers = st.bootstrap
    .filter((id) => byId.has(id))
    .map((id) => `${id}=${raftAddress(c, byId.get(id)!)}`)
    .join(',');
  const allPeers = pods.map((p) => `${st.pods[p]!.raftId}=${raftAddress(c, p)}`).join(',');
  for (const p of pods) {
    const a = st.pods[p]!;
    const lines = [`# ${p}: written by kvs-operator; never edit (raft ids are never reused)`, `KVS_RAFT_ID=${a.raftId}`];
    if (a.join) lines.push('KVS_JOIN=true', `KVS_PEERS=${allPeers}`);
    else lines.push(`KVS_PEERS=${bootstrapPeers || allPeers}`);
    data[p] = lines.join('\n') + '\n';
  }
  const canonical: MembersState = {
    nextRaftId: st.nextRaftId,
    pods: Object.fromEntries(pods.map((p) => [p, st.pods[p]!])),
    bootstrap: st.bootstrap,
    retired: st.retired,
    ...(st.lastReplacement ? { lastReplacement: st.lastReplacement } : {}),
  };
  data[MEMBERS_STATE_KEY] = JSON.stringify(canonical);
  return data;
}
